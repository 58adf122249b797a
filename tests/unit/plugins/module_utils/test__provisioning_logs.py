# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError
from ansible_collections.entra.provisioning.plugins.module_utils._provisioning_logs import (
    LogQuery,
    build_filters,
    entry_to_result,
    parse_moment,
    read_entries,
    summarize,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 25, 12, 0, 0, tzinfo=UTC)
SP = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'
USER = '9bb0f679-a883-4a6f-8260-35b491b8b8c8'

# The failed entry of the v1.0 list example (https://learn.microsoft.com/graph/api/provisioningobjectsummary-list,
# example 2; docs/graph-behaviour.md §9.2), abridged.
V1_FAILURE = {
    'id': 'gc532ff9-r265-ec76-861e-42e2970a8218', 'activityDateTime': '2019-06-24T20:53:08Z',
    'tenantId': '7928d5b5-7442-4a97-ne2d-66f9j9972ecn', 'jobId': 'ContosoOutDelta.7928d5b574424a97ne2d66f9j9972ecn',
    'cycleId': '44576n58-v14b-70fj-8404-3d22tt46ed93', 'changeId': 'eaad2f8b-e6e3-409b-83bd-e4e2e57177d5',
    'provisioningAction': 'create', 'durationInMilliseconds': 2785,
    'sourceSystem': {'id': '0404601d-a9c0-4ec7-bbcd-02660120d8c9', 'displayName': 'Azure Active Directory', 'details': {}},
    'targetSystem': {'id': 'cd22f60b-5f2d-1adg-adb4-76ef31db996b', 'displayName': 'Contoso',
                     'details': {'ApplicationId': 'f2764360-e0ec-5676-711e-cd6fc0d4dd61',
                                 'ServicePrincipalId': 'chc46a42-966b-47d7-9774-576b1c8bd0b8', 'ServicePrincipalDisplayName': 'Contoso'}},
    'initiatedBy': {'id': '', 'displayName': 'Azure AD Provisioning Service', 'initiatorType': 'system'},
    'servicePrincipal': {'id': 'chc46a42-966b-47d7-9774-576b1c8bd0b8', 'displayName': 'Contoso'},
    'sourceIdentity': {'id': '5e6c9rae-ab4d-5239-8ad0-174391d110eb', 'displayName': 'Self-service Pilot', 'identityType': 'Group', 'details': {}},
    'targetIdentity': {'id': '', 'displayName': '', 'identityType': 'Group', 'details': {}},
    'provisioningStatusInfo': {'status': 'failure', 'errorInformation': {
        'errorCode': 'ContosoEntryConflict', 'reason': 'Message: Contoso returned an error response with the HTTP status code 409.',
        'additionalDetails': None, 'errorCategory': 'nonServiceFailure', 'recommendedAction': None}},
    'provisioningSteps': [
        {'name': 'EntryImportAdd', 'provisioningStepType': 'import', 'status': 'success',
         'description': "Received Group 'Self-service Pilot' change of type (Add) from Azure Active Directory", 'details': {}},
        {'name': 'EntryExportAdd', 'provisioningStepType': 'export', 'status': 'failure',
         'description': "Failed to create Group 'Self-service Pilot' in Contoso", 'details': {'ReportableIdentifier': 'Self-service Pilot'}},
    ],
    'modifiedProperties': [{'displayName': 'displayName', 'oldValue': None, 'newValue': 'Self-service Pilot'}],
}

