# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""Provisioning facts, from one service principal to a whole tenant: the logic of ``synchronization_job_info``.

A tenant scan lists service principals (``$select`` of three properties, 999 per page, the most Graph allows) and
feeds them, page by page as they arrive, into ``$batch`` requests of 20 ``GET .../synchronization/jobs`` with a
bounded number of batches in flight (``GraphClient.iter_batch_get``). Only the service principals that have jobs are
kept, so memory stays flat however large the tenant is.

The health verdict of a job is one table of pure rules (``HEALTH_RULES``: each verdict, its rule and its reason), documented
in the module's RETURN.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
import threading

from collections import namedtuple
from queue import Queue

from ansible_collections.entra.provisioning.plugins.module_utils._convert import job_to_result, to_snake
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import STAGED_DELETES_ADVICE
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import (
    check_identity,
    graph_path,
    id_segment,
    object_id,
)

# The largest page Graph serves for directory objects ($top accepts 1-999, docs/graph-behaviour.md §6.1).
SERVICE_PRINCIPAL_PAGE_SIZE = 999
SERVICE_PRINCIPAL_SELECT = 'id,appId,displayName'
MAX_BATCH_CONCURRENCY = 20
# Service principals named in a warning, at most; the rest are counted.
_WARN_LIST_LIMIT = 10

# Graph timestamps carry up to 7 fractional digits ("2017-07-19T14:55:58.5570274Z"), which Python < 3.11 cannot parse.
_TIMESTAMP = re.compile(r'^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$')

ARGUMENT_SPEC = dict(
    service_principal_id=dict(type='str'),
    application_id=dict(type='str'),
    service_principal_filter=dict(type='str'),
    job_id=dict(type='str'),
    template_id=dict(type='str'),
    include_templates=dict(type='bool', default=False),
    include_schema=dict(type='bool', default=False),
    batch_concurrency=dict(type='int', default=4),
    stale_after_hours=dict(type='float', default=24.0),
)

MODULE_SPEC = module_spec(
    ARGUMENT_SPEC,
    mutually_exclusive=[('service_principal_id', 'application_id', 'service_principal_filter')],
)


# --- the health rule (pure) ----------------------------------------------------------------------------------------

def parse_timestamp(value):
    """A Graph timestamp as an aware UTC datetime, or None (absent, "never", or not a timestamp)."""
    if not value:
        return None
    match = _TIMESTAMP.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or '0')[:6].ljust(6, '0'))
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
    except ValueError:
        return None
    if zone and zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        moment -= sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    if moment.year <= 1:
        return None  # .NET DateTimeOffset.MinValue: "never" (docs/graph-behaviour.md §2.4)
    return moment.replace(tzinfo=datetime.timezone.utc)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def last_cycle_end(job):
    """When the job's most recent cycle ended (or began, if it has no end), as a datetime; None if it never ran."""
    status = job.get('status') or {}
    for record in ('last_execution', 'last_successful_execution'):
        execution = status.get(record) or {}
        moment = parse_timestamp(execution.get('time_ended')) or parse_timestamp(execution.get('time_began'))
        if moment is not None:
            return moment
    return None


class _Job:
    """What the health rules read from a job (the ``job`` shape of ``_convert.job_to_result``), and when they read it."""

    def __init__(self, job, now=None, stale_after_hours=None):
        self.job = job
        self.status = job.get('status') or {}
        self.code = self.status.get('code')
        self.schedule_state = (job.get('schedule') or {}).get('state')
        self.last_execution = self.status.get('last_execution') or {}
        self.last_state = self.last_execution.get('state')
        self.failures = self.status.get('count_successive_complete_failures') or 0
        self.now = now
        self.stale_after_hours = stale_after_hours

    def hours_since_last_cycle(self):
        """Hours since the last cycle ended; None when unknown (never ran, or no clock given)."""
        ended = last_cycle_end(self.job)
        if self.now is None or ended is None:
            return None
        return (self.now - ended).total_seconds() / 3600.0

    def is_stale(self):
        hours = self.hours_since_last_cycle() if self.stale_after_hours else None
        return hours is not None and hours > self.stale_after_hours


def _error_text(error):
    if not error or not (error.get('code') or error.get('message')):
        return None
    if error.get('code') and error.get('message'):
        return '%s: %s' % (error['code'], error['message'].rstrip('.'))
    return error.get('code') or error.get('message').rstrip('.')


