# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret hygiene: no credential, access token or provisioning secret in anything a run shows or leaves behind.

Every module and the role run at -vvvv --diff, cleanly and with injected failures (Graph 500s, a 403, a dropped
connection, the token endpoint answering 500, a wrong client secret). Then none of these may appear in stdout or
stderr, in the task results (diffs included), or in any file under the run's scratch directory and its HOME (where
Ansible keeps ~/.ansible/tmp), except the token cache, which must be mode 0600:

- the client secret (given through the environment, and as a module option from a variable);
- the certificate's private key and its password (certificate credential);
- every access token (from the token cache, one given as the access_token option, and anything shaped like a JWT);
- the provisioning secret (SecretToken), given to synchronization_secret and to the role.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import uuid

import pytest

from sign_in_credentials import ClientCertificate
from playbook_tasks import NON_GALLERY_TEMPLATE, new_service_principal

SCIM_TOKEN = 'scim-bearer-hygiene-71c9e0d4b2a8'
WRONG_SECRET = 'wrong-client-secret-hygiene-5a3f'
CERT_PASSWORD = 'cert-password-hygiene-9d2e'
CYCLE_SECONDS = 3
JWT = re.compile(r'eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}')

# Ansible's -vvvv prints module arguments (masked) and the task's variables come from the environment, as in real
# playbooks: a secret written literally in a playbook file would be in that file, which is the user's own doing.
MODULES_PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  vars:
    scim_token: "{{ lookup('ansible.builtin.env', 'TEST_SCIM_TOKEN') }}"
    client_secret: "{{ lookup('ansible.builtin.env', 'TEST_CLIENT_SECRET') }}"
  tasks:
    - name: Application from template, the secret as an option
      entra.provisioning.application_from_template:
        template_id: %(template)s
        display_name: Hygiene SCIM %(suffix)s
        client_secret: "{{ client_secret }}"
      ignore_errors: true
    - name: Job started
      entra.provisioning.synchronization_job:
        service_principal_id: %(sp_id)s
        template_id: scim
        state: started
      ignore_errors: true
    - name: Secrets set
      entra.provisioning.synchronization_secret:
        service_principal_id: %(sp_id)s
        secrets:
          BaseAddress: https://scim.contoso.test/v2
          SecretToken: "{{ scim_token }}"
      ignore_errors: true
    - name: Job info
      entra.provisioning.synchronization_job_info:
        service_principal_id: %(sp_id)s
        include_schema: true
      ignore_errors: true
    - name: Tenant scan
      entra.provisioning.synchronization_job_info:
      ignore_errors: true
    - name: Job info with a certificate
      entra.provisioning.synchronization_job_info:
        service_principal_id: %(sp_id)s
        client_id: "{{ lookup('ansible.builtin.env', 'TEST_CERT_CLIENT_ID') }}"
        client_secret: ""
        client_certificate_path: "{{ lookup('ansible.builtin.env', 'TEST_CERT_PATH') }}"
        client_certificate_password: "{{ lookup('ansible.builtin.env', 'TEST_CERT_PASSWORD') }}"
      ignore_errors: true
    - name: Job info with an access token
      entra.provisioning.synchronization_job_info:
        service_principal_id: %(sp_id)s
        client_secret: ""
        access_token: "{{ lookup('ansible.builtin.env', 'TEST_ACCESS_TOKEN') }}"
      ignore_errors: true
    - name: Job info with a wrong secret
      entra.provisioning.synchronization_job_info:
        service_principal_id: %(sp_id)s
        client_secret: "{{ lookup('ansible.builtin.env', 'TEST_WRONG_SECRET') }}"
      ignore_errors: true
'''

ROLE_PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  vars:
    scim_token: "{{ lookup('ansible.builtin.env', 'TEST_SCIM_TOKEN') }}"
  roles:
    - role: entra.provisioning.application_provisioning
      application_provisioning_display_name: Hygiene role %(suffix)s
      application_provisioning_client_secret: "{{ lookup('ansible.builtin.env', 'TEST_CLIENT_SECRET') }}"
      application_provisioning_secrets:
        BaseAddress: https://scim.contoso.test/v2
        SecretToken: "{{ scim_token }}"
      application_provisioning_wait_timeout: 60
'''

