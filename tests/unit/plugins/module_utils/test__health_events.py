# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure part of the event source entra.provisioning.provisioning_health: which scans give which events."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.entra.provisioning.plugins.module_utils._health_events import JobWatch

AT = '2026-01-01T00:00:00Z'


def entry(sp_id, health, job_id='scim.1', reason=None):
    quarantine = {'reason': reason} if reason else None
    return {'id': job_id, 'health': health, 'health_reason': 'because %s' % health, 'status': {'quarantine': quarantine},
            'service_principal': {'id': sp_id, 'app_id': 'app-' + sp_id, 'display_name': 'App ' + sp_id}}


def kinds(events):
    return [(event['service_principal']['id'], event['type'], event['previous_health']) for event in events]


def test_first_poll_reports_problems_only():
    watch = JobWatch()
    events = watch.update([entry('a', 'healthy'), entry('b', 'quarantined', reason='TooManyDeletes'), entry('c', 'paused'),
                           entry('d', 'stale')], AT)
    assert kinds(events) == [('b', 'quarantined', None), ('d', 'stale', None)]
    assert events[0]['quarantine_reason'] == 'TooManyDeletes'
    assert events[0]['job'] == dict((k, v) for k, v in entry('b', 'quarantined', reason='TooManyDeletes').items()
                                    if k != 'service_principal')
    assert events[0]['service_principal'] == {'id': 'b', 'app_id': 'app-b', 'display_name': 'App b'}
    assert events[0]['detected_at'] == AT


def test_first_poll_can_stay_silent():
    watch = JobWatch(report_initial_problems=False)
    assert watch.update([entry('a', 'quarantined'), entry('b', 'healthy')], AT) == []
    # A job that stays in its verdict gives no event; a new problem after the first poll does.
    assert kinds(watch.update([entry('a', 'quarantined'), entry('b', 'failing')], AT)) == [('b', 'failing', 'healthy')]


def test_unchanged_verdicts_give_no_event():
    watch = JobWatch()
    watch.update([entry('a', 'healthy'), entry('b', 'failing')], AT)
    assert watch.update([entry('a', 'healthy'), entry('b', 'failing')], AT) == []


def test_recovery_spans_the_verdicts_in_between():
    watch = JobWatch()
    watch.update([entry('a', 'healthy')], AT)
    assert kinds(watch.update([entry('a', 'quarantined')], AT)) == [('a', 'quarantined', 'healthy')]
    # After a restart the job is not_run until its first cycle ends: a change, not yet a recovery.
    assert kinds(watch.update([entry('a', 'not_run')], AT)) == [('a', 'changed', 'quarantined')]
    events = watch.update([entry('a', 'healthy')], AT)
    assert kinds(events) == [('a', 'recovered', 'not_run')]
    assert events[0]['previous_problem'] == 'quarantined'
    # Recovered once: healthy again gives nothing.
    assert watch.update([entry('a', 'healthy')], AT) == []


def test_a_problem_after_another_is_an_event_of_its_own():
    watch = JobWatch()
    watch.update([entry('a', 'quarantined')], AT)
    events = watch.update([entry('a', 'failing')], AT)
    assert kinds(events) == [('a', 'failing', 'quarantined')]
    assert kinds(watch.update([entry('a', 'healthy')], AT)) == [('a', 'recovered', 'failing')]


def test_jobs_are_told_apart_by_service_principal_and_job():
    watch = JobWatch()
    watch.update([entry('a', 'healthy', 'scim.1'), entry('a', 'healthy', 'scim.2')], AT)
    events = watch.update([entry('a', 'healthy', 'scim.1'), entry('a', 'stale', 'scim.2')], AT)
    assert [(event['job']['id'], event['type']) for event in events] == [('scim.2', 'stale')]
    assert watch.update([entry('a', 'healthy', 'scim.1'), entry('a', 'stale', 'scim.2')], AT) == []


def test_new_and_removed_jobs():
    watch = JobWatch()
    watch.update([entry('a', 'healthy')], AT)
    # A new healthy job is silent, a new job in a problem verdict is reported; a job gone is removed.
    events = watch.update([entry('b', 'healthy'), entry('c', 'unreadable')], AT)
    assert kinds(events) == [('c', 'unreadable', None), ('a', 'removed', 'healthy')]
    assert events[1]['health'] is None and events[1]['job']['id'] == 'scim.1'
