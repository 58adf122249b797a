# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import time

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._convert import job_to_result
from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import BatchResult
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, error_from_response
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import (
    HEALTH_VERDICTS,
    JobScan,
    check_options,
    describe_health,
    health_advice,
    job_entry,
    job_health,
    job_matches,
    parse_timestamp,
    read_ahead,
    schema_path,
    summarize,
    template_to_result,
    unreadable_entry,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 5, 25, 12, 0, 0, tzinfo=UTC)
SP = {'id': '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f', 'appId': '3c653ec4-4e4c-4820-8127-49e3889cad99', 'displayName': 'Contoso HR SCIM'}

# Job states as Microsoft's documentation prints them (docs/graph-behaviour.md §2.8 names the pages):
# a job created from a gallery template (the post-jobs example, docs/graph-behaviour.md §3.1).
CREATED = {
    'id': 'BoxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa', 'templateId': 'BoxOutDelta',
    'schedule': {'expiration': None, 'interval': 'P10675199DT2H48M5.4775807S', 'state': 'Disabled'},
    'status': {'countSuccessiveCompleteFailures': 0, 'escrowsPruned': False, 'synchronizedEntryCountByType': [],
               'code': 'NotConfigured', 'lastExecution': None, 'lastSuccessfulExecution': None,
               'lastSuccessfulExecutionWithExports': None, 'steadyStateFirstAchievedTime': '0001-01-01T00:00:00Z',
               'steadyStateLastAchievedTime': '0001-01-01T00:00:00Z', 'quarantine': None, 'troubleshootingUrl': None},
}
# Credentials saved, never started (the list-jobs example: Disabled + Paused, docs/graph-behaviour.md §3.2).
CONFIGURED = copy.deepcopy(CREATED)
CONFIGURED['status']['code'] = 'Paused'
# Right after start (the cross-tenant synchronization walkthrough): NotRun with a placeholder lastExecution "Failed".
STARTED = {
    'id': 'Azure2Azure.e4bbf44533ea4eabb17027f3a92e92aa', 'templateId': 'Azure2Azure',
    'schedule': {'expiration': None, 'interval': 'PT40M', 'state': 'Active'},
    'status': {
        'countSuccessiveCompleteFailures': 0, 'escrowsPruned': False, 'code': 'NotRun', 'lastSuccessfulExecution': None,
        'lastSuccessfulExecutionWithExports': None, 'quarantine': None, 'troubleshootingUrl': '',
        'steadyStateFirstAchievedTime': '0001-01-01T00:00:00Z', 'steadyStateLastAchievedTime': '0001-01-01T00:00:00Z',
        'lastExecution': {
            'activityIdentifier': None, 'countEntitled': 0, 'countEntitledForProvisioning': 0, 'countEscrowed': 0,
            'countEscrowedRaw': 0, 'countExported': 0, 'countExports': 0, 'countImported': 0, 'countImportedDeltas': 0,
            'countImportedReferenceDeltas': 0, 'state': 'Failed', 'timeBegan': '0001-01-01T00:00:00Z',
            'timeEnded': '0001-01-01T00:00:00Z', 'error': {'code': 'None', 'message': '', 'tenantActionable': False},
        },
        'progress': [], 'synchronizedEntryCountByType': [],
    },
}
# Quarantined (the Box job of the archived synchronization_job page, docs/graph-behaviour.md §2.8).
QUARANTINED = {
    'id': 'BoxOutDelta.7928d5b574424a97ae2d66f9e9972ecb', 'templateId': 'BoxOutDelta',
    'schedule': {'expiration': None, 'interval': 'PT40M', 'state': 'Active'},
    'status': {
        'countSuccessiveCompleteFailures': 0, 'escrowsPruned': False, 'synchronizedEntryCountByType': [], 'code': 'Quarantine',
        'lastExecution': {
            'activityIdentifier': '703dd82f-faa0-4dbd-abdc-48f620ed7ab4', 'countEntitled': 0, 'countEntitledForProvisioning': 0,
            'countEscrowed': 0, 'countEscrowedRaw': 0, 'countExported': 0, 'countExports': 0, 'countImported': 0,
            'countImportedDeltas': 0, 'countImportedReferenceDeltas': 0, 'state': 'Failed',
            'error': {'code': 'BoxInsufficientPermissions', 'message': 'Authorization with Box is not valid. Please re-authorize access to Box',
                      'tenantActionable': True},
            'timeBegan': '2017-07-19T14:55:58.5434447Z', 'timeEnded': '2017-07-19T14:55:58.5570274Z',
        },
        'lastSuccessfulExecution': None, 'lastSuccessfulExecutionWithExports': None,
        'steadyStateFirstAchievedTime': '0001-01-01T00:00:00Z', 'steadyStateLastAchievedTime': '0001-01-01T00:00:00Z',
        'quarantine': {'currentBegan': '2017-07-19T12:35:27.0869139Z', 'nextAttempt': '0001-01-01T00:00:00Z',
                       'reason': 'EncounteredQuarantineException', 'seriesBegan': '2017-07-19T06:56:58.2464011Z', 'seriesCount': 6},
    },
}