# The failures injected into the "faulted" runs: each fires once, on a call that carries or follows a secret.
GRAPH_FAULTS = dict(rules=[
    dict(name='secrets-500', kind='graph', method='PUT', path=r'/synchronization/secrets$', action='error', status=500, count=1),
    dict(name='job-create-403', kind='graph', method='POST', path=r'/synchronization/jobs$', action='error', status=403,
         code='Authorization_RequestDenied', message='Insufficient privileges to complete the operation.', count=1),
    dict(name='jobs-drop', kind='graph', method='GET', path=r'/synchronization/jobs$', action='drop', count=1),
    dict(name='templates-500', kind='graph', method='GET', path=r'^/v1\.0/applicationTemplates', action='error', status=500, count=1),
])
# The role: its secrets are sent, then validating them fails (every time, whatever retries the module makes).
ROLE_FAULTS = dict(rules=[
    dict(name='jobs-drop', kind='graph', method='GET', path=r'/synchronization/jobs$', action='drop', count=1),
    dict(name='validate-500', kind='graph', method='POST', path=r'/validateCredentials$', action='error', status=500),
])
# A short Retry-After keeps the retries of each task brief.
LOGIN_FAULTS = dict(rules=[dict(name='token-500', kind='login', method='POST', path=r'/token$', action='error', status=500,
                                retry_after=0.05)])


def certificate_credential(folder):
    """A new key and self-signed certificate in one PEM file (the key encrypted with CERT_PASSWORD); returns its paths."""
    credential = ClientCertificate('entra-provisioning-hygiene')
    encrypted = credential.key_pem(CERT_PASSWORD)
    path = os.path.join(folder, 'client.pem')
    with open(path, 'wb') as handle:
        handle.write(encrypted + credential.certificate_pem)
    return path, credential.certificate_pem.decode(), [encrypted.decode(), credential.key_pem().decode()]


def key_fragments(pem_texts):
    """Lines of the base64 body of each PEM private key: any of them showing up is a leak."""
    fragments = []
    for text in pem_texts:
        fragments.extend(line for line in text.splitlines() if line and not line.startswith('-----') and len(line) >= 32)
    return fragments


def cached_tokens(cache_path):
    with open(cache_path) as handle:
        cache = json.load(handle)
    return [entry['secret'] for msal_cache in cache['token_caches'].values()
            for entry in (msal_cache.get('AccessToken') or {}).values()]


def leaks(text, secrets):
    """The names of the secrets found in ``text``, and any JWT-shaped string."""
    found = sorted(set(name for name, value in secrets if value and value in text))
    if JWT.search(text):
        found.append('a JWT-shaped string')
    return found


@pytest.fixture
def tenant(fresh_emulator):
    before = fresh_emulator.control('PUT', '/settings', {})['cycle_seconds']
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': CYCLE_SECONDS})
    yield fresh_emulator
    fresh_emulator.control('PUT', '/settings', {'cycle_seconds': before})