def _number(value):
    return ('%f' % value).rstrip('0').rstrip('.') if isinstance(value, float) else str(value)


def _quarantined_reason(job):
    quarantine = job.status.get('quarantine') or {}
    text = 'Quarantined'
    if quarantine.get('current_began'):
        text += ' since %s' % quarantine['current_began']
    if quarantine.get('reason'):
        text += ' (%s)' % quarantine['reason']
    error = _error_text(quarantine.get('error')) or _error_text(job.last_execution.get('error'))
    if error:
        text += ': %s' % error
    if quarantine.get('next_attempt'):
        text += '; next attempt %s' % quarantine['next_attempt']
    if quarantine.get('reason') == 'TooManyDeletes':
        text += STAGED_DELETES_ADVICE
    return text + '.'


def _failing_reason(job):
    text = 'The last cycle failed'
    error = _error_text(job.last_execution.get('error'))
    if error and error != 'None':
        text += ' (%s)' % error
    if job.failures:
        text += '; %d complete failures in a row' % job.failures
    return text + '.'


def _stale_reason(job):
    return ('No cycle has ended for %.0f hours (threshold stale_after_hours=%s); the service is not running the job.'
            % (job.hours_since_last_cycle() or 0, _number(job.stale_after_hours)))


def _degraded_reason(job):
    escrowed = job.last_execution.get('count_escrowed')
    return 'The last cycle ended with errors on some objects%s.' % (
        ' (%s escrowed, retried in later cycles)' % escrowed if escrowed else '')


def _healthy_reason(job):
    ended = job.last_execution.get('time_ended')
    return 'Running; the last cycle succeeded%s.' % (' at %s' % ended if ended else '')


# What to try for each quarantine reason (https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationquarantine,
# https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status). Starting a
# quarantined job clears its quarantine (https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-start).
_QUARANTINE_ADVICE = {
    'EncounteredQuarantineException': 'Check the admin credentials (tenant URL and secret token) and that the target '
                                      'app answers; save the right ones with entra.provisioning.synchronization_secret, '
                                      'then start the job (entra.provisioning.synchronization_job state=started), which '
                                      'clears the quarantine.',
    'TooManyDeletes': 'The job stopped before deleting more objects than its accidental-deletion threshold allows: review '
                      'the pending deletions in the provisioning logs; if they are intended, raise the threshold, then '
                      'start the job.',
    'QuarantinedOnDemand': 'The job was quarantined on request: start it when the target app is ready.',
}
_ESCROW_ADVICE = ('Most exports failed: read the errors in the provisioning logs (often a mapping or a required attribute '
                  'of the target app), fix them, then restart the job (entra.provisioning.synchronization_job '
                  'state=restarted).')
_DEFAULT_QUARANTINE_ADVICE = ('Read the quarantine error and the provisioning logs, fix the cause, then start the job '
                              '(entra.provisioning.synchronization_job state=started), which clears the quarantine.')


def _quarantined_advice(job):
    reason = (job.status.get('quarantine') or {}).get('reason') or ''
    if reason.startswith('EncounteredBaseEscrow') or reason.startswith('EncounteredTotalEscrow') \
            or reason.startswith('EncounteredEscrowProportion'):
        return _ESCROW_ADVICE
    return _QUARANTINE_ADVICE.get(reason, _DEFAULT_QUARANTINE_ADVICE)


def _always(text):
    return lambda job: text


HealthRule = namedtuple('HealthRule', 'verdict applies reason advice')

