# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The connection and authentication options shared by every module, and their validation.

Documented once in ``plugins/doc_fragments/graph.py``; every option here must be there too.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound


def env_fallback(*names):
    """The first of these environment variables that is set and not empty (Ansible's env_fallback takes an empty one:
    an AWX credential renders its unused fields empty, and ``export ENTRA_CLOUD=`` means "not set" to a shell user)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


# Login and Graph hosts per national cloud (learn.microsoft.com/graph/deployments).
CLOUDS = {
    'public': ('https://login.microsoftonline.com', 'https://graph.microsoft.com'),
    'usgov': ('https://login.microsoftonline.us', 'https://graph.microsoft.us'),
    'usgov_dod': ('https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'),
    'china': ('https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'),
}

# Credential kinds, in the order they are described to users, with the option that selects each one.
CREDENTIAL_OPTIONS = (
    ('client_secret', 'client_secret'),
    ('certificate', 'client_certificate_path'),
    ('federated_token', 'federated_token_file'),
    ('managed_identity', 'managed_identity'),
    ('access_token', 'access_token'),
)

GRAPH_ARGUMENT_SPEC = dict(
    tenant_id=dict(type='str', fallback=(env_fallback, ['AZURE_TENANT_ID'])),
    client_id=dict(type='str', fallback=(env_fallback, ['AZURE_CLIENT_ID'])),
    auth_method=dict(type='str', default='auto',
                     choices=['auto', 'client_secret', 'certificate', 'federated_token', 'managed_identity', 'access_token']),
    client_secret=dict(type='str', no_log=True, fallback=(env_fallback, ['AZURE_CLIENT_SECRET'])),
    client_certificate_path=dict(type='path', fallback=(env_fallback, ['AZURE_CLIENT_CERTIFICATE_PATH'])),
    client_certificate_password=dict(type='str', no_log=True, fallback=(env_fallback, ['AZURE_CLIENT_CERTIFICATE_PASSWORD'])),
    federated_token_file=dict(type='path', fallback=(env_fallback, ['AZURE_FEDERATED_TOKEN_FILE'])),
    managed_identity=dict(type='bool', default=False),
    access_token=dict(type='str', no_log=True, fallback=(env_fallback, ['ENTRA_ACCESS_TOKEN'])),
    cloud=dict(type='str', default='public', choices=sorted(CLOUDS), fallback=(env_fallback, ['ENTRA_CLOUD'])),
    authority_host=dict(type='str', fallback=(env_fallback, ['AZURE_AUTHORITY_HOST'])),
    graph_endpoint=dict(type='str', fallback=(env_fallback, ['ENTRA_GRAPH_ENDPOINT'])),
    api_version=dict(type='str', default='v1.0', choices=['v1.0', 'beta']),
    ca_path=dict(type='path', fallback=(env_fallback, ['ENTRA_CA_PATH'])),
    validate_certs=dict(type='bool', default=True),
    token_cache=dict(type='bool', default=True),
    token_cache_path=dict(type='path', fallback=(env_fallback, ['ENTRA_TOKEN_CACHE_PATH'])),
    timeout=dict(type='float', default=30.0),
    max_retries=dict(type='int', default=6),
)

GRAPH_OPTION_NAMES = frozenset(GRAPH_ARGUMENT_SPEC)


class OptionError(ValueError):
    """Bad connection options: the message names the option and the fix."""


class ConnectionSettings:
    """Validated connection options, with the hosts resolved for the chosen cloud."""

    def __init__(self, params):
        self.tenant_id = params.get('tenant_id')
        self.client_id = params.get('client_id')
        self.credential_kind = select_credential_kind(params)
        self.client_secret = params.get('client_secret')
        self.client_certificate_path = params.get('client_certificate_path')
        self.client_certificate_password = params.get('client_certificate_password')
        self.federated_token_file = params.get('federated_token_file')
        self.access_token = params.get('access_token')
        cloud = params.get('cloud') or 'public'
        default_login, default_graph = CLOUDS[cloud]
        self.authority_host = _https_url('authority_host', params.get('authority_host') or default_login)
        self.graph_endpoint = _https_url('graph_endpoint', params.get('graph_endpoint') or default_graph)
        # Tokens are requested for the cloud's Graph resource; a custom endpoint (an emulator, a proxy) is its own
        # audience.
        self.graph_resource = self.graph_endpoint if params.get('graph_endpoint') else default_graph
        self.known_authority = self.authority_host in set(login for login, dummy in CLOUDS.values())
        self.api_version = params.get('api_version') or 'v1.0'
        self.validate_certs = params.get('validate_certs', True)
        self.ca_path = params.get('ca_path')
        self.token_cache = params.get('token_cache', True)
        self.token_cache_path = params.get('token_cache_path') or default_token_cache_path()
        self.timeout = float(params.get('timeout') or 30.0)
        self.max_retries = int(params.get('max_retries') if params.get('max_retries') is not None else 6)
        self._check()

    @property
    def base_url(self):
        return '%s/%s' % (self.graph_endpoint, self.api_version)

    @property
    def verify(self):
        """The ``verify`` value for requests: our CA bundle, the default trust store, or off."""
        if not self.validate_certs:
            return False
        return self.ca_path or True

    def _check(self):
        kind = self.credential_kind
        if kind != 'access_token' and kind != 'managed_identity':
            for option in ('tenant_id', 'client_id'):
                if not getattr(self, option):
                    raise OptionError('%s is required for the %s credential: set the option or export %s.'
                                      % (option, kind, GRAPH_ARGUMENT_SPEC[option]['fallback'][1][0]))
        if kind == 'certificate' and not os.path.isfile(self.client_certificate_path):
            raise OptionError('client_certificate_path: %s is not a file; give the PEM file holding the private key and '
                              'the certificate.' % self.client_certificate_path)
        if kind == 'federated_token' and not os.path.isfile(self.federated_token_file):
            raise OptionError('federated_token_file: %s is not a file; give the path of the federated token your platform '
                              'writes (AZURE_FEDERATED_TOKEN_FILE).' % self.federated_token_file)
        if self.ca_path and not os.path.isfile(self.ca_path):
            raise OptionError('ca_path: %s is not a file; give a PEM bundle of the CA certificates to trust.' % self.ca_path)
        if self.timeout <= 0:
            raise OptionError('timeout must be a positive number of seconds.')
        if self.max_retries < 0:
            raise OptionError('max_retries must be 0 or more.')


def select_credential_kind(params):
    """Return the one credential kind the options select, or raise naming the options in conflict."""
    method = params.get('auth_method') or 'auto'
    given = [kind for kind, option in CREDENTIAL_OPTIONS if params.get(option)]
    if method != 'auto':
        option = dict(CREDENTIAL_OPTIONS)[method]
        if not params.get(option) and method != 'managed_identity':
            raise OptionError('auth_method=%s needs %s (or its environment variable).' % (method, option))
        return method
    if len(given) == 1:
        return given[0]
    if not given:
        raise OptionError('No credential given: set exactly one of client_secret, client_certificate_path, '
                          'federated_token_file, managed_identity=true or access_token (or their environment variables '
                          'AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE, ENTRA_ACCESS_TOKEN).')
    names = ', '.join(dict(CREDENTIAL_OPTIONS)[kind] for kind in given)
    raise OptionError('More than one credential given (%s): keep exactly one, or choose one with auth_method.' % names)


def default_token_cache_path():
    return os.path.join(os.path.expanduser('~'), '.ansible', 'entra_provisioning', 'token_cache.json')


def _https_url(option, value):
    value = value.rstrip('/')
    if not value.startswith('https://'):
        raise OptionError('%s must be an https:// URL, got %s.' % (option, value))
    return value