# The same failure as the beta example prints it: "action": "Create", a flat statusInfo, no servicePrincipal.
BETA_FAILURE = {
    'id': 'gc532ff9-r265-ec76-861e-42e2970a8218', 'activityDateTime': '2019-06-24T20:53:08Z',
    'jobId': 'BoxOutDelta.7928d5b574424a97ne2d66f9j9972ecn', 'cycleId': '44576n58-v14b-70fj-8404-3d22tt46ed93',
    'changeId': 'eaad2f8b-e6e3-409b-83bd-e4e2e57177d5', 'action': 'Create', 'durationInMilliseconds': 2785,
    'targetSystem': {'id': 'cd22f60b-5f2d-1adg-adb4-76ef31db996b', 'displayName': 'Box',
                     'details': {'ServicePrincipalId': 'chc46a42-966b-47d7-9774-576b1c8bd0b8', 'ServicePrincipalDisplayName': 'Box'}},
    'sourceIdentity': {'id': '5e6c9rae-ab4d-5239-8ad0-174391d110eb', 'displayName': 'Self-service Pilot', 'identityType': 'Group', 'details': {}},
    'targetIdentity': {'id': '', 'displayName': '', 'identityType': 'Group', 'details': {}},
    'statusInfo': {'@odata.type': '#microsoft.graph.statusDetails', 'status': 'failure', 'errorCode': 'BoxEntryConflict',
                   'reason': 'Message: Box returned an error response with the HTTP status code 409.', 'additionalDetails': None,
                   'errorCategory': 'NonServiceFailure', 'recommendedAction': None},
    'provisioningSteps': [{'name': 'EntryExportAdd', 'provisioningStepType': 'export', 'status': 'failure',
                           'description': "Failed to create Group 'Self-service Pilot' in Box", 'details': {}}],
    'modifiedProperties': [],
}


def query(**params):
    return LogQuery(params, NOW)


# --- time -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('24h', NOW - datetime.timedelta(hours=24)),
    ('7d', NOW - datetime.timedelta(days=7)),
    ('30m', NOW - datetime.timedelta(minutes=30)),
    ('2w', NOW - datetime.timedelta(days=14)),
    (' 90S ', NOW - datetime.timedelta(seconds=90)),
    ('2024-05-20', datetime.datetime(2024, 5, 20, tzinfo=UTC)),
    ('2024-05-20T08:30:00Z', datetime.datetime(2024, 5, 20, 8, 30, tzinfo=UTC)),
    ('2024-05-20T08:30:00', datetime.datetime(2024, 5, 20, 8, 30, tzinfo=UTC)),
    ('2024-05-20T10:30:00+02:00', datetime.datetime(2024, 5, 20, 8, 30, tzinfo=UTC)),
    ('2024-05-20T08:30:00.1234567Z', datetime.datetime(2024, 5, 20, 8, 30, 0, 123456, tzinfo=UTC)),
])
def test_times_absolute_and_relative(text, expected):
    assert parse_moment('since', text, NOW) == expected


@pytest.mark.parametrize('text', ['yesterday', '24', 'h24', '7 days', '2024-13-01', '2024-05-20T25:00:00Z', ''])
def test_a_time_that_is_neither_fails_naming_the_option(text):
    with pytest.raises(TaskFailure) as failure:
        parse_moment('until', text, NOW)
    assert failure.value.msg.startswith('until: ')
    assert '24h' in failure.value.msg


def test_since_must_be_before_until():
    with pytest.raises(TaskFailure, match='since .* is not before until'):
        query(since='1d', until='2d')


def test_a_negative_max_entries_fails():
    with pytest.raises(TaskFailure, match='max_entries'):
        query(max_entries=-1)


def test_a_service_principal_id_that_is_an_app_name_fails():
    with pytest.raises(TaskFailure, match='^service_principal_id: .* is not a GUID'):
        query(service_principal_id='Contoso')


# --- the filter -------------------------------------------------------------------------------------------------------

def test_no_option_no_filter():
    assert build_filters(query()) == [None]


def test_every_option_becomes_one_clause_in_graph_spelling():
    built = build_filters(query(service_principal_id=SP, job_id='scim.abc', status='failure', action='stagedDelete',
                                cycle_id='44576n58', since='2024-05-24T00:00:00Z', until='1h'))

    assert built == ["servicePrincipal/id eq '%s' and jobId eq 'scim.abc' and "
                     "provisioningStatusInfo/status eq 'failure' and provisioningAction eq 'stagedDelete' and "
                     "cycleId eq '44576n58' and activityDateTime gt 2024-05-24T00:00:00Z and "
                     "activityDateTime lt 2024-05-25T11:00:00Z" % SP]