# The health verdicts of a job: each one's rule, the sentence that explains it and the fix to try, in the order they are
# tried (the first rule that applies wins). The module's RETURN (jobs[].health) documents the same rules in the same order.
HEALTH_RULES = (
    HealthRule('quarantined', lambda job: job.code == 'Quarantine', _quarantined_reason, _quarantined_advice),
    HealthRule('not_configured', lambda job: job.code == 'NotConfigured',
               lambda job: 'Not configured: no credentials have been saved and the job has never run.',
               _always('Save the admin credentials (entra.provisioning.synchronization_secret), then start the job.')),
    # Never started, or disabled by the service after a long quarantine (docs/graph-behaviour.md §3.2).
    HealthRule('disabled', lambda job: job.schedule_state == 'Disabled',
               lambda job: 'Not scheduled (schedule state Disabled): the job was never started, or the service disabled it.',
               _always('Start the job (entra.provisioning.synchronization_job state=started); if the service disabled it '
                       'after four weeks in quarantine, fix the cause of the quarantine first.')),
    HealthRule('paused', lambda job: 'Paused' in (job.code, job.schedule_state),
               lambda job: 'Paused: the job keeps its state and runs again when started.',
               _always('Start the job when provisioning should resume (entra.provisioning.synchronization_job state=started).')),
    # Its placeholder last_execution (state Failed, error code None) is not a failure (docs/graph-behaviour.md §2.5).
    HealthRule('not_run', lambda job: job.code == 'NotRun', lambda job: 'Started; the first cycle has not finished yet.',
               _always('Nothing to fix: wait for the first cycle to end (it can take hours in a large tenant).')),
    HealthRule('failing', lambda job: job.code == 'Active' and (job.last_state == 'Failed' or job.failures > 0),
               _failing_reason,
               _always('Fix the error of the last cycle (credentials, or the target app being unreachable); the service '
                       'tries again on its next cycle and quarantines the job if the failures go on.')),
    HealthRule('stale', lambda job: job.code == 'Active' and job.is_stale(), _stale_reason,
               _always('Open the job in the admin center and check its schedule; restarting it '
                       '(entra.provisioning.synchronization_job state=restarted) begins a new cycle.')),
    HealthRule('degraded', lambda job: job.code == 'Active' and job.last_state == 'EntryLevelErrors', _degraded_reason,
               _always('Read the errors of the escrowed objects in the provisioning logs (often a missing or duplicate '
                       'attribute in the target app) and fix them; the service retries them in later cycles.')),
    HealthRule('healthy', lambda job: job.code == 'Active', _healthy_reason, _always('Nothing to do.')),
    # Any other status code: one this collection does not know.
    HealthRule('unknown', lambda job: True, lambda job: 'Status code %s is not one this collection knows.' % job.code,
               _always('Open the job in the admin center: this collection does not know its status code.')),
)
_HEALTH_RULE = dict((rule.verdict, rule) for rule in HEALTH_RULES)

# Every verdict, in the order of HEALTH_RULES; ``unreadable`` is given by the scan itself (``unreadable_entry``).
HEALTH_VERDICTS = ('unreadable',) + tuple(rule.verdict for rule in HEALTH_RULES)


def job_health(job, now=None, stale_after_hours=None):
    """The verdict of the first rule of ``HEALTH_RULES`` that applies to ``job``; ``stale`` only when ``now`` and
    ``stale_after_hours`` are given."""
    facts = _Job(job, now, stale_after_hours)
    return next(rule.verdict for rule in HEALTH_RULES if rule.applies(facts))


def describe_health(job, health, now=None, stale_after_hours=None):
    """One sentence that says why ``job`` has the verdict ``health``, for reports and alert e-mails."""
    rule = _HEALTH_RULE.get(health)
    return rule.reason(_Job(job, now, stale_after_hours)) if rule else ''


def health_advice(job, health):
    """The fix to try for ``job`` with the verdict ``health`` (one sentence; "Nothing to do." when healthy)."""
    rule = _HEALTH_RULE.get(health)
    return rule.advice(_Job(job)) if rule else ''


# --- results (pure) ------------------------------------------------------------------------------------------------

def service_principal_to_result(service_principal):
    return dict(id=service_principal.get('id'), app_id=service_principal.get('appId'),
                display_name=service_principal.get('displayName'))


def job_matches(job, job_id=None, template_id=None):
    """The filters of the task; ids compare case-insensitively, as Graph compares keys."""
    if job_id and (job.get('id') or '').lower() != job_id.lower():
        return False
    if template_id and (job.get('templateId') or '').lower() != template_id.lower():
        return False
    return True


def job_entry(job, service_principal, now=None, stale_after_hours=None):
    """One item of ``jobs``: the converted job, its service principal and its health."""
    entry = job_to_result(job)
    health = job_health(entry, now=now, stale_after_hours=stale_after_hours)
    entry.update(service_principal=service_principal_to_result(service_principal), health=health,
                 health_reason=describe_health(entry, health, now=now, stale_after_hours=stale_after_hours),
                 health_advice=health_advice(entry, health))
    return entry