def test_no_secret_in_output_results_diffs_or_files(run_playbook, tenant, tmp_path, tmp_path_factory):
    emulator = tenant
    info = emulator.info
    inputs = str(tmp_path_factory.mktemp('hygiene-inputs'))  # the user's own files, outside the scanned tree
    cert_path, certificate_pem, key_pems = certificate_credential(inputs)
    cert_client = str(uuid.uuid4())
    emulator.register_app(client_id=cert_client, roles=['Application.Read.All', 'Synchronization.Read.All'], certificate_pem=certificate_pem)
    home = tmp_path / 'home'
    home.mkdir()
    cache_path = str(home / '.ansible' / 'entra_provisioning' / 'token_cache.json')
    given_token = _token_for(emulator)
    env = dict(HOME=str(home), ENTRA_TOKEN_CACHE_PATH=cache_path, TEST_SCIM_TOKEN=SCIM_TOKEN,
               TEST_CLIENT_SECRET=info['client_secret'], TEST_WRONG_SECRET=WRONG_SECRET, TEST_CERT_CLIENT_ID=cert_client,
               TEST_CERT_PATH=cert_path, TEST_CERT_PASSWORD=CERT_PASSWORD, TEST_ACCESS_TOKEN=given_token)

    runs, fired = [], set()
    for index, (faults, playbook) in enumerate([
            (GRAPH_FAULTS, MODULES_PLAYBOOK), ({}, MODULES_PLAYBOOK), (ROLE_FAULTS, ROLE_PLAYBOOK), ({}, ROLE_PLAYBOOK)]):
        emulator.set_faults(faults)
        sp_id = new_service_principal(emulator)
        text = playbook % dict(template=NON_GALLERY_TEMPLATE, suffix=index, sp_id=sp_id)
        runs.append(run_playbook(text, diff=True, verbosity=4, env=env))
        fired.update(rule['name'] for rule in emulator.faults_state()['rules'] if rule['fired'])
    # The token service failing, with a cold cache.
    emulator.set_faults(LOGIN_FAULTS)
    runs.append(run_playbook(MODULES_PLAYBOOK % dict(template=NON_GALLERY_TEMPLATE, suffix='login', sp_id=new_service_principal(emulator)),
                             diff=True, verbosity=4, env=dict(env, ENTRA_TOKEN_CACHE_PATH=cache_path + '.cold')))
    emulator.set_faults({})

    # The runs did meet the failures and the successes they were meant to.
    faulted, clean, faulted_role, clean_role, login_down = runs
    assert _status(faulted, 'Secrets set') == 'failed' and 'HTTP 500' in _msg(faulted, 'Secrets set')
    assert _status(faulted, 'Job started') == 'failed' and 'HTTP 403' in _msg(faulted, 'Job started')
    assert _status(clean, 'Secrets set') == 'changed' and _status(clean, 'Job started') == 'changed', clean
    assert _status(clean, 'Job info with a certificate') == 'ok' and _status(clean, 'Job info with an access token') == 'ok', clean
    assert 'AADSTS7000215' in _msg(clean, 'Job info with a wrong secret')
    assert faulted_role.rc != 0 and clean_role.rc == 0, clean_role
    assert 'token endpoint' in _msg(login_down, 'Job info')
    assert fired == set(rule['name'] for rule in GRAPH_FAULTS['rules'] + ROLE_FAULTS['rules']), fired
    assert any('diff' in entry['result'] for run in (clean, clean_role) for entry in run.results), 'no task returned a diff'

    tokens = cached_tokens(cache_path) + [given_token]
    assert len(tokens) >= 3  # the demo client's, the certificate client's, and the one given as an option
    secrets = ([('client secret', info['client_secret']), ('wrong client secret', WRONG_SECRET),
                ('certificate password', CERT_PASSWORD), ('SecretToken', SCIM_TOKEN)]
               + [('certificate private key', fragment) for fragment in key_fragments(key_pems)]
               + [('access token', token) for token in tokens]
               + [('access token signature', token.rsplit('.', 1)[1]) for token in tokens])

    for number, run in enumerate(runs):
        assert leaks(run.output, secrets) == [], 'run %d printed a secret:\n%s' % (number, run.output[-3000:])
        assert leaks(json.dumps(run.results), secrets) == [], 'run %d returned a secret in a result or diff' % number

    scanned = 0
    token_caches = {cache_path, cache_path + '.cold'}
    for folder, dummy, files in os.walk(str(tmp_path)):
        for name in files:
            path = os.path.join(folder, name)
            if path in token_caches:
                # The token cache holds access tokens (its purpose), never a credential or a provisioning secret.
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
                with open(path) as handle:
                    assert leaks(handle.read(), [item for item in secrets if item[0] not in ('access token', 'access token signature')]) in (
                        [], ['a JWT-shaped string']), path
                continue
            with open(path, 'rb') as handle:
                text = handle.read().decode('utf-8', 'replace')
            scanned += 1
            assert leaks(text, secrets) == [], '%s holds a secret' % path
    assert scanned >= len(runs) * 2  # playbooks and result files at least
    assert os.path.exists(cache_path)


def _token_for(emulator):
    from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
    from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings
    info = emulator.info
    settings = ConnectionSettings(dict(tenant_id=info['tenant_id'], client_id=info['client_id'], client_secret=info['client_secret'],
                                       authority_host=info['authority_host'], graph_endpoint=info['graph_endpoint'],
                                       ca_path=emulator.ca_path, token_cache=False))
    return GraphClient(settings).tokens.token()


def _status(run, name):
    return run.result(name)['status']


def _msg(run, name):
    return run.result(name)['result'].get('msg') or ''
