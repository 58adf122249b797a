# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the integration tests: the Graph emulator (a real HTTPS server in a subprocess) and real
``ansible-playbook`` runs against it, with the collection on ANSIBLE_COLLECTIONS_PATH."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from emulator_directory import Directory
from collection_under_test import COLLECTION_ROOT, SOURCE_ROOT, TESTS_DIR
from role_scenario import CYCLE_SECONDS, ROLE_PLAYBOOK, SCIM_TOKEN

CALLBACK_DIR = os.path.join(TESTS_DIR, 'integration', 'callback_plugins')


def collections_path(scratch):
    """The directory holding ansible_collections/entra/provisioning: the real one, or a symlink tree to this checkout."""
    parts = COLLECTION_ROOT.split(os.sep)
    if len(parts) >= 3 and parts[-3] == 'ansible_collections':
        return os.sep.join(parts[:-3])
    namespace_dir = os.path.join(scratch, 'ansible_collections', 'entra')
    os.makedirs(namespace_dir, exist_ok=True)
    link = os.path.join(namespace_dir, 'provisioning')
    if not os.path.exists(link):
        os.symlink(COLLECTION_ROOT, link)
    return scratch


class PlaybookRun:
    def __init__(self, rc, output, results):
        self.rc = rc
        self.output = output
        self.results = results

    def result(self, task_name):
        """The result of the last run of the task with this name."""
        matches = [entry for entry in self.results if entry['task'] == task_name]
        if not matches:
            raise KeyError('no task named %r ran; tasks: %s' % (task_name, [entry['task'] for entry in self.results]))
        return matches[-1]

    def __repr__(self):
        return 'PlaybookRun(rc=%s)\n%s' % (self.rc, self.output[-6000:])


class PlaybookRunner:
    """Runs ansible-playbook for real, with the emulator's connection settings exported."""

    def __init__(self, scratch, emulator, token_cache_path):
        self.scratch = scratch
        self.emulator = emulator
        self.token_cache_path = token_cache_path
        self.collections = collections_path(scratch)
        self.counter = 0

    def environment(self, extra=None):
        env = dict(os.environ)
        env.update(self.emulator.connection_env())
        env.update(
            ANSIBLE_COLLECTIONS_PATH=self.collections,
            ENTRA_TOKEN_CACHE_PATH=self.token_cache_path,
            ANSIBLE_CALLBACK_PLUGINS=CALLBACK_DIR,
            ANSIBLE_CALLBACKS_ENABLED='result_recorder',
            ANSIBLE_LOCALHOST_WARNING='False',
            ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_FORCE_COLOR='0',
            ANSIBLE_RETRY_FILES_ENABLED='False',
            ANSIBLE_DEPRECATION_WARNINGS='False',
        )
        if extra:
            env.update(extra)
        return env

    def command(self, playbook_path, check=False, diff=False, verbosity=0, extra_vars=None):
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), playbook_path]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        if extra_vars:
            command.extend(['-e', json.dumps(extra_vars)])
        return command

    def write_playbook(self, text):
        self.counter += 1
        path = os.path.join(self.scratch, 'playbook_%03d.yml' % self.counter)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def __call__(self, playbook, check=False, diff=False, verbosity=0, extra_vars=None, env=None, timeout=600):
        playbook_path = playbook if os.path.isfile(playbook) else self.write_playbook(playbook)
        results_path = os.path.join(self.scratch, 'results_%03d.jsonl' % self.counter)
        if os.path.exists(results_path):
            os.unlink(results_path)
        environment = self.environment(env)
        environment['RESULT_RECORDER_FILE'] = results_path
        completed = subprocess.run(self.command(playbook_path, check, diff, verbosity, extra_vars), env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False,
                                   universal_newlines=True)
        results = []
        if os.path.exists(results_path):
            with open(results_path) as handle:
                results = [json.loads(line) for line in handle if line.strip()]
        return PlaybookRun(completed.returncode, completed.stdout, results)


def pytest_configure(config):
    del config
    if os.environ.get('ENTRA_TEST_COLLECTION'):
        # An installed copy has the MANIFEST.json that ansible-galaxy writes; a checkout has galaxy.yml instead.
        if not os.path.isfile(os.path.join(COLLECTION_ROOT, 'MANIFEST.json')) or COLLECTION_ROOT.split(os.sep)[-3:-2] != ['ansible_collections']:
            raise pytest.UsageError('ENTRA_TEST_COLLECTION=%s is not an installed collection (.../ansible_collections/entra/provisioning '
                                    'with a MANIFEST.json): install the tarball with ansible-galaxy collection install -p DIR' % COLLECTION_ROOT)
        root = os.path.dirname(os.path.dirname(os.path.dirname(COLLECTION_ROOT)))
        for variable in ('PYTHONPATH', 'ANSIBLE_COLLECTIONS_PATH'):
            # Ansible loads collections from both: another copy there would be tested instead of the installed one.
            others = [entry for entry in os.environ.get(variable, '').split(os.pathsep)
                      if entry and os.path.isdir(os.path.join(entry, 'ansible_collections', 'entra', 'provisioning'))
                      and os.path.realpath(entry) != os.path.realpath(root)]
            if others:
                raise pytest.UsageError('%s holds another copy of entra.provisioning (%s): with ENTRA_TEST_COLLECTION, give %s '
                                        'there instead' % (variable, ', '.join(others), root))


@pytest.fixture(scope='session')
def collection_tarball(tmp_path_factory):
    """The collection's tarball: the one ENTRA_TEST_COLLECTION_TARBALL names (tests/run.sh built and installed it),
    or one built now from this checkout with ansible-galaxy collection build."""
    given = os.environ.get('ENTRA_TEST_COLLECTION_TARBALL')
    if given:
        return given
    scratch = str(tmp_path_factory.mktemp('collection-build'))
    completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy'), 'collection', 'build', '--output-path',
                                scratch, SOURCE_ROOT], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:]
    tarball, = [os.path.join(scratch, name) for name in os.listdir(scratch) if name.endswith('.tar.gz')]
    return tarball


@pytest.fixture(scope='session')
def emulator(graph_emulator_process):
    """The session's emulator (the entra-graph-emulator pytest plugin's process)."""
    return graph_emulator_process


@pytest.fixture
def fresh_emulator(graph_emulator):
    """The emulator back at its seed state, with no faults and an empty request log (the plugin's reset)."""
    return graph_emulator


@pytest.fixture(scope='session')
def token_cache_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp('token-cache') / 'token_cache.json')


@pytest.fixture
def run_playbook(tmp_path, fresh_emulator, token_cache_path):
    return PlaybookRunner(str(tmp_path), fresh_emulator, token_cache_path)


# The role scenario (role_scenario.py): a tenant with short provisioning cycles, and a runner of its playbook.
@pytest.fixture
def tenant(fresh_emulator):
    # The emulator is shared by the session and not every test resets it: put the cycle length back for later tests.
    before = fresh_emulator.control('PUT', '/settings', {})['cycle_seconds']
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': CYCLE_SECONDS})
    yield Directory(fresh_emulator)
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': before})


@pytest.fixture
def provision(run_playbook, tenant):
    """Runs ROLE_PLAYBOOK; ``tenant`` makes the emulator's cycles short, so waiting for the first one takes seconds."""
    del tenant

    def run(check=False, diff=False, verbosity=0, state='present', playbook=ROLE_PLAYBOOK):
        return run_playbook(playbook, check=check, diff=diff, verbosity=verbosity, extra_vars=dict(state=state),
                            env=dict(SCIM_TOKEN=SCIM_TOKEN))
    return run
