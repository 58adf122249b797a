# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment variables of the AWX credential type (awx/credential_type_entra.yml), of the plugins' doc fragment
(entra.provisioning.graph.environment) and of the modules' argument spec (env_fallback) are the same ones."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import yaml

from jinja2 import Environment, meta

from ansible_collections.entra.provisioning.plugins.doc_fragments.graph import ModuleDocFragment
from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import GRAPH_ARGUMENT_SPEC

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
CREDENTIAL_TYPE = os.path.join(COLLECTION_ROOT, 'awx', 'credential_type_entra.yml')

# What a credential carries; each of them must be injectable.
CREDENTIAL_VARIABLES = {'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH',
                        'AZURE_CLIENT_CERTIFICATE_PASSWORD', 'AZURE_FEDERATED_TOKEN_FILE'}
# Read by the modules but deliberately not injected: an access token expires within the hour (a stored credential
# cannot hold one), and the token cache's place belongs to the execution environment, not to the credential.
NOT_INJECTED = {'ENTRA_ACCESS_TOKEN', 'ENTRA_TOKEN_CACHE_PATH'}


def module_variables():
    """option -> the environment variable the modules fall back to (_graph_options.GRAPH_ARGUMENT_SPEC)."""
    return dict((option, spec['fallback'][1][0]) for option, spec in GRAPH_ARGUMENT_SPEC.items() if 'fallback' in spec)


def credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def test_the_plugin_fragment_documents_the_variables_the_modules_read():
    fragment = yaml.safe_load(ModuleDocFragment.ENVIRONMENT)['options']
    documented = dict((option, [entry['name'] for entry in spec['env']]) for option, spec in fragment.items())
    assert documented == dict((option, [variable]) for option, variable in module_variables().items())


def test_the_module_documentation_names_the_same_variables():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    for option, variable in module_variables().items():
        assert 'E(%s)' % variable in ' '.join(options[option]['description']), option


def test_the_credential_type_injects_only_variables_the_modules_read():
    injected = set(credential_type()['injectors']['env'])
    read = set(module_variables().values())
    assert injected <= read, injected - read
    assert CREDENTIAL_VARIABLES <= injected
    assert read - injected == NOT_INJECTED


def test_the_credential_type_templates_name_its_inputs_and_files():
    definition = credential_type()
    fields = set(field['id'] for field in definition['inputs']['fields'])
    files = set(key.split('.', 1)[1] for key in definition['injectors']['file'])
    assert set(definition['inputs']['required']) <= fields
    assert files <= fields
    templates = list(definition['injectors']['env'].values()) + list(definition['injectors']['file'].values())
    for template in templates:
        for name in re.findall(r'tower\.filename\.(\w+)', template):
            assert name in files, template
        assert meta.find_undeclared_variables(Environment().parse(template)) <= fields | {'tower'}, template
    secret = set(field['id'] for field in definition['inputs']['fields'] if field.get('secret'))
    assert {'client_secret', 'client_certificate', 'client_certificate_password'} <= secret


def test_an_empty_variable_counts_as_not_set(monkeypatch):
    """An AWX credential renders its unused fields empty, and a shell user unsets with ``export ENTRA_CLOUD=``: an empty
    variable must neither fail a choice (cloud) nor select a credential kind."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    monkeypatch.setenv('ENTRA_CLOUD', '')
    monkeypatch.setenv('AZURE_CLIENT_SECRET', '')
    monkeypatch.setenv('AZURE_TENANT_ID', 'contoso.example')
    result = ArgumentSpecValidator(GRAPH_ARGUMENT_SPEC).validate({})
    assert result.error_messages == []
    assert result.validated_parameters['cloud'] == 'public'
    assert result.validated_parameters['client_secret'] is None
    assert result.validated_parameters['tenant_id'] == 'contoso.example'
