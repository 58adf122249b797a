# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The inventory plugin entra.provisioning.synchronization's pure part: the jobs of a ``synchronization_job_info``
scan as hosts (one per service principal), their variables and their groups (documented in the plugin)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The convenience variables taken from the first job, and where each one is in a job of synchronization_job_info.
FIRST_JOB_VARIABLES = (
    ('entra_job_id', ('id',)),
    ('entra_template_id', ('template_id',)),
    ('entra_status_code', ('status', 'code')),
    ('entra_schedule_state', ('schedule', 'state')),
    ('entra_health', ('health',)),
    ('entra_health_reason', ('health_reason',)),
    ('entra_last_execution', ('status', 'last_execution')),
    ('entra_count_successive_complete_failures', ('status', 'count_successive_complete_failures')),
    ('entra_quarantine', ('status', 'quarantine')),
)


def _dig(value, keys):
    for key in keys:
        value = (value or {}).get(key)
    return value


def host_entries(jobs):
    """The scan's jobs as (service principal, its jobs) pairs, in the scan's order (display name, then object ID)."""
    hosts = {}
    order = []
    for job in jobs:
        service_principal = job['service_principal']
        if service_principal['id'] not in hosts:
            hosts[service_principal['id']] = (service_principal, [])
            order.append(service_principal['id'])
        hosts[service_principal['id']][1].append(dict((key, value) for key, value in job.items() if key != 'service_principal'))
    return [hosts[sp_id] for sp_id in order]


def host_variables(service_principal, jobs):
    """The variables of one host: its service principal, all of its jobs, and the first job's facts."""
    jobs = sorted(jobs, key=lambda job: job.get('id') or '')
    variables = dict(ansible_connection='local', entra_service_principal=service_principal, entra_jobs=jobs,
                     entra_job_count=len([job for job in jobs if job['health'] != 'unreadable']))
    for name, keys in FIRST_JOB_VARIABLES:
        variables[name] = _dig(jobs[0], keys)
    return variables


def host_groups(jobs):
    """health_<verdict> and template_<template id> for each job, in a stable order, without repeats."""
    names = []
    for job in sorted(jobs, key=lambda job: job.get('id') or ''):
        for name in ('health_%s' % job['health'], 'template_%s' % job['template_id'] if job.get('template_id') else None):
            if name and name not in names:
                names.append(name)
    return names