# The permission itself is named by the error's hint in health_reason (_graph_errors), not repeated here.
_UNREADABLE_ADVICE = ('Give the identity that runs the scan the permission the reason names, or, for a transient error, '
                      'run the scan again.')


def unreadable_entry(service_principal, error):
    """The item of ``jobs`` for a service principal whose jobs could not be read (403, or errors after retries)."""
    entry = dict(id=None, template_id=None, schedule=None, status=None, synchronization_job_settings=None,
                 service_principal=service_principal_to_result(service_principal), health='unreadable')
    # Every key of GraphError.to_result(), as RETURN documents jobs[].error (hacking/graph_error_return.yml).
    details = error.to_result() if isinstance(error, GraphError) else dict(
        status=None, code=None, message=str(error), method=None, path=None, request_id=None, client_request_id=None)
    reason = 'The jobs of this service principal could not be read'
    if details.get('status'):
        reason += ': HTTP %s' % details['status']
    if details.get('code'):
        reason += ' (%s)' % details['code']
    hint = error.hint() if isinstance(error, GraphError) else None
    entry.update(health_reason=reason + '.' + (' ' + hint if hint else ''), error=details, health_advice=_UNREADABLE_ADVICE)
    return entry


def entry_sort_key(entry):
    service_principal = entry['service_principal']
    return ((service_principal.get('display_name') or '').lower(), service_principal.get('id') or '', entry.get('id') or '')


def summarize(entries, scanned, skipped, graph_requests):
    """``summary``: counts by health (every verdict present) and by template, and what the scan cost."""
    by_health = dict((verdict, 0) for verdict in HEALTH_VERDICTS)
    by_template = {}
    with_jobs = set()
    unreadable = set()
    job_count = 0
    for entry in entries:
        by_health[entry['health']] += 1
        sp_id = entry['service_principal']['id']
        if entry['health'] == 'unreadable':
            unreadable.add(sp_id)
            continue
        job_count += 1
        with_jobs.add(sp_id)
        template = entry.get('template_id') or ''
        by_template[template] = by_template.get(template, 0) + 1
    return dict(
        service_principals_scanned=scanned,
        service_principals_with_jobs=len(with_jobs),
        service_principals_skipped=skipped,
        service_principals_unreadable=len(unreadable),
        jobs=job_count,
        by_health=by_health,
        by_template=by_template,
        graph_requests=graph_requests,
    )


def template_to_result(template):
    """A synchronization template without its schema (the schema of a template is large; jobs carry their own)."""
    result = to_snake(dict((key, value) for key, value in template.items() if key != 'schema'))
    return result


def check_options(params):
    """Refuse bad input before any request; every message names the option and the fix."""
    for option, kind in (('service_principal_id', 'service_principal'), ('application_id', 'application')):
        if params.get(option) is not None:
            object_id(option, params[option], kind)
    # Filters, compared with what Graph lists (never placed in a URL): refused only when they cannot be an id at all.
    id_segment('job_id', params.get('job_id'), 'give the id of a job (as jobs[].id lists it), or leave job_id out')
    id_segment('template_id', params.get('template_id'), 'give the id of a synchronization template, for example scim, '
               'or leave template_id out')
    concurrency = params.get('batch_concurrency')
    if concurrency is None or not 1 <= concurrency <= MAX_BATCH_CONCURRENCY:
        raise TaskFailure('batch_concurrency must be between 1 and %d (the default 4 keeps a large tenant under Graph\'s '
                          'throttling limits); got %s.' % (MAX_BATCH_CONCURRENCY, concurrency))
    stale = params.get('stale_after_hours')
    if stale is not None and stale < 0:
        raise TaskFailure('stale_after_hours must be 0 (no staleness rule) or a positive number of hours; got %s.' % stale)
    if params.get('service_principal_filter') is not None and not params['service_principal_filter'].strip():
        raise TaskFailure('service_principal_filter is empty: give an OData filter such as "startswith(displayName, \'AWS\')", '
                          'or leave it out to scan every service principal.')


# --- reading Graph -------------------------------------------------------------------------------------------------

