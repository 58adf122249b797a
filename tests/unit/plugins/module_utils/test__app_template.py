# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._app_template import (
    NON_GALLERY_TEMPLATE_ID,
    application_result,
    check_options,
    default_synchronization_template,
    diff_view,
    failure_after_write,
    instantiate_may_have_created,
    matching_applications,
    odata_string,
    plan_application_actions,
    select_template,
    service_principal_result,
    single_application,
    synchronization_template_result,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import (
    GraphAuthError,
    GraphError,
    error_from_response,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

# Items of Microsoft's documented template lists (the applicationtemplate-list page, the archived graph-docs copies
# of it and of the provisioning walkthrough, and the entra-docs provisioning API walkthrough; docs/graph-behaviour.md
# §1.4, §2.8), trimmed.
AWS_SINGLE_ACCOUNT = {'id': '8b1025e4-1dd2-430b-a150-2ef79cd700f5', 'displayName': 'AWS Single-Account Access',
                      'publisher': 'Amazon', 'supportedProvisioningTypes': ['sync']}
AWS_SSO = {'id': '21ed01d2-ec13-4e9e-86c1-cd546719ebc4', 'displayName': 'AWS Single Sign-on',
           'publisher': 'Amazon Web Services, Inc.', 'supportedProvisioningTypes': ['sync']}
SALESFORCE = {'id': 'cd3ed3de-93ee-400b-8b19-b61ef44a0f29', 'displayName': 'Salesforce', 'publisher': 'Microsoft'}

# The v1.0 instantiate response (https://learn.microsoft.com/graph/api/applicationtemplate-instantiate), trimmed to
# the identifying fields.
INSTANTIATED = {
    'application': {'id': '20845737-a145-446f-aa3c-77d432903957', 'appId': '3c653ec4-4e4c-4820-8127-49e3889cad99',
                    'applicationTemplateId': '229946b9-a9fb-45b8-9531-efa47453ac9e',
                    'displayName': 'Azure AD SAML Toolkit'},
    'servicePrincipal': {'id': '912729dd-97ae-4ceb-ade4-07bed3046486', 'appId': '3c653ec4-4e4c-4820-8127-49e3889cad99',
                         'applicationTemplateId': '229946b9-a9fb-45b8-9531-efa47453ac9e',
                         'displayName': 'Azure AD SAML Toolkit'},
}


def options(**overrides):
    params = dict(template_id=NON_GALLERY_TEMPLATE_ID, template_name=None, display_name='Contoso HR SCIM',
                  state='present', wait_timeout=300, service_management_reference=None)
    params.update(overrides)
    return params


class TestCheckOptions:
    def test_valid_options_pass(self):
        check_options(options())
        check_options(options(template_id=None, template_name='AWS Single-Account Access'))
        check_options(options(template_id=NON_GALLERY_TEMPLATE_ID.upper()))

    @pytest.mark.parametrize('overrides, option', [
        (dict(display_name=''), 'display_name'),
        (dict(display_name='   '), 'display_name'),
        (dict(display_name=' Contoso'), 'display_name'),
        (dict(template_id='customappsso'), 'template_id'),
        (dict(template_id='8adf8e6e-67b2-4cf2-a259'), 'template_id'),
        (dict(template_id=None, template_name=' '), 'template_name'),
        (dict(wait_timeout=0), 'wait_timeout'),
    ])
    def test_bad_option_fails_naming_it(self, overrides, option):
        with pytest.raises(TaskFailure) as failure:
            check_options(options(**overrides))
        assert failure.value.msg.startswith(option)

    def test_sync_template_id_given_as_template_id_points_to_template_name(self):
        with pytest.raises(TaskFailure) as failure:
            check_options(options(template_id='scim'))
        assert 'template_name' in failure.value.msg
        assert NON_GALLERY_TEMPLATE_ID in failure.value.msg


def test_odata_string_doubles_single_quotes():
    assert odata_string("O'Brien's app") == "'O''Brien''s app'"
    assert odata_string('plain') == "'plain'"


class TestSelectTemplate:
    def test_exact_name(self):
        assert select_template([AWS_SINGLE_ACCOUNT, AWS_SSO], 'AWS Single Sign-on') is AWS_SSO

    def test_case_does_not_matter_like_graph(self):
        assert select_template([AWS_SINGLE_ACCOUNT], 'aws single-account access') is AWS_SINGLE_ACCOUNT

    def test_exact_case_wins_over_case_variant(self):
        variant = dict(AWS_SSO, id='0000', displayName='AWS SINGLE SIGN-ON')
        assert select_template([variant, AWS_SSO], 'AWS Single Sign-on') is AWS_SSO

    def test_ambiguous_name_fails_listing_every_candidate(self):
        twin = dict(AWS_SSO, id='11111111-2222-3333-4444-555555555555', publisher='Someone else')
        with pytest.raises(TaskFailure) as failure:
            select_template([AWS_SSO, twin], 'AWS Single Sign-on')
        assert '2 application templates' in failure.value.msg
        assert AWS_SSO['id'] in failure.value.msg and twin['id'] in failure.value.msg
        assert 'template_id' in failure.value.msg

    def test_unknown_name_lists_similar_names(self):
        with pytest.raises(TaskFailure) as failure:
            select_template([AWS_SINGLE_ACCOUNT, AWS_SSO], 'AWS')
        assert 'No application template is named' in failure.value.msg
        assert '"AWS Single-Account Access" (%s, Amazon)' % AWS_SINGLE_ACCOUNT['id'] in failure.value.msg
        assert AWS_SSO['id'] in failure.value.msg

    def test_unknown_name_without_candidates_points_to_template_id(self):
        with pytest.raises(TaskFailure) as failure:
            select_template([], 'Nonexistent App')
        assert 'template_id' in failure.value.msg

    def test_long_candidate_lists_are_cut(self):
        many = [dict(SALESFORCE, id=str(index), displayName='Salesforce %d' % index) for index in range(30)]
        with pytest.raises(TaskFailure) as failure:
            select_template(many, 'Salesforc')
        assert 'and 10 more' in failure.value.msg


class TestMatchingApplications:
    APPS = [
        {'id': 'a1', 'appId': 'x1', 'displayName': 'Contoso HR SCIM', 'applicationTemplateId': NON_GALLERY_TEMPLATE_ID},
        {'id': 'a2', 'appId': 'x2', 'displayName': 'contoso hr scim', 'applicationTemplateId': NON_GALLERY_TEMPLATE_ID.upper()},
        {'id': 'a3', 'appId': 'x3', 'displayName': 'Contoso HR SCIM', 'applicationTemplateId': AWS_SSO['id']},
        {'id': 'a4', 'appId': 'x4', 'displayName': 'Contoso HR SCIM', 'applicationTemplateId': None},
        {'id': 'a5', 'appId': 'x5', 'displayName': 'Contoso HR SCIM (old)', 'applicationTemplateId': NON_GALLERY_TEMPLATE_ID},
    ]

    def test_same_template_and_name_only(self):
        found = matching_applications(self.APPS, NON_GALLERY_TEMPLATE_ID, 'Contoso HR SCIM')
        assert [app['id'] for app in found] == ['a1', 'a2']

    def test_other_template_is_not_adopted(self):
        found = matching_applications(self.APPS, AWS_SSO['id'], 'Contoso HR SCIM')
        assert [app['id'] for app in found] == ['a3']


class TestSingleApplication:
    def test_none_and_one(self):
        assert single_application([], NON_GALLERY_TEMPLATE_ID, 'x') is None
        assert single_application([{'id': 'a1'}], NON_GALLERY_TEMPLATE_ID, 'x') == {'id': 'a1'}

    def test_several_fail_and_list_them(self):
        apps = [{'id': 'a1', 'appId': 'x1', 'createdDateTime': '2024-01-01T00:00:00Z'}, {'id': 'a2', 'appId': 'x2'}]
        with pytest.raises(TaskFailure) as failure:
            single_application(apps, NON_GALLERY_TEMPLATE_ID, 'Contoso HR SCIM')
        message = failure.value.msg
        assert message.startswith("2 applications named 'Contoso HR SCIM'")
        assert 'a1 (app_id x1, created 2024-01-01T00:00:00Z)' in message and 'a2 (app_id x2' in message


@pytest.mark.parametrize('current, state, actions', [
    (None, 'present', ['instantiate']),
    ({'id': 'a1'}, 'present', []),
    ({'id': 'a1'}, 'absent', ['delete']),
    (None, 'absent', []),
])
def test_plan_application_actions(current, state, actions):
    assert plan_application_actions(current, state) == actions


class TestInstantiateMayHaveCreated:
    @pytest.mark.parametrize('status', [404, 408, 500, 502, 503, 504])
    def test_unknown_outcomes_are_looked_up(self, status):
        assert instantiate_may_have_created(GraphError(status, 'x', 'y', method='POST', path='/p'))

    def test_a_lost_answer_is_looked_up(self):
        assert instantiate_may_have_created(GraphError(None, 'ConnectionError', 'ReadTimeout', method='POST', path='/p'))

    def test_a_refused_tls_certificate_sent_nothing(self):
        assert not instantiate_may_have_created(GraphError(None, 'TLSError', 'not verified', method='POST', path='/p'))

    @pytest.mark.parametrize('status', [400, 401, 403, 409, 429])
    def test_clear_refusals_are_not(self, status):
        error = error_from_response(status, {'error': {'code': 'Request_BadRequest', 'message': 'no'}}, 'POST', '/p')
        assert not instantiate_may_have_created(error)

    def test_token_failure_sent_nothing(self):
        assert not instantiate_may_have_created(GraphAuthError('AADSTS7000215: Invalid client secret provided.'))


class TestDefaultSynchronizationTemplate:
    def test_marked_default_wins(self):
        templates = [{'id': 'customappsso', 'default': False}, {'id': 'scim', 'default': True},
                     {'id': 'customappssoRoleIn', 'default': False}]
        assert default_synchronization_template(templates) == 'scim'

    def test_the_only_one(self):
        # The list-templates page's example prints no "default" at all (docs/graph-behaviour.md §2.8).
        assert default_synchronization_template([{'id': 'Slack', 'factoryTag': 'CustomSCIM'}]) == 'Slack'

    def test_several_without_default_or_none(self):
        assert default_synchronization_template([{'id': 'a'}, {'id': 'b'}]) is None
        assert default_synchronization_template([]) is None
        assert default_synchronization_template([{'id': 'a', 'default': True}, {'id': 'b', 'default': True}]) is None


class TestResults:
    def test_documented_instantiate_response(self):
        assert application_result(INSTANTIATED['application']) == dict(
            id='20845737-a145-446f-aa3c-77d432903957', app_id='3c653ec4-4e4c-4820-8127-49e3889cad99',
            display_name='Azure AD SAML Toolkit', application_template_id='229946b9-a9fb-45b8-9531-efa47453ac9e')
        assert service_principal_result(INSTANTIATED['servicePrincipal']) == dict(
            id='912729dd-97ae-4ceb-ade4-07bed3046486', app_id='3c653ec4-4e4c-4820-8127-49e3889cad99',
            display_name='Azure AD SAML Toolkit')

    def test_beta_object_id_is_read(self):
        # The beta example prints the AAD-Graph style objectId instead of id (docs/graph-behaviour.md §1.4).
        assert application_result({'objectId': 'o1', 'appId': 'x'})['id'] == 'o1'
        assert service_principal_result({'objectId': 's1', 'appId': 'x'})['id'] == 's1'

    def test_absent_objects(self):
        assert application_result(None) is None
        assert service_principal_result(None) is None
        assert diff_view(None, None) == {'state': 'absent'}

    def test_synchronization_template_keeps_no_schema(self):
        template = {'id': 'scim', 'default': True, 'factoryTag': 'CustomSCIM', 'description': None,
                    'schema': {'synchronizationRules': [{'name': 'USER_TO_USER'}]}}
        assert synchronization_template_result(template) == dict(id='scim', default=True, factory_tag='CustomSCIM',
                                                                 description=None)


class TestFailureAfterWrite:
    APP = INSTANTIATED['application']

    def test_a_failure_after_instantiate_still_reports_the_change(self):
        failure = failure_after_write(TaskFailure('no service principal yet', hint='x'), ['instantiate'], self.APP)
        assert failure.msg == 'no service principal yet'
        assert failure.result['changed'] is True and failure.result['actions'] == ['instantiate']
        assert failure.result['application']['id'] == self.APP['id'] and failure.result['hint'] == 'x'

    def test_a_graph_error_after_instantiate_keeps_its_details(self):
        error = error_from_response(503, {'error': {'code': 'ServiceUnavailable', 'message': 'try later'}}, 'GET', '/servicePrincipals')
        failure = failure_after_write(error, ['instantiate'], self.APP)
        assert failure.msg == str(error)
        assert failure.result['error']['code'] == 'ServiceUnavailable' and failure.result['changed'] is True