def test_an_object_is_matched_on_either_side_in_two_filters_without_or():
    built = build_filters(query(status='failure'), object_ids=[USER])

    assert built == ["sourceIdentity/id eq '%s' and provisioningStatusInfo/status eq 'failure'" % USER,
                     "targetIdentity/id eq '%s' and provisioningStatusInfo/status eq 'failure'" % USER]


def test_quotes_in_values_are_doubled():
    assert build_filters(query(), object_ids=["o'brien"])[0] == "sourceIdentity/id eq 'o''brien'"


# --- entries ------------------------------------------------------------------------------------------------------------

def test_a_v1_entry_converts_to_the_documented_shape():
    entry = entry_to_result(V1_FAILURE)

    assert entry['time'] == '2019-06-24T20:53:08Z'
    assert entry['cycle_id'] == '44576n58-v14b-70fj-8404-3d22tt46ed93'
    assert entry['change_id'] == 'eaad2f8b-e6e3-409b-83bd-e4e2e57177d5'
    assert entry['job_id'] == 'ContosoOutDelta.7928d5b574424a97ne2d66f9j9972ecn'
    assert (entry['action'], entry['status'], entry['error_code']) == ('create', 'failure', 'ContosoEntryConflict')
    assert entry['reason'].startswith('Message: Contoso returned an error response with the HTTP status code 409')
    assert entry['recommended_action'] is None
    assert entry['error_category'] == 'nonServiceFailure'
    assert entry['service_principal'] == dict(id='chc46a42-966b-47d7-9774-576b1c8bd0b8', display_name='Contoso')
    assert entry['source_identity'] == dict(id='5e6c9rae-ab4d-5239-8ad0-174391d110eb', display_name='Self-service Pilot',
                                            type='Group', details={})
    assert entry['target_identity']['id'] is None
    assert [(step['name'], step['type'], step['status']) for step in entry['steps']] == [
        ('EntryImportAdd', 'import', 'success'), ('EntryExportAdd', 'export', 'failure')]
    assert entry['modified_properties'] == [dict(display_name='displayName', old_value=None, new_value='Self-service Pilot')]


def test_a_beta_entry_converts_to_the_same_shape():
    entry = entry_to_result(BETA_FAILURE)

    assert (entry['action'], entry['status'], entry['error_code']) == ('create', 'failure', 'BoxEntryConflict')
    assert entry['error_category'] == 'nonServiceFailure'
    # No servicePrincipal property: taken from the target system's details.
    assert entry['service_principal'] == dict(id='chc46a42-966b-47d7-9774-576b1c8bd0b8', display_name='Box')
    assert set(entry) == set(entry_to_result(V1_FAILURE))


def test_a_success_has_no_error():
    success = copy.deepcopy(V1_FAILURE)
    success['provisioningStatusInfo'] = {'status': 'success', 'errorInformation': None}

    entry = entry_to_result(success)

    assert (entry['status'], entry['error_code'], entry['reason']) == ('success', None, None)


# --- summary -----------------------------------------------------------------------------------------------------------

def _entry(object_id, status, action='create', time='2024-05-25T10:00:00Z', code=None, name=None):
    raw = copy.deepcopy(V1_FAILURE)
    raw.update(activityDateTime=time, provisioningAction=action)
    raw['sourceIdentity'] = {'id': object_id, 'displayName': name or object_id, 'identityType': 'User'}
    raw['provisioningStatusInfo'] = {'status': status, 'errorInformation': {'errorCode': code, 'reason': 'because %s' % code} if code else None}
    return entry_to_result(raw)


