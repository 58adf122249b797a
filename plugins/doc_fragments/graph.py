# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The connection and authentication options every module and plugin accepts (module_utils/_graph_options.py).
    # Plugins (the inventory plugin) also extend entra.provisioning.graph.environment: the env: entries Ansible's
    # plugin configuration reads. Modules read the same variables through the argument spec's env_fallback, and
    # module documentation cannot carry env: (ansible-test validate-modules).
    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) ID, or a verified domain name of the tenant.
      - Required for every credential except O(access_token) and O(managed_identity).
      - If not set, the value of the E(AZURE_TENANT_ID) environment variable is used.
    type: str
  client_id:
    description:
      - The application (client) ID of the app registration that calls Microsoft Graph.
      - With O(managed_identity=true), the client ID of a user-assigned managed identity; omit it for the
        system-assigned identity.
      - If not set, the value of the E(AZURE_CLIENT_ID) environment variable is used.
    type: str
  auth_method:
    description:
      - How to authenticate. With V(auto), the one credential that is set decides; setting more than one is an error
        that names them.
      - Set it explicitly when the environment exports several credentials (for example both
        E(AZURE_CLIENT_SECRET) and E(AZURE_FEDERATED_TOKEN_FILE)); the others are then ignored.
    type: str
    default: auto
    choices: [auto, client_secret, certificate, federated_token, managed_identity, access_token]
  client_secret:
    description:
      - A client secret of the app registration.
      - If not set, the value of the E(AZURE_CLIENT_SECRET) environment variable is used.
    type: str
  client_certificate_path:
    description:
      - Path to a PEM file holding the app registration's certificate and its private key (a client assertion is
        signed with it; the secret never leaves the controller).
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PATH) environment variable is used.
    type: path
  client_certificate_password:
    description:
      - The password of the private key in O(client_certificate_path), if it is encrypted.
      - If not set, the value of the E(AZURE_CLIENT_CERTIFICATE_PASSWORD) environment variable is used.
    type: str
  federated_token_file:
    description:
      - Workload identity federation. Path to a file holding a federated token (an OIDC JWT) that the app
        registration trusts through a federated credential, as AKS workload identity and CI systems provide.
        The file is read at every token request, so a rotated token is picked up.
      - If not set, the value of the E(AZURE_FEDERATED_TOKEN_FILE) environment variable is used.
    type: path
  managed_identity:
    description:
      - Authenticate with the managed identity of the Azure resource the controller runs on (VM, App Service,
        Functions, Automation, Azure Arc). Set O(client_id) for a user-assigned identity.
    type: bool
    default: false
  access_token:
    description:
      - A Microsoft Graph access token acquired elsewhere. No token is requested; the token is used as is until it
        expires.
      - If not set, the value of the E(ENTRA_ACCESS_TOKEN) environment variable is used.
    type: str
  cloud:
    description:
      - The national cloud, which decides the login and Graph hosts.
      - V(public) is the global service; V(usgov) is US Government L4 (GCC High); V(usgov_dod) is US Government L5
        (DoD); V(china) is the service operated by 21Vianet.
      - If not set, the value of the E(ENTRA_CLOUD) environment variable is used.
    type: str
    default: public
    choices: [public, usgov, usgov_dod, china]
  authority_host:
    description:
      - Overrides the login host of O(cloud), for example C(https://127.0.0.1:8443) for the bundled Graph emulator.
        Must be an https URL.
      - If not set, the value of the E(AZURE_AUTHORITY_HOST) environment variable is used.
    type: str
  graph_endpoint:
    description:
      - Overrides the Microsoft Graph host of O(cloud), for example the bundled Graph emulator. Must be an https URL
        without the version segment. Tokens are then requested for this endpoint as their resource.
      - If not set, the value of the E(ENTRA_GRAPH_ENDPOINT) environment variable is used.
    type: str
  api_version:
    description:
      - The Microsoft Graph API version to call.
    type: str
    default: v1.0
    choices: [v1.0, beta]
  ca_path:
    description:
      - A PEM bundle of CA certificates to trust for the login and Graph hosts instead of the default store, for
        example behind a TLS-inspecting proxy or with the Graph emulator.
      - It takes precedence over the E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables.
      - If not set, the value of the E(ENTRA_CA_PATH) environment variable is used.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates. Only turn this off on a test system; a warning is shown when it is off.
    type: bool
    default: true
  token_cache:
    description:
      - Whether to keep access tokens in a file cache shared by the tasks of a run, and by later runs until the
        tokens expire. With the cache, a playbook asks the token service once; without it, once per task.
      - The cache never holds client secrets or certificates, only access tokens and public discovery documents.
      - Cached tokens are kept per credential (by a one-way fingerprint of the secret, certificate or federated token), so
        a rotated, revoked or wrong secret never gets a token cached for another one.
    type: bool
    default: true
  token_cache_path:
    description:
      - Where the token cache lives. It is created with mode 0600 in a directory of mode 0700.
      - Defaults to C(~/.ansible/entra_provisioning/token_cache.json).
      - If not set, the value of the E(ENTRA_TOKEN_CACHE_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: float
    default: 30
  max_retries:
    description:
      - How many times a throttled (HTTP 429) or unavailable (HTTP 503, 504, connection error) request is retried.
        The wait follows the C(Retry-After) header when Graph sends one, otherwise exponential backoff with jitter.
      - A POST that may already have been processed is never repeated blindly; the module reads the state again.
      - The token service is retried the same way when it throttles, fails (HTTP 5xx) or drops the connection.
    type: int
    default: 6
requirements:
  - msal >= 1.31.0
  - requests >= 2.28.0
notes:
  - The logic runs on the Ansible controller (the modules are action plugins); nothing is executed on a managed host,
    so C(hosts) and C(delegate_to) do not matter. Install C(msal) and C(requests) in the controller's Python
    environment (under AWX or Automation Platform, in the execution environment).
'''

    # One entry per option of _graph_options.GRAPH_ARGUMENT_SPEC that has an env_fallback, with the same variable
    # (tests/unit/plugins/module_utils/test__graph_options_environment.py checks that they agree).
    ENVIRONMENT = r'''
options:
  tenant_id:
    env:
      - name: AZURE_TENANT_ID
  client_id:
    env:
      - name: AZURE_CLIENT_ID
  client_secret:
    env:
      - name: AZURE_CLIENT_SECRET
  client_certificate_path:
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PATH
  client_certificate_password:
    env:
      - name: AZURE_CLIENT_CERTIFICATE_PASSWORD
  federated_token_file:
    env:
      - name: AZURE_FEDERATED_TOKEN_FILE
  access_token:
    env:
      - name: ENTRA_ACCESS_TOKEN
  cloud:
    env:
      - name: ENTRA_CLOUD
  authority_host:
    env:
      - name: AZURE_AUTHORITY_HOST
  graph_endpoint:
    env:
      - name: ENTRA_GRAPH_ENDPOINT
  ca_path:
    env:
      - name: ENTRA_CA_PATH
  token_cache_path:
    env:
      - name: ENTRA_TOKEN_CACHE_PATH
'''

    ACTION_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/entra.provisioning.graph) in C(module_defaults) to set the connection options once for all modules.
    support: full
    membership:
      - entra.provisioning.graph
'''