def jobs_path(service_principal_id):
    return graph_path('/servicePrincipals/%s/synchronization/jobs', service_principal_id)


def templates_path(service_principal_id):
    return graph_path('/servicePrincipals/%s/synchronization/templates', service_principal_id)


def schema_path(service_principal_id, job_id):
    # Job ids are opaque and contain dots (docs/graph-behaviour.md §1.2); graph_path quotes anything a path cannot carry.
    return graph_path('/servicePrincipals/%s/synchronization/jobs/%s/schema', service_principal_id, job_id)


class JobScan:
    """Reads the jobs of a stream of service principals and keeps what the task asked for."""

    def __init__(self, client, params, warn, now):
        self.client = client
        self.warn = warn
        self.now = now
        self.job_id = params.get('job_id')
        self.template_id = params.get('template_id')
        self.stale_after_hours = params.get('stale_after_hours')
        self.concurrency = params.get('batch_concurrency') or 4
        self.entries = []
        self.service_principals = {}  # id -> the result item, only for service principals that appear in ``jobs``
        self.scanned = 0
        self.skipped = []  # ids of service principals deleted while the scan ran (404)
        self.errors = []

    def scan(self, service_principals):
        in_flight = {}

        def paths():
            for service_principal in service_principals:
                self.scanned += 1
                path = jobs_path(service_principal['id'])
                in_flight[path] = service_principal
                yield path

        for path, result in self.client.iter_batch_get(paths(), concurrency=self.concurrency):
            self._take(in_flight.pop(path), path, result)

    def _take(self, service_principal, path, result):
        if result.status == 404:
            self.skipped.append(service_principal['id'])
            return
        if not result.ok:
            self.errors.append(result.error)
            self._keep(service_principal, [unreadable_entry(service_principal, result.error)])
            return
        body = result.body or {}
        jobs = body.get('value') or []
        if body.get('@odata.nextLink'):
            # Graph documents no paging for jobs (docs/graph-behaviour.md §3.8); if it ever pages, read the whole list.
            jobs = self.client.list_all(path)
        matching = [job_entry(job, service_principal, self.now, self.stale_after_hours)
                    for job in jobs if job_matches(job, self.job_id, self.template_id)]
        if matching:
            self._keep(service_principal, matching)

    def _keep(self, service_principal, entries):
        self.entries.extend(entries)
        self.service_principals.setdefault(service_principal['id'], service_principal_to_result(service_principal))

    def add_templates(self):
        paths = dict((templates_path(sp_id), sp_id) for sp_id in self.service_principals)
        for path, result in self.client.iter_batch_get(list(paths), concurrency=self.concurrency):
            item = self.service_principals[paths[path]]
            if result.ok:
                item['synchronization_templates'] = [template_to_result(template) for template in (result.body or {}).get('value') or []]
            else:
                item['synchronization_templates'] = None
                self.warn('The synchronization templates of service principal %s could not be read: %s'
                          % (paths[path], result.error))

    def add_schemas(self):
        entries = dict((schema_path(entry['service_principal']['id'], entry['id']), entry)
                       for entry in self.entries if entry['health'] != 'unreadable')
        for path, result in self.client.iter_batch_get(list(entries), concurrency=self.concurrency):
            entry = entries[path]
            if result.ok:
                entry['schema'] = to_snake(result.body or {})
            else:
                entry['schema'] = None
                self.warn('The schema of job %s of service principal %s could not be read: %s'
                          % (entry['id'], entry['service_principal']['id'], result.error))

    def report_problems(self):
        if self.skipped:
            self.warn('%d service principal(s) were deleted while the scan ran and were skipped: %s'
                      % (len(self.skipped), _some(self.skipped)))
        unreadable = [entry['service_principal']['id'] for entry in self.entries if entry['health'] == 'unreadable']
        if unreadable:
            self.warn('The jobs of %d service principal(s) could not be read; they are listed in jobs with health '
                      'unreadable and the error: %s' % (len(unreadable), _some(unreadable)))


def _some(ids):
    shown = ', '.join(ids[:_WARN_LIST_LIMIT])
    if len(ids) > _WARN_LIST_LIMIT:
        shown += ' and %d more' % (len(ids) - _WARN_LIST_LIMIT)
    return shown