def test_summary_counts_and_the_objects_that_failed_most():
    entries = [
        _entry('a', 'failure', time='2024-05-25T09:00:00Z', code='SchemaAttributeNotFound'),
        _entry('a', 'failure', time='2024-05-25T11:00:00Z', code='EntryConflict'),
        _entry('a', 'failure', time='2024-05-25T10:00:00Z', code='SchemaAttributeNotFound'),
        _entry('b', 'failure', time='2024-05-25T08:00:00Z', code='EntryConflict'),
        _entry('c', 'failure', time='2024-05-25T09:30:00Z', code='EntryConflict'),
        _entry('d', 'success', action='update'),
        _entry('e', 'skipped', action='other'),
        _entry('f', 'success', action='stagedDelete'),
    ]

    summary = summarize(entries)

    assert summary['entries'] == 8
    assert summary['by_status'] == dict(success=2, failure=5, skipped=1, warning=0)
    assert summary['by_action'] == dict(create=5, update=1, delete=0, disable=0, stagedDelete=1, other=1)
    assert summary['by_error_code'] == dict(SchemaAttributeNotFound=2, EntryConflict=3)
    assert summary['failed_objects'] == 3
    assert [(item['object_id'], item['failures']) for item in summary['most_failed']] == [('a', 3), ('c', 1), ('b', 1)]
    assert summary['most_failed'][0]['last_error'] == dict(time='2024-05-25T11:00:00Z', cycle_id=entries[0]['cycle_id'],
                                                           action='create', code='EntryConflict', reason='because EntryConflict',
                                                           recommended_action=None)


def test_most_failed_is_bounded():
    entries = [_entry('u%02d' % number, 'failure', code='X') for number in range(15)]

    assert len(summarize(entries, limit=10)['most_failed']) == 10


# --- reading -------------------------------------------------------------------------------------------------------------

class PagedClient:
    """Pages of a list per filter, as GraphClient.iter_pages yields them; counts the pages read."""

    def __init__(self, pages, error=None):
        self.pages = pages if isinstance(pages, dict) else {None: pages}
        self.error = error
        self.read = 0
        self.params = []

    def iter_pages(self, path, params=None):
        assert path == '/auditLogs/provisioning'
        self.params.append(params)
        if self.error:
            raise self.error
        for page in self.pages.get(params.get('$filter'), self.pages.get(None, [])):
            self.read += 1
            yield page


def _at(number, hour=10):
    return {'id': number, 'activityDateTime': '2024-05-25T%02d:00:00Z' % hour}


def test_reading_stops_at_max_entries_without_reading_further_pages():
    client = PagedClient([[_at(1), _at(2)], [_at(3), _at(4)], [_at(5)]])

    entries, truncated = read_entries(client, ["jobId eq 'x'"], 3)

    assert [entry['id'] for entry in entries] == [1, 2, 3]
    assert truncated is True
    assert client.read == 2
    assert client.params == [{'$filter': "jobId eq 'x'", '$orderby': 'activityDateTime desc'}]


def test_exactly_max_entries_reads_one_more_page_to_tell_whether_more_match():
    assert read_entries(PagedClient([[_at(1), _at(2)]]), [None], 2) == ([_at(1), _at(2)], False)
    assert read_entries(PagedClient([[_at(1), _at(2)], [_at(3)]]), [None], 2)[1] is True


def test_reading_to_the_end_with_no_limit():
    client = PagedClient([[_at(1)], [_at(2)], [_at(3)]])

    entries, truncated = read_entries(client, [None], 0)

    assert len(entries) == 3 and truncated is False
    assert '$filter' not in client.params[0]


def test_two_filters_are_merged_newest_first_without_duplicates_and_bounded():
    client = PagedClient({'source': [[_at(1, 9), _at(2, 7)]], 'target': [[_at(2, 7), _at(3, 8), _at(4, 6)]]})

    entries, truncated = read_entries(client, ['source', 'target'], 3)

    assert [entry['id'] for entry in entries] == [1, 3, 2]
    assert truncated is True


def test_403_names_the_permission_and_the_licence():
    error = GraphError(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
                       'Tenant does not have a SKU required for this operation.', 'GET', '/auditLogs/provisioning')

    with pytest.raises(TaskFailure) as failure:
        read_entries(PagedClient([], error=error), [None], 10)

    assert 'AuditLog.Read.All and Directory.Read.All' in failure.value.msg
    assert 'P1 or P2' in failure.value.msg
    assert 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' in failure.value.msg
