"""A user's own CI test of a provisioning playbook, written with the entra-graph-emulator pytest plugin.

Install: ``pip install entra-graph-emulator ansible-core msal requests`` and
``ansible-galaxy collection install entra.provisioning``; then ``pytest``. The plugin starts one emulator for
the session; the ``graph_emulator`` fixture hands it to each test reset to its start-up state.
"""

import os
import shutil
import subprocess
import sys

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "provision.yml")
SCIM_TOKEN = "hr-scim-token-that-must-never-be-printed"


def ansible_playbook(env, *args):
    """Run the playbook with the emulator's connection settings; returns the completed process."""
    command = shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) or "ansible-playbook"
    return subprocess.run([command, PLAYBOOK, *args], env=dict(os.environ, **env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600, check=False)


def test_first_run_provisions_and_second_run_changes_nothing(graph_emulator, graph_emulator_env, tmp_path):
    env = dict(graph_emulator_env, HR_SCIM_TOKEN=SCIM_TOKEN, ENTRA_TOKEN_CACHE_PATH=str(tmp_path / "tokens.json"))

    first = ansible_playbook(env)
    assert first.returncode == 0, first.stdout
    writes = ["%s %s" % (entry["method"], entry["path"].split("/")[-1]) for entry in graph_emulator.writes()]
    assert writes == ["POST instantiate", "PUT secrets", "POST jobs", "POST validateCredentials", "POST start"]
    assert SCIM_TOKEN not in first.stdout

    graph_emulator.clear_log()
    second = ansible_playbook(env, "--diff")
    assert second.returncode == 0, second.stdout
    assert graph_emulator.writes() == []


def test_check_mode_writes_nothing(graph_emulator, graph_emulator_env, tmp_path):
    env = dict(graph_emulator_env, HR_SCIM_TOKEN=SCIM_TOKEN, ENTRA_TOKEN_CACHE_PATH=str(tmp_path / "tokens.json"))
    preview = ansible_playbook(env, "--check", "--diff")
    assert preview.returncode == 0, preview.stdout
    assert graph_emulator.writes() == []


def test_a_throttled_tenant_still_converges(graph_emulator, graph_emulator_env, tmp_path):
    # Every third Graph request answered 429 with Retry-After: the collection waits and carries on.
    graph_emulator.set_faults({"rules": [{"kind": "graph", "action": "throttle", "every": 3, "retry_after": 0.2}]})
    env = dict(graph_emulator_env, HR_SCIM_TOKEN=SCIM_TOKEN, ENTRA_TOKEN_CACHE_PATH=str(tmp_path / "tokens.json"))
    run = ansible_playbook(env)
    assert run.returncode == 0, run.stdout
    assert any(entry["status"] == 429 for entry in graph_emulator.requests_log())
