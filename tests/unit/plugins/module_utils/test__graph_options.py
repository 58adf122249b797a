# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import (
    ConnectionSettings,
    GRAPH_ARGUMENT_SPEC,
    OptionError,
    select_credential_kind,
)


def settings(**params):
    base = dict(tenant_id='contoso.onmicrosoft.com', client_id='11111111-1111-1111-1111-111111111111')
    base.update(params)
    return ConnectionSettings(base)


@pytest.mark.parametrize('cloud, login, graph', [
    ('public', 'https://login.microsoftonline.com', 'https://graph.microsoft.com'),
    ('usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'),
    ('usgov_dod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'),
    ('china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'),
])
def test_clouds_resolve_their_hosts(cloud, login, graph):
    resolved = settings(client_secret='x', cloud=cloud)
    assert (resolved.authority_host, resolved.graph_endpoint, resolved.graph_resource) == (login, graph, graph)
    assert resolved.known_authority


def test_overrides_for_an_emulator_are_their_own_audience_and_skip_instance_discovery():
    resolved = settings(client_secret='x', authority_host='https://127.0.0.1:8443/', graph_endpoint='https://127.0.0.1:8443',
                        api_version='beta')
    assert resolved.base_url == 'https://127.0.0.1:8443/beta'
    assert resolved.graph_resource == 'https://127.0.0.1:8443'
    assert not resolved.known_authority


def test_http_overrides_are_refused():
    with pytest.raises(OptionError, match='authority_host must be an https'):
        settings(client_secret='x', authority_host='http://127.0.0.1:8080')


def test_exactly_one_credential():
    assert select_credential_kind(dict(client_secret='x')) == 'client_secret'
    assert select_credential_kind(dict(managed_identity=True)) == 'managed_identity'
    with pytest.raises(OptionError, match='No credential given'):
        select_credential_kind({})
    with pytest.raises(OptionError, match=r'More than one credential given \(client_secret, federated_token_file\)'):
        select_credential_kind(dict(client_secret='x', federated_token_file='/var/run/token'))


def test_auth_method_picks_one_of_several_credentials_and_requires_its_option():
    assert select_credential_kind(dict(auth_method='federated_token', client_secret='x', federated_token_file='/f')) == 'federated_token'
    with pytest.raises(OptionError, match='auth_method=certificate needs client_certificate_path'):
        select_credential_kind(dict(auth_method='certificate', client_secret='x'))


def test_missing_tenant_names_the_option_and_its_environment_variable():
    with pytest.raises(OptionError, match='tenant_id is required .* AZURE_TENANT_ID'):
        ConnectionSettings(dict(client_id='c', client_secret='x'))


def test_access_token_and_managed_identity_need_no_tenant():
    assert ConnectionSettings(dict(access_token='eyJ...')).credential_kind == 'access_token'
    assert ConnectionSettings(dict(managed_identity=True)).credential_kind == 'managed_identity'


def test_missing_files_are_named(tmp_path):
    with pytest.raises(OptionError, match='client_certificate_path: .* is not a file'):
        settings(client_certificate_path=str(tmp_path / 'nope.pem'))
    with pytest.raises(OptionError, match='ca_path: .* is not a file'):
        settings(client_secret='x', ca_path=str(tmp_path / 'ca.pem'))


def test_verify_prefers_ca_path_and_can_be_turned_off(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    assert settings(client_secret='x', ca_path=str(ca)).verify == str(ca)
    assert settings(client_secret='x').verify is True
    assert settings(client_secret='x', validate_certs=False).verify is False


def test_environment_fallbacks_fill_the_options(monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', 'tenant-from-env')
    monkeypatch.setenv('AZURE_CLIENT_SECRET', 'secret-from-env')
    result = ArgumentSpecValidator(GRAPH_ARGUMENT_SPEC).validate({})
    assert result.validated_parameters['tenant_id'] == 'tenant-from-env'
    # A secret that came from the environment is masked like one given as an option.
    assert 'secret-from-env' in result._no_log_values
    assert 'tenant-from-env' not in result._no_log_values
