# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.
"""The event source entra.provisioning.provisioning_health's pure part: from two scans of
``synchronization_job_info`` (the jobs with their health verdicts) to the events of the jobs whose health changed.
The events' shape and rules are documented in docs/eda.md and in the source's DOCUMENTATION."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Verdicts (those of synchronization_job_info's HEALTH_RULES, plus ``unreadable``) that are a problem someone may have
# to act on; each is the ``type`` of the event of a job that enters it.
PROBLEM_VERDICTS = ('quarantined', 'failing', 'stale', 'degraded', 'unreadable')
RECOVERED = 'recovered'
CHANGED = 'changed'
REMOVED = 'removed'
EVENT_TYPES = PROBLEM_VERDICTS + (RECOVERED, CHANGED, REMOVED)


def job_key(entry):
    """A job's identity across scans: its service principal and its job ID (unreadable entries have no job ID)."""
    return (entry['service_principal']['id'], entry.get('id'))


class JobWatch:
    """What the source remembers of each job between polls: its last verdict, and the problem not yet recovered from.

    ``problem`` is kept through the verdicts in between: after a restart a quarantined job goes through ``not_run``
    before it is ``healthy`` again, and that is one recovery (``previous_problem`` in the event).
    """

    def __init__(self, report_initial_problems=True):
        self.report_initial_problems = report_initial_problems
        self.jobs = {}
        self.polls = 0

    def update(self, entries, detected_at):
        """The events of one scan (its ``jobs``), in the scan's order, then the removed jobs; remembers the scan."""
        first = self.polls == 0
        self.polls += 1
        events = []
        seen = {}
        for entry in entries:
            key = job_key(entry)
            health = entry['health']
            known = self.jobs.get(key)
            previous = known['health'] if known else None
            problem = known['problem'] if known else None
            event_type = None
            recovered_from = None
            if health in PROBLEM_VERDICTS:
                if health != previous and (known or not first or self.report_initial_problems):
                    event_type = health
                problem = health
            elif health == 'healthy':
                if problem:
                    event_type = RECOVERED
                    recovered_from = problem
                problem = None
            elif known and health != previous:
                event_type = CHANGED
            if event_type:
                events.append(job_event(event_type, entry, previous, recovered_from, detected_at))
            seen[key] = dict(health=health, problem=problem, entry=entry)
        for key, known in self.jobs.items():
            if key not in seen:
                events.append(job_event(REMOVED, dict(known['entry'], health=None, health_reason=None), known['health'],
                                        None, detected_at))
        self.jobs = seen
        return events


def job_event(event_type, entry, previous_health, recovered_from, detected_at):
    """One event: what changed, and the job's facts as synchronization_job_info returns them."""
    job = dict((key, value) for key, value in entry.items() if key != 'service_principal')
    return dict(
        type=event_type,
        health=entry.get('health'),
        previous_health=previous_health,
        previous_problem=recovered_from,
        health_reason=entry.get('health_reason'),
        quarantine_reason=((entry.get('status') or {}).get('quarantine') or {}).get('reason'),
        service_principal=entry['service_principal'],
        job=job,
        detected_at=detected_at,
    )
