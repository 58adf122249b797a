# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example playbooks under ansible-runner (the engine AWX and Automation Platform run jobs with), with the
credential type awx/credential_type_entra.yml injected as AWX injects a custom credential, against the emulator.

AWX renders the credential type's injectors with the credential's inputs: each ``file`` template is written to a file
of the job's private data directory (readable by the job's user only) and its path is ``{{ tower.filename.<name> }}``;
each ``env`` template becomes an environment variable of the job, which runner reads from ``env/envvars``
(https://docs.ansible.com/automation-controller/latest/html/userguide/credential_types.html,
https://ansible.readthedocs.io/projects/runner/en/latest/intro/#env-envvars). Secrets reach the playbook through that
environment only: never on the command line, never in extra vars.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import uuid

import pytest
import yaml

from jinja2.sandbox import ImmutableSandboxedEnvironment

from collection_under_test import COLLECTION_ROOT, EXAMPLES
from conftest import collections_path
from sign_in_credentials import ClientCertificate, FederatedIssuer
from entra_graph_emulator.seeding import JOB_STATES

CREDENTIAL_TYPE = os.path.join(COLLECTION_ROOT, 'awx', 'credential_type_entra.yml')
RUNNER = os.path.join(os.path.dirname(sys.executable), 'ansible-runner')


def load_credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def inject(credential_type, inputs, private_data_dir):
    """The environment AWX gives a job for a credential of ``credential_type`` with ``inputs``.

    Inputs the credential does not set render as empty strings, as AWX renders them.
    """
    namespace = dict((field['id'], '') for field in credential_type['inputs']['fields'])
    namespace.update(inputs)
    templates = ImmutableSandboxedEnvironment()
    injectors = credential_type['injectors']
    filenames = {}
    env_dir = os.path.join(private_data_dir, 'env')
    os.makedirs(env_dir, exist_ok=True)
    for key, template in (injectors.get('file') or {}).items():
        name = key.split('.', 1)[1]
        path = os.path.join(env_dir, 'credential_%s' % name)
        with open(path, 'w') as handle:
            handle.write(templates.from_string(template).render(namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        filenames[name] = path
    namespace['tower'] = namespace['awx'] = dict(filename=filenames)
    return dict((name, templates.from_string(template).render(namespace)) for name, template in injectors['env'].items())


class RunnerJob:
    def __init__(self, private_data_dir, completed):
        self.private_data_dir = private_data_dir
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.events = []
        for path in glob.glob(os.path.join(private_data_dir, 'artifacts', 'job', 'job_events', '*.json')):
            with open(path) as handle:
                self.events.append(json.load(handle))
        self.events.sort(key=lambda event: event['counter'])

    def ok(self, task):
        return [event['event_data'] for event in self.events
                if event['event'] == 'runner_on_ok' and event['event_data'].get('task') == task]

    @property
    def artifact_data(self):
        stats = [event['event_data'] for event in self.events if event['event'] == 'playbook_on_stats']
        return stats[-1].get('artifact_data') if stats else None

    def everything(self):
        """All the job's output (stdout, events, artifacts), to look for secrets.

        Except runner's record of the job's command and environment (artifacts/<ident>/command, mode 0600): it holds
        the environment the job was given, like env/envvars, and goes away with the private data directory.
        """
        text = [self.stdout]
        for path in glob.glob(os.path.join(self.private_data_dir, 'artifacts', '**', '*'), recursive=True):
            if os.path.isfile(path) and os.path.basename(path) != 'command':
                with open(path, errors='replace') as handle:
                    text.append(handle.read())
        return '\n'.join(text)

    def __repr__(self):
        return 'RunnerJob(rc=%s)\n%s' % (self.rc, self.stdout[-6000:])


def run_job(tmp_path, emulator, inputs, playbook, inventory=None):
    """One AWX-style job: a private data directory with the project, the inventory and the injected credential."""
    private_data_dir = str(tmp_path / ('job-%s' % uuid.uuid4().hex[:8]))
    os.makedirs(os.path.join(private_data_dir, 'project'))
    for name in os.listdir(EXAMPLES):
        if name.endswith('.yml'):
            shutil.copy(os.path.join(EXAMPLES, name), os.path.join(private_data_dir, 'project', name))
    os.makedirs(os.path.join(private_data_dir, 'inventory'))
    if inventory:
        shutil.copy(os.path.join(EXAMPLES, inventory), os.path.join(private_data_dir, 'inventory', inventory))
    else:
        with open(os.path.join(private_data_dir, 'inventory', 'hosts'), 'w') as handle:
            handle.write('localhost ansible_connection=local\n')
    envvars = inject(load_credential_type(), inputs, private_data_dir)
    # What the execution environment provides: the collection installed, and the job's own home for caches.
    envvars.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path(str(tmp_path)),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING='False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
        ANSIBLE_INVENTORY_UNPARSED_FAILED='True',
        ANSIBLE_NOCOLOR='1',
        ENTRA_TOKEN_CACHE_PATH=os.path.join(private_data_dir, 'token_cache.json'),
    )
    with open(os.path.join(private_data_dir, 'env', 'envvars'), 'w') as handle:
        yaml.safe_dump(envvars, handle)
    os.chmod(os.path.join(private_data_dir, 'env', 'envvars'), stat.S_IRUSR | stat.S_IWUSR)
    environment = dict((name, value) for name, value in os.environ.items()
                       if not name.startswith(('AZURE_', 'ENTRA_', 'ANSIBLE_')))
    environment['PATH'] = os.path.dirname(sys.executable) + os.pathsep + environment.get('PATH', '')
    completed = subprocess.run([RUNNER, 'run', private_data_dir, '-p', playbook, '--ident', 'job'], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                               check=False)
    return RunnerJob(private_data_dir, completed)


def connection_inputs(emulator, **inputs):
    """The inputs an AWX user types for the emulator: its tenant, hosts and CA, plus the credential."""
    with open(emulator.ca_path) as handle:
        ca_certificates = handle.read()
    return dict(inputs, tenant_id=emulator.tenant_id, authority_host=emulator.info['authority_host'],
                graph_endpoint=emulator.info['graph_endpoint'], ca_certificates=ca_certificates)


@pytest.fixture
def seeded(fresh_emulator):
    """Service principals with a job in every state (slow cycles keep them there)."""
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': 2400})
    ids = fresh_emulator.seed(len(JOB_STATES) + 3, len(JOB_STATES), return_ids=True)['ids']
    return ids


def test_the_report_runs_with_a_client_secret_credential(tmp_path, fresh_emulator, seeded):
    app = fresh_emulator.info['apps']['read_only']
    inputs = connection_inputs(fresh_emulator, client_id=app['client_id'], client_secret=app['client_secret'])

    job = run_job(tmp_path, fresh_emulator, inputs, 'provisioning_health_report.yml')

    assert job.rc == 0, job
    report = job.artifact_data['entra_provisioning_report']
    assert report['jobs'] == len(JOB_STATES)
    assert report['by_health']['quarantined'] == 1 and report['by_health']['healthy'] == 1
    assert sorted(report['attention']) == sorted([seeded[JOB_STATES.index('quarantine')], seeded[JOB_STATES.index('failing')]])
    assert len(job.ok('Show the jobs that need attention')) == 1
    assert app['client_secret'] not in job.everything()
    assert fresh_emulator.writes() == []


def test_the_inventory_plugin_and_a_playbook_run_with_a_certificate_credential(tmp_path, fresh_emulator, seeded):
    credential = ClientCertificate('entra-provisioning-awx')
    client_id = str(uuid.uuid4())
    fresh_emulator.register_app(client_id=client_id, roles=fresh_emulator.info['apps']['read_only']['roles'],
                                certificate_pem=credential.certificate_pem.decode())
    password = 'awx-key-password'
    inputs = connection_inputs(fresh_emulator, client_id=client_id, client_certificate_password=password,
                               client_certificate=credential.bundle(password).decode())

    job = run_job(tmp_path, fresh_emulator, inputs, 'quarantined_apps.yml', inventory='tenant.entra_synchronization.yml')

    assert job.rc == 0, job
    shown = job.ok('Show why the job is quarantined and what its last cycle did')
    assert [event['host'] for event in shown] == [seeded[JOB_STATES.index('quarantine')]]
    assert shown[0]['res']['msg'].split(': ', 1)[1].startswith('Quarantined since ')
    assert len(job.ok('Check that the job is still quarantined')) == 1
    assert password not in job.everything() and 'PRIVATE KEY' not in job.everything()
    # The app has no secret: it signed in with the certificate the file injector wrote.
    logins = [entry for entry in fresh_emulator.requests_log() if entry['kind'] == 'login']
    tokens = [entry['status'] for entry in logins if entry['path'].endswith('/oauth2/v2.0/token')]
    assert tokens == [200], logins  # one token for the inventory and the play: the token cache is shared


def test_the_report_runs_with_workload_identity(tmp_path, fresh_emulator, seeded):
    cluster = FederatedIssuer('https://oidc.aks.example.test/tenant/cluster', 'system:serviceaccount:awx:awx-ee')
    client_id = cluster.register(fresh_emulator, fresh_emulator.info['apps']['read_only']['roles'])
    # What the platform (AKS workload identity) projects into the execution node's pod.
    token_file = tmp_path / 'azure-identity-token'
    token_file.write_text(cluster.token())
    inputs = connection_inputs(fresh_emulator, client_id=client_id, federated_token_file=str(token_file))

    job = run_job(tmp_path, fresh_emulator, inputs, 'provisioning_health_report.yml')

    assert job.rc == 0, job
    assert job.artifact_data['entra_provisioning_report']['jobs'] == len(JOB_STATES)