def running(state='Succeeded', ended='2024-05-25T11:20:00.1234567Z', failures=0, escrowed=0, error=None):
    """A job running periodically (the synchronization overview's shape) whose last cycle ended as given."""
    job = copy.deepcopy(STARTED)
    job['status'].update(code='Active', countSuccessiveCompleteFailures=failures)
    job['status']['lastExecution'].update(state=state, timeBegan='2024-05-25T11:19:00Z', timeEnded=ended,
                                          countEscrowed=escrowed, error=error)
    if state != 'Failed':
        job['status']['lastSuccessfulExecution'] = dict(job['status']['lastExecution'])
    return job


def health(graph_job, now=NOW, stale_after_hours=24.0):
    return job_health(job_to_result(graph_job), now=now, stale_after_hours=stale_after_hours)


@pytest.mark.parametrize('graph_job, expected', [
    (CREATED, 'not_configured'),
    (CONFIGURED, 'disabled'),
    (STARTED, 'not_run'),
    (QUARANTINED, 'quarantined'),
    (running(), 'healthy'),
    (running(state='EntryLevelErrors', escrowed=4), 'degraded'),
    (running(state='Failed', error={'code': 'SystemForCrossDomainIdentityManagementServiceIncompatible', 'message': 'x'}), 'failing'),
    (running(failures=2), 'failing'),
    (running(ended='2024-05-23T11:20:00Z'), 'stale'),
])
def test_health_of_each_documented_job_state(graph_job, expected):
    assert health(graph_job) == expected


def test_a_paused_job_is_paused():
    job = running()
    job['schedule']['state'] = 'Paused'
    job['status']['code'] = 'Paused'

    assert health(job) == 'paused'


def test_a_just_started_job_is_not_failing_despite_its_placeholder_failed_execution():
    # docs/graph-behaviour.md §2.5: the placeholder lastExecution (state Failed) while the code is NotRun is not a failure.
    assert job_to_result(STARTED)['status']['last_execution']['state'] == 'Failed'
    assert health(STARTED) == 'not_run'


def test_quarantine_wins_over_a_paused_or_disabled_schedule():
    job = copy.deepcopy(QUARANTINED)
    job['schedule']['state'] = 'Disabled'  # the service disables a job after four weeks of quarantine

    assert health(job) == 'quarantined'


def test_stale_needs_a_threshold_and_a_clock():
    old = running(ended='2024-05-01T00:00:00Z')

    assert health(old, stale_after_hours=24.0) == 'stale'
    assert health(old, stale_after_hours=0) == 'healthy'
    assert health(old, now=None) == 'healthy'
    assert health(running(ended='2024-05-24T12:30:00Z'), stale_after_hours=24.0) == 'healthy'


def test_a_failing_job_is_failing_even_when_it_is_also_stale():
    assert health(running(state='Failed', ended='2024-05-01T00:00:00Z')) == 'failing'


def test_stale_wins_over_degraded():
    assert health(running(state='EntryLevelErrors', ended='2024-05-01T00:00:00Z')) == 'stale'


def test_status_codes_this_collection_does_not_know_are_unknown():
    job = running()
    job['status']['code'] = 'InProgress'  # named by a Microsoft agent, not a member of synchronizationStatusCode

    assert health(job) == 'unknown'
    # The overview example prints "status": {} (docs/graph-behaviour.md §2.8).
    assert health({'id': 'SfSandboxOutDelta.e4bb', 'templateId': 'SfSandboxOutDelta',
                   'schedule': {'expiration': None, 'interval': 'PT20M', 'state': 'Active'}, 'status': {}}) == 'unknown'


def test_quarantine_reason_names_the_reason_the_error_and_when():
    job = job_to_result(QUARANTINED)

    text = describe_health(job, 'quarantined')

    assert text == ('Quarantined since 2017-07-19T12:35:27.0869139Z (EncounteredQuarantineException): '
                    'BoxInsufficientPermissions: Authorization with Box is not valid. Please re-authorize access to Box.')


