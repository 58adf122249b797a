# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/emulator-in-ci.md: its CI jobs run what this repository runs for emulator/examples/user-ci, and its shell smoke
test (the emulator started from its command line) runs for real against emulator/examples/user-ci/provision.yml."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shlex
import subprocess
import sys

import yaml

from conftest import COLLECTION_ROOT

GUIDE = os.path.join(COLLECTION_ROOT, 'docs', 'emulator-in-ci.md')
USER_CI = os.path.join(COLLECTION_ROOT, 'emulator', 'examples', 'user-ci')
RUN_SH = os.path.join(COLLECTION_ROOT, 'tests', 'run.sh')
SMOKE = 'provisioning-smoke.sh'


def code_blocks(language):
    with open(GUIDE) as handle:
        text = handle.read()
    return re.findall(r'^```%s\n(.*?)^```$' % language, text, re.M | re.S)


def block_starting(language, first_line):
    blocks = [block for block in code_blocks(language) if block.startswith(first_line)]
    assert len(blocks) == 1, 'docs/emulator-in-ci.md needs one %s block starting %r' % (language, first_line)
    return blocks[0]


def user_ci_command():
    """The command tests/run.sh runs in emulator/examples/user-ci."""
    with open(RUN_SH) as handle:
        match = re.search(r'\(cd emulator/examples/user-ci && ([^)]+)\)', handle.read())
    assert match, 'tests/run.sh no longer runs emulator/examples/user-ci as this test expects'
    return match.group(1).strip()


def words(command):
    return shlex.split(' '.join(command.split('\\\n')))


def test_the_ci_jobs_run_what_the_suite_runs_for_user_ci():
    expected = user_ci_command()
    github = yaml.safe_load(block_starting('yaml', '# .github/workflows/'))
    steps = github['jobs']['emulator']['steps']
    runs = [(step.get('working-directory'), step['run'].strip()) for step in steps if 'run' in step]
    gitlab = yaml.safe_load(block_starting('yaml', '# .gitlab-ci.yml'))
    script = gitlab['provisioning-playbooks']['script']

    for name, commands in (('GitHub Actions', [run for dummy, run in runs]), ('GitLab CI', script)):
        assert expected in commands, '%s does not run %r: %s' % (name, expected, commands)
        assert 'bash %s' % SMOKE in commands, name
        installs = [word for command in commands for word in words(command)] if commands else []
        assert 'entra-graph-emulator' in ' '.join(installs) and 'pytest' in installs and 'ansible-core>=2.19' in installs
        assert 'entra.provisioning' in installs, '%s does not install the collection' % name
    # The tests and the smoke script run in the same directory, the one holding the copies of user-ci's files.
    directories = set(directory for directory, run in runs if run in (expected, 'bash %s' % SMOKE))
    assert directories == {'tests/provisioning'}
    assert script.index('cd tests/provisioning') < script.index(expected)

    # The walkthrough shows user-ci's files as they are.
    with open(os.path.join(USER_CI, 'pytest.ini')) as handle:
        assert block_starting('ini', '[pytest]').strip() in handle.read()
    with open(os.path.join(USER_CI, 'test_provision.py')) as handle:
        source = handle.read()
    for block in code_blocks('python'):
        assert block.strip() in source, 'docs/emulator-in-ci.md quotes test_provision.py out of date:\n%s' % block


def test_the_smoke_script_runs_against_an_emulator_started_from_the_command_line(tmp_path, run_playbook):
    script = tmp_path / SMOKE
    script.write_text(block_starting('bash', '# %s' % SMOKE))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'],
               ANSIBLE_COLLECTIONS_PATH=run_playbook.collections, ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
    for name in ('AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST', 'ENTRA_GRAPH_ENDPOINT',
                 'ENTRA_CA_PATH', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
        env.pop(name, None)
    run = subprocess.run(['bash', str(script)], cwd=USER_CI, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-6000:]
    recaps = re.findall(r'^localhost\s+: ok=\d+\s+changed=(\d+)', run.stdout, re.M)
    assert len(recaps) == 2 and int(recaps[0]) > 0 and recaps[1] == '0', run.stdout[-6000:]
    assert 'ci-smoke-token' not in run.stdout