def _service_principal(client, service_principal_id):
    found = client.get_or_none(graph_path('/servicePrincipals/%s', service_principal_id), params={'$select': SERVICE_PRINCIPAL_SELECT})
    check_identity('service_principal_id', service_principal_id, found, 'service principal')
    if found is None:
        raise TaskFailure('service_principal_id: no service principal has the object ID %s in this tenant. Give the '
                          'object ID of the enterprise application (servicePrincipals/{id}), not its application '
                          '(client) ID.' % service_principal_id)
    return found


def _service_principals_of_application(client, application_id):
    application = client.get_or_none(graph_path('/applications/%s', application_id), params={'$select': 'id,appId'})
    check_identity('application_id', application_id, application, 'application')
    if application is None:
        raise TaskFailure('application_id: no application has the object ID %s in this tenant. Give the object ID of '
                          'the app registration (applications/{id}), not its application (client) ID.' % application_id)
    return client.list_all('/servicePrincipals', params={'$filter': "appId eq '%s'" % application['appId'],
                                                         '$select': SERVICE_PRINCIPAL_SELECT})


class _Raised:
    def __init__(self, error):
        self.error = error


def read_ahead(iterable):
    """Iterate ``iterable`` in a thread, one item ahead of the consumer.

    The listing's next page is fetched while the current one is being batched, so listing latency, and a listing page
    that Graph throttles, no longer stall the batches. At most two pages are held besides the one being consumed.
    """
    queue = Queue(maxsize=1)
    end = object()

    def produce():
        try:
            for item in iterable:
                queue.put(item)
        except Exception as error:  # pylint: disable=broad-exception-caught  # raised again in the consumer's thread
            queue.put(_Raised(error))
        queue.put(end)

    thread = threading.Thread(target=produce, name='entra-listing-read-ahead')
    thread.daemon = True  # a consumer that stops early leaves it blocked on put(); it must not keep the process alive
    thread.start()
    while True:
        item = queue.get()
        if item is end:
            return
        if isinstance(item, _Raised):
            raise item.error
        yield item


def _tenant_service_principals(client, odata_filter):
    params = {'$select': SERVICE_PRINCIPAL_SELECT, '$top': SERVICE_PRINCIPAL_PAGE_SIZE}
    if odata_filter:
        params['$filter'] = odata_filter
    pages = read_ahead(client.iter_pages('/servicePrincipals', params=params))
    try:
        first = next(pages, [])
    except GraphError as error:
        if odata_filter and error.status == 400:
            raise TaskFailure('service_principal_filter was refused by Graph (%s). It is an OData $filter on '
                              'servicePrincipals, for example "startswith(displayName, \'AWS\')" or '
                              '"tags/any(t:t eq \'WindowsAzureActiveDirectoryIntegratedApp\')".' % (error.message or error.code))
        raise
    yield from first
    for page in pages:
        yield from page


def run_synchronization_job_info(task):
    params = task.params
    check_options(params)
    client = task.client()
    scan = JobScan(client, params, task.warn, utc_now())

    if params.get('service_principal_id'):
        addressed = [_service_principal(client, params['service_principal_id'].strip())]
    elif params.get('application_id'):
        addressed = _service_principals_of_application(client, params['application_id'].strip())
    else:
        addressed = None

    if addressed is None:
        scan.scan(_tenant_service_principals(client, params.get('service_principal_filter')))
    else:
        scan.scan(addressed)
        # A service principal the task addressed is reported even when it has no (matching) job.
        for service_principal in addressed:
            scan.service_principals.setdefault(service_principal['id'], service_principal_to_result(service_principal))
    if scan.errors and len(scan.errors) == scan.scanned - len(scan.skipped):
        # Not one service principal could be read: a missing permission, not a report worth returning.
        raise scan.errors[0]
    if params.get('include_templates'):
        scan.add_templates()
    if params.get('include_schema'):
        scan.add_schemas()
    scan.report_problems()

    entries = sorted(scan.entries, key=entry_sort_key)
    service_principals = sorted(scan.service_principals.values(),
                                key=lambda item: ((item.get('display_name') or '').lower(), item['id']))
    return dict(
        changed=False,
        jobs=entries,
        service_principals=service_principals,
        summary=summarize(entries, scan.scanned, len(scan.skipped), client.request_count),
    )