def test_a_job_quarantined_for_too_many_deletes_says_so_and_how_to_approve():
    job = copy.deepcopy(QUARANTINED)
    job['status']['quarantine'].update(reason='TooManyDeletes', error=None)
    job['status']['lastExecution']['error'] = None

    text = describe_health(job_to_result(job), 'quarantined')

    assert text.startswith('Quarantined since 2017-07-19T12:35:27.0869139Z (TooManyDeletes). Accidental-deletion prevention: ')
    assert 'provisioning_log_info (action: stagedDelete)' in text
    assert 'state: restarted, restart_scope: [ForceDeletes]' in text
    # Any other reason does not mention staged deletes.
    assert 'stagedDelete' not in describe_health(job_to_result(QUARANTINED), 'quarantined')


def test_failing_reason_names_the_error_and_the_failure_count():
    job = job_to_result(running(state='Failed', failures=3, error={'code': 'Timeout', 'message': 'The target took too long.'}))

    assert describe_health(job, 'failing') == 'The last cycle failed (Timeout: The target took too long); 3 complete failures in a row.'


def test_stale_reason_says_how_long():
    job = job_to_result(running(ended='2024-05-23T12:00:00Z'))

    assert describe_health(job, 'stale', now=NOW, stale_after_hours=24.0).startswith('No cycle has ended for 48 hours (threshold stale_after_hours=24)')


@pytest.mark.parametrize('verdict', [verdict for verdict in HEALTH_VERDICTS if verdict != 'unreadable'])
def test_every_verdict_has_a_reason(verdict):
    assert describe_health(job_to_result(running()), verdict, now=NOW, stale_after_hours=24.0)


@pytest.mark.parametrize('verdict', [verdict for verdict in HEALTH_VERDICTS if verdict != 'unreadable'])
def test_every_verdict_has_advice(verdict):
    assert health_advice(job_to_result(running()), verdict).endswith('.')


def quarantined_for(reason):
    job = job_to_result(QUARANTINED)
    job['status']['quarantine']['reason'] = reason
    return job


@pytest.mark.parametrize('reason, fix', [
    ('EncounteredQuarantineException', 'save the right ones with entra.provisioning.synchronization_secret'),
    ('EncounteredBaseEscrowThreshold', 'restart the job'),
    ('EncounteredTotalEscrowThreshold', 'restart the job'),
    ('EncounteredEscrowProportionThreshold', 'restart the job'),
    ('TooManyDeletes', 'accidental-deletion threshold'),
    ('QuarantinedOnDemand', 'quarantined on request'),
    ('IngestionInterrupted', 'Read the quarantine error'),
    (None, 'Read the quarantine error'),
])
def test_quarantine_advice_follows_the_quarantine_reason(reason, fix):
    assert fix in health_advice(quarantined_for(reason), 'quarantined')


def test_job_entry_carries_the_advice_and_a_healthy_job_needs_nothing():
    assert job_entry(running(), SP, now=NOW, stale_after_hours=24.0)['health_advice'] == 'Nothing to do.'
    assert 'start the job' in job_entry(QUARANTINED, SP, now=NOW, stale_after_hours=24.0)['health_advice']


def paused():
    job = running()
    job['schedule']['state'] = job['status']['code'] = 'Paused'
    return job


def unknown_code():
    job = running()
    job['status']['code'] = 'InProgress'
    return job


@pytest.mark.parametrize('graph_job, verdict, reason', [
    (CREATED, 'not_configured', 'Not configured: no credentials have been saved and the job has never run.'),
    (CONFIGURED, 'disabled', 'Not scheduled (schedule state Disabled): the job was never started, or the service disabled it.'),
    (paused(), 'paused', 'Paused: the job keeps its state and runs again when started.'),
    (STARTED, 'not_run', 'Started; the first cycle has not finished yet.'),
    (running(state='EntryLevelErrors', escrowed=4), 'degraded',
     'The last cycle ended with errors on some objects (4 escrowed, retried in later cycles).'),
    (running(state='EntryLevelErrors'), 'degraded', 'The last cycle ended with errors on some objects.'),
    (running(), 'healthy', 'Running; the last cycle succeeded at 2024-05-25T11:20:00.1234567Z.'),
    (running(failures=2), 'failing', 'The last cycle failed; 2 complete failures in a row.'),
    (unknown_code(), 'unknown', 'Status code InProgress is not one this collection knows.'),
])
def test_each_verdict_comes_with_its_reason(graph_job, verdict, reason):
    entry = job_entry(graph_job, SP, now=NOW, stale_after_hours=24.0)

    assert (entry['health'], entry['health_reason']) == (verdict, reason)


