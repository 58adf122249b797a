# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._convert import (
    job_to_result,
    snake_name,
    to_snake,
)

# Microsoft's documented examples (the started Azure2Azure job and the quarantined AWS Single Sign-on job of
# docs/graph-behaviour.md §2.8), trimmed to what each test needs.
STARTED_JOB = {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals(\'x\')/synchronization/jobs/$entity',
    'id': 'Azure2Azure.e4bbf44533ea4eabb17027f3a92e92aa',
    'templateId': 'Azure2Azure',
    'schedule': {'expiration': None, 'interval': 'PT40M', 'state': 'Active'},
    'status': {
        'countSuccessiveCompleteFailures': 0,
        'escrowsPruned': False,
        'code': 'NotRun',
        'lastSuccessfulExecution': None,
        'lastSuccessfulExecutionWithExports': None,
        'quarantine': None,
        'steadyStateFirstAchievedTime': '0001-01-01T00:00:00Z',
        'steadyStateLastAchievedTime': '0001-01-01T00:00:00Z',
        'troubleshootingUrl': '',
        'lastExecution': {
            'activityIdentifier': None, 'countEntitled': 0, 'countEntitledForProvisioning': 0, 'countEscrowed': 0,
            'countEscrowedRaw': 0, 'countExported': 0, 'countExports': 0, 'countImported': 0, 'countImportedDeltas': 0,
            'countImportedReferenceDeltas': 0, 'state': 'Failed', 'timeBegan': '0001-01-01T00:00:00Z',
            'timeEnded': '0001-01-01T00:00:00Z', 'error': {'code': 'None', 'message': '', 'tenantActionable': False},
        },
        'progress': [],
        'synchronizedEntryCountByType': [],
    },
    'synchronizationJobSettings': [
        {'name': 'AzureIngestionAttributeOptimization', 'value': 'False'},
        {'name': 'LookaheadQueryEnabled', 'value': 'False'},
    ],
}

QUARANTINE = {
    'currentBegan': '2021-05-24T21:45:54.4981365Z',
    'nextAttempt': '2021-05-24T21:50:54.4981365Z',
    'reason': 'EncounteredQuarantineException',
    'seriesBegan': '2021-05-24T21:45:54.4981365Z',
    'seriesCount': 1,
    'error': {
        'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
        'message': 'Please provide a valid tenant URL for your application.',
        'tenantActionable': True,
    },
}

EXECUTION_KEYS = {
    'activity_identifier', 'count_entitled', 'count_entitled_for_provisioning', 'count_escrowed', 'count_escrowed_raw',
    'count_exported', 'count_exports', 'count_imported', 'count_imported_deltas', 'count_imported_reference_deltas',
    'error', 'state', 'time_began', 'time_ended',
}


@pytest.mark.parametrize('name, expected', [
    ('templateId', 'template_id'),
    ('lastSuccessfulExecutionWithExports', 'last_successful_execution_with_exports'),
    ('countImportedReferenceDeltas', 'count_imported_reference_deltas'),
    ('troubleshootingUrl', 'troubleshooting_url'),
    ('SAMLToken', 'saml_token'),
    ('id', 'id'),
    ('appId', 'app_id'),
    ('v1Value', 'v1_value'),
])
def test_snake_name(name, expected):
    assert snake_name(name) == expected


def test_to_snake_walks_nested_lists_and_drops_odata_annotations():
    graph = {'@odata.context': 'x', 'displayName': 'Box', 'appRoles': [{'allowedMemberTypes': ['User'], 'isEnabled': True}]}

    assert to_snake(graph) == {'display_name': 'Box', 'app_roles': [{'allowed_member_types': ['User'], 'is_enabled': True}]}


def test_to_snake_does_not_change_its_input():
    graph = {'displayName': 'Box', 'tags': ['a']}
    before = copy.deepcopy(graph)

    to_snake(graph)

    assert graph == before


def test_job_to_result_shape_of_a_started_job():
    job = job_to_result(STARTED_JOB)

    assert set(job) == {'id', 'template_id', 'schedule', 'status', 'synchronization_job_settings'}
    assert job['id'] == 'Azure2Azure.e4bbf44533ea4eabb17027f3a92e92aa'
    assert job['template_id'] == 'Azure2Azure'
    assert job['schedule'] == {'state': 'Active', 'interval': 'PT40M', 'expiration': None}
    assert job['status']['code'] == 'NotRun'
    assert job['status']['count_successive_complete_failures'] == 0
    assert job['status']['escrows_pruned'] is False
    assert job['status']['troubleshooting_url'] == ''
    # Setting names are data: kept as Graph spells them, not snake_cased.
    assert job['synchronization_job_settings'] == {'AzureIngestionAttributeOptimization': 'False', 'LookaheadQueryEnabled': 'False'}


def test_never_reached_timestamps_become_none():
    status = job_to_result(STARTED_JOB)['status']

    assert status['steady_state_first_achieved_time'] is None
    assert status['steady_state_last_achieved_time'] is None
    assert status['last_execution']['time_began'] is None


def test_execution_records_carry_every_documented_field():
    execution = job_to_result(STARTED_JOB)['status']['last_execution']

    assert set(execution) == EXECUTION_KEYS
    assert execution['state'] == 'Failed'
    assert execution['error'] == {'code': 'None', 'message': '', 'tenant_actionable': False}


def test_missing_execution_fields_are_filled_with_none():
    graph = copy.deepcopy(STARTED_JOB)
    graph['status']['lastSuccessfulExecution'] = {'state': 'Succeeded', 'countExported': 3}

    execution = job_to_result(graph)['status']['last_successful_execution']

    assert set(execution) == EXECUTION_KEYS
    assert execution['count_exported'] == 3
    assert execution['count_imported'] is None
    assert execution['error'] is None


def test_quarantine_is_converted_with_its_error():
    graph = copy.deepcopy(STARTED_JOB)
    graph['status'].update(code='Quarantine', quarantine=QUARANTINE)

    quarantine = job_to_result(graph)['status']['quarantine']

    assert quarantine == {
        'current_began': '2021-05-24T21:45:54.4981365Z',
        'next_attempt': '2021-05-24T21:50:54.4981365Z',
        'reason': 'EncounteredQuarantineException',
        'series_began': '2021-05-24T21:45:54.4981365Z',
        'series_count': 1,
        'error': {
            'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
            'message': 'Please provide a valid tenant URL for your application.',
            'tenant_actionable': True,
        },
    }


def test_quarantine_with_the_doc_examples_empty_strings_reads_as_none():
    # The job-get page's example prints "" in typed quarantine fields (docs/graph-behaviour.md §2.6).
    graph = copy.deepcopy(STARTED_JOB)
    graph['status']['quarantine'] = {'currentBegan': '', 'nextAttempt': '', 'reason': '', 'seriesBegan': '', 'seriesCount': 2}

    quarantine = job_to_result(graph)['status']['quarantine']

    assert quarantine['reason'] is None
    assert quarantine['current_began'] is None
    assert quarantine['series_count'] == 2
    assert quarantine['error'] is None


def test_counts_and_progress():
    graph = copy.deepcopy(STARTED_JOB)
    graph['status']['synchronizedEntryCountByType'] = [{'key': 'user to user', 'value': 12}, {'key': 'group to group', 'value': 2}]
    graph['status']['progress'] = [{'completedUnits': 5, 'totalUnits': 10, 'units': 'Users',
                                    'progressObservationDateTime': '2024-01-01T00:00:00Z'}]

    status = job_to_result(graph)['status']

    assert status['synchronized_entry_count_by_type'] == {'user to user': 12, 'group to group': 2}
    assert status['progress'] == [{'completed_units': 5, 'total_units': 10, 'units': 'Users',
                                   'progress_observation_date_time': '2024-01-01T00:00:00Z'}]


def test_a_job_with_an_empty_status_still_has_every_key():
    # The synchronization overview's list example prints "status": {} (docs/graph-behaviour.md §2.8).
    job = job_to_result({'id': 'SfSandboxOutDelta.e4bb', 'templateId': 'SfSandboxOutDelta',
                         'schedule': {'expiration': None, 'interval': 'PT20M', 'state': 'Active'}, 'status': {}})

    assert job['status']['code'] is None
    assert job['status']['last_execution'] is None
    assert job['status']['quarantine'] is None
    assert job['status']['progress'] == []
    assert job['status']['synchronized_entry_count_by_type'] == {}
    assert job['synchronization_job_settings'] == {}


def test_job_to_result_of_none_is_none():
    assert job_to_result(None) is None