@pytest.mark.parametrize('value, expected', [
    ('2017-07-19T14:55:58.5570274Z', datetime.datetime(2017, 7, 19, 14, 55, 58, 557027, tzinfo=UTC)),
    ('2024-05-25T11:20:00Z', datetime.datetime(2024, 5, 25, 11, 20, tzinfo=UTC)),
    ('2024-05-25T13:20:00+02:00', datetime.datetime(2024, 5, 25, 11, 20, tzinfo=UTC)),
    ('0001-01-01T00:00:00Z', None),
    ('', None),
    (None, None),
    ('yesterday', None),
])
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


def test_job_entry_adds_the_service_principal_health_and_reason_to_the_converted_job():
    entry = job_entry(QUARANTINED, SP, now=NOW, stale_after_hours=24.0)

    assert entry['service_principal'] == {'id': SP['id'], 'app_id': SP['appId'], 'display_name': 'Contoso HR SCIM'}
    assert entry['health'] == 'quarantined'
    assert entry['health_reason'].startswith('Quarantined since')
    expected = job_to_result(QUARANTINED)
    assert dict((key, entry[key]) for key in expected) == expected


@pytest.mark.parametrize('job_id, template_id, expected', [
    (None, None, True),
    ('BoxOutDelta.7928d5b574424a97ae2d66f9e9972ecb', None, True),
    ('boxoutdelta.7928D5B574424A97AE2D66F9E9972ECB', None, True),
    ('BoxOutDelta.other', None, False),
    (None, 'boxoutdelta', True),
    (None, 'scim', False),
    ('BoxOutDelta.7928d5b574424a97ae2d66f9e9972ecb', 'scim', False),
])
def test_job_matches_the_filters_case_insensitively(job_id, template_id, expected):
    assert job_matches(QUARANTINED, job_id=job_id, template_id=template_id) is expected


def forbidden(sp_id):
    path = '/servicePrincipals/%s/synchronization/jobs' % sp_id
    body = {'error': {'code': 'Authorization_RequestDenied', 'message': 'Insufficient privileges to complete the operation.'}}
    return error_from_response(403, body, 'GET', path)


def test_an_unreadable_entry_says_why_and_which_permission_is_needed():
    entry = unreadable_entry(SP, forbidden(SP['id']))

    assert entry['health'] == 'unreadable'
    assert entry['id'] is None and entry['status'] is None
    assert entry['error']['status'] == 403
    assert entry['error']['code'] == 'Authorization_RequestDenied'
    assert 'HTTP 403 (Authorization_RequestDenied)' in entry['health_reason']
    assert 'Synchronization.Read.All' in entry['health_reason']


def test_an_unreadable_entry_has_every_documented_error_key_whatever_the_error():
    keys = set(forbidden(SP['id']).to_result())
    for error in (forbidden(SP['id']), ConnectionError('connection reset')):
        entry = unreadable_entry(SP, error)
        assert set(entry['error']) == keys, error
    assert unreadable_entry(SP, ConnectionError('connection reset'))['error']['message'] == 'connection reset'


def test_summary_counts():
    entries = [job_entry(job, SP, NOW, 24.0) for job in (CREATED, QUARANTINED, running(), running())]
    entries.append(unreadable_entry(dict(SP, id='other'), forbidden('other')))

    summary = summarize(entries, scanned=10, skipped=1, graph_requests=3)

    assert summary['by_health'] == dict(dict((verdict, 0) for verdict in HEALTH_VERDICTS),
                                        not_configured=1, quarantined=1, healthy=2, unreadable=1)
    assert summary['by_template'] == {'BoxOutDelta': 2, 'Azure2Azure': 2}
    assert summary['jobs'] == 4
    assert summary['service_principals_scanned'] == 10
    assert summary['service_principals_with_jobs'] == 1
    assert summary['service_principals_unreadable'] == 1
    assert summary['service_principals_skipped'] == 1
    assert summary['graph_requests'] == 3


class _Collector:
    def __init__(self):
        self.warnings = []

    def __call__(self, msg):
        self.warnings.append(msg)


def scan_for(**params):
    params.setdefault('stale_after_hours', 24.0)
    warn = _Collector()
    return JobScan(client=None, params=params, warn=warn, now=NOW), warn


def test_scan_keeps_only_service_principals_with_matching_jobs():
    scan, dummy = scan_for(template_id='BoxOutDelta')
    other = dict(SP, id='b1b1b1b1-0000-0000-0000-000000000000', displayName='Other')

    scan._take(SP, '/x', BatchResult(200, {'value': [QUARANTINED, STARTED]}))
    scan._take(other, '/y', BatchResult(200, {'value': [STARTED]}))
    scan._take(dict(SP, id='c'), '/z', BatchResult(200, {'value': []}))

    assert [entry['id'] for entry in scan.entries] == [QUARANTINED['id']]
    assert list(scan.service_principals) == [SP['id']]


def test_scan_skips_a_service_principal_deleted_mid_scan_with_a_warning():
    scan, warn = scan_for()
    path = '/servicePrincipals/%s/synchronization/jobs' % SP['id']

    scan._take(SP, path, BatchResult(404, None, error_from_response(404, None, 'GET', path)))
    scan.report_problems()

    assert scan.entries == []
    assert scan.skipped == [SP['id']]
    assert warn.warnings == ['1 service principal(s) were deleted while the scan ran and were skipped: %s' % SP['id']]


def test_scan_reports_a_forbidden_service_principal_as_an_entry_not_a_failure():
    scan, warn = scan_for()

    scan._take(SP, '/x', BatchResult(403, None, forbidden(SP['id'])))
    scan.report_problems()

    assert [entry['health'] for entry in scan.entries] == ['unreadable']
    assert SP['id'] in scan.service_principals
    assert len(warn.warnings) == 1 and 'could not be read' in warn.warnings[0]


def test_schema_path_keeps_the_dotted_job_id():
    path = schema_path('sp', 'scim.e4bbf44533ea4eabb17027f3a92e92aa')

    assert path == '/servicePrincipals/sp/synchronization/jobs/scim.e4bbf44533ea4eabb17027f3a92e92aa/schema'


def test_templates_are_returned_without_their_schema():
    # The list-templates page's example (docs/graph-behaviour.md §2.8), abridged.
    template = {'id': 'Slack', 'applicationId': '12345678-1234-1234-1234-123456789012', 'factoryTag': 'CustomSCIM',
                'default': True, 'schema': {'directories': [], 'synchronizationRules': []},
                'metadata': [{'key': 'GalleryApplicationKey', 'value': 'slack'}]}

    assert template_to_result(template) == {'id': 'Slack', 'application_id': '12345678-1234-1234-1234-123456789012',
                                            'factory_tag': 'CustomSCIM', 'default': True,
                                            'metadata': [{'key': 'GalleryApplicationKey', 'value': 'slack'}]}


def valid(**overrides):
    params = dict(service_principal_id=None, application_id=None, service_principal_filter=None, job_id=None, template_id=None,
                  include_templates=False, include_schema=False, batch_concurrency=4, stale_after_hours=24.0)
    params.update(overrides)
    return params


@pytest.mark.parametrize('overrides, option', [
    (dict(service_principal_id='Contoso HR SCIM'), 'service_principal_id'),
    (dict(application_id='3c653ec4'), 'application_id'),
    (dict(batch_concurrency=0), 'batch_concurrency'),
    (dict(batch_concurrency=21), 'batch_concurrency'),
    (dict(stale_after_hours=-1.0), 'stale_after_hours'),
    (dict(service_principal_filter='  '), 'service_principal_filter'),
])
def test_bad_options_fail_naming_the_option(overrides, option):
    with pytest.raises(TaskFailure) as failure:
        check_options(valid(**overrides))

    assert failure.value.msg.startswith(option)


def test_good_options_pass():
    check_options(valid(service_principal_id='5F0F4F2C-6A3E-4D0B-9A61-7B1E0C2D3E4F', batch_concurrency=20, stale_after_hours=0))


def test_read_ahead_yields_everything_in_order():
    assert list(read_ahead(iter([[1, 2], [3], []]))) == [[1, 2], [3], []]


def test_read_ahead_fetches_the_next_page_before_it_is_asked_for():
    fetched = []

    def pages():
        for number in range(3):
            fetched.append(number)
            yield [number]

    iterator = read_ahead(pages())
    assert next(iterator) == [0]
    deadline = time.monotonic() + 5
    while len(fetched) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fetched[:2] == [0, 1]


def test_read_ahead_raises_the_producers_error_in_the_consumer():
    def pages():
        yield [1]
        raise error_from_response(400, {'error': {'code': 'Request_UnsupportedQuery', 'message': 'bad filter'}}, 'GET', '/servicePrincipals')

    iterator = read_ahead(pages())
    assert next(iterator) == [1]
    with pytest.raises(GraphError) as raised:
        next(iterator)
    assert raised.value.code == 'Request_UnsupportedQuery'
