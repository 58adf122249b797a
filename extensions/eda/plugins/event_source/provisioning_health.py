# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event-Driven Ansible event source entra.provisioning.provisioning_health (docs/eda.md)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import asyncio
import datetime
import logging
import os
import sys

DOCUMENTATION = r'''
---
short_description: Events when the health of an Entra provisioning (synchronization) job changes
description:
  - Polls a Microsoft Entra tenant every O(interval) seconds and puts an event on the queue for each provisioning
    (synchronization) job whose health verdict changed since the previous poll.
  - The tenant is scanned exactly as the module entra.provisioning.synchronization_job_info and the inventory plugin
    entra.provisioning.synchronization scan it (the same code, the same health verdicts and reasons). Read
    permissions suffice (Application.Read.All and Synchronization.Read.All); nothing is ever written.
  - "Event types: V(quarantined), V(failing), V(stale), V(degraded), V(unreadable) when a job enters that verdict;
    V(recovered) when a job is V(healthy) again after one of those (intermediate verdicts such as V(not_run) after
    a restart do not end the problem); V(changed) for any other change of verdict (V(paused), V(disabled), ...);
    V(removed) when a job is no longer in the scan."
  - On the first poll, jobs already in a problem verdict give an event (with C(previous_health) null) unless
    O(report_initial_problems=false); healthy jobs and jobs in other verdicts never give one then. A new job
    found by a later poll is treated the same way.
  - "Each event: C(type), C(health), C(previous_health), C(previous_problem) (for V(recovered)), C(health_reason),
    C(quarantine_reason), C(service_principal) (C(id), C(app_id), C(display_name)), C(job) (the job's facts, as the
    jobs items of synchronization_job_info return them) and C(detected_at) (UTC, ISO 8601)."
  - A failed scan on the first poll ends the source with the error (bad options or credentials show at once); a
    failed later poll is logged and retried at the next interval, and gives no event.
options:
  interval:
    description: Seconds between two polls (the scan's own time included in the wait).
    type: float
    default: 300
  report_initial_problems:
    description: Whether the first poll gives an event for each job that is already in a problem verdict.
    type: bool
    default: true
  service_principal_filter:
    description: Only the service principals that match this OData $filter, as synchronization_job_info takes it.
    type: str
  template_id:
    description: Only the jobs made from this synchronization template, for example V(scim).
    type: str
  stale_after_hours:
    description: A running job whose last cycle ended longer ago than this many hours is V(stale); V(0) turns the rule off.
    type: float
    default: 24
  batch_concurrency:
    description: How many $batch requests are in flight at once (1 to 20).
    type: int
    default: 4
  tenant_id:
    description:
      - The connection options of the modules (the entra.provisioning.graph documentation fragment), with the same
        names and environment variables; this one falls back to E(AZURE_TENANT_ID). Also accepted are
        C(client_id), C(auth_method), C(client_secret), C(client_certificate_path), C(client_certificate_password),
        C(federated_token_file), C(managed_identity), C(access_token), C(cloud), C(authority_host),
        C(graph_endpoint), C(ca_path), C(token_cache_path) and the others of the fragment.
    type: str
'''

EXAMPLES = r'''
- name: Watch the tenant's provisioning jobs
  hosts: all
  sources:
    - entra.provisioning.provisioning_health:
        interval: 300
        stale_after_hours: 6
  rules:
    - name: Quarantined
      condition: event.type == "quarantined"
      action:
        debug:
          msg: "{{ event.service_principal.display_name }}: {{ event.health_reason }}"
'''


def _make_collection_importable():
    """ansible-rulebook runs this file with runpy from the collection's directory; the collection's own Python
    (plugins/module_utils) is importable once the directory holding ansible_collections is on sys.path."""
    directory = os.path.dirname(os.path.abspath(__file__))
    while os.path.dirname(directory) != directory:
        if os.path.basename(directory) == 'ansible_collections':
            root = os.path.dirname(directory)
            if root not in sys.path:
                sys.path.append(root)
            return
        directory = os.path.dirname(directory)


_make_collection_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.module_utils.common.parameters import remove_values  # noqa: E402

from ansible_collections.entra.provisioning.plugins.module_utils._health_events import JobWatch  # noqa: E402
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import (  # noqa: E402
    ARGUMENT_SPEC as SCAN_SPEC,
    run_synchronization_job_info,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, execute, module_spec  # noqa: E402

NAME = 'entra.provisioning.provisioning_health'
LOGGER = logging.getLogger(__name__)

# The scan options this source passes on, as the inventory plugin does (one tenant-wide scan, no templates or schemas).
SCAN_OPTION_NAMES = ('service_principal_filter', 'template_id', 'stale_after_hours', 'batch_concurrency')
SOURCE_SPEC = dict((name, SCAN_SPEC[name]) for name in SCAN_OPTION_NAMES)
SOURCE_SPEC.update(
    interval=dict(type='float', default=300.0),
    report_initial_problems=dict(type='bool', default=True),
)
SPEC = module_spec(SOURCE_SPEC)


class SourceError(Exception):
    """Bad arguments or a failed first scan; the message carries no secret."""


def source_params(args):
    """The source's arguments validated, the connection options' environment variables applied (their fallbacks)."""
    validation = ArgumentSpecValidator(**SPEC).validate(dict(args or {}))
    no_log_values = set(validation._no_log_values)
    if validation.error_messages:
        raise SourceError(remove_values('%s: %s' % (NAME, validation.errors.msg), no_log_values))
    params = validation.validated_parameters
    if params['interval'] <= 0:
        raise SourceError('%s: interval must be a positive number of seconds; got %s.' % (NAME, params['interval']))
    return params, no_log_values


class HealthPoller:
    """One Task (one Graph client, so that its token is reused between polls) and the memory of the last scan."""

    def __init__(self, params, no_log_values):
        scan_params = dict((name, value) for name, value in params.items() if name not in ('interval', 'report_initial_problems'))
        self.task = Task(scan_params, warn=LOGGER.warning)
        self.no_log_values = no_log_values
        self.watch = JobWatch(report_initial_problems=params['report_initial_problems'])

    def scan(self):
        """The blocking scan (run in a thread: the event loop stays responsive)."""
        result = execute(run_synchronization_job_info, self.task)
        self.no_log_values.update(self.task.secrets)
        if result.get('failed'):
            raise SourceError(remove_values('%s: %s' % (NAME, result['msg']), self.no_log_values))
        return result['jobs']

    async def poll(self, loop):
        jobs = await loop.run_in_executor(None, self.scan)
        detected_at = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        return self.watch.update(jobs, detected_at)


async def main(queue, args):
    """The EDA entry point: ``queue`` (an asyncio.Queue) receives one dict per event."""
    params, no_log_values = source_params(args)
    poller = HealthPoller(params, no_log_values)
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            events = await poller.poll(loop)
        except SourceError as error:
            if poller.watch.polls == 0:
                raise
            LOGGER.warning('%s; retrying in %s seconds', error, params['interval'])
            events = []
        for event in events:
            await queue.put(event)
        await asyncio.sleep(max(0.0, params['interval'] - (loop.time() - started)))


if __name__ == '__main__':
    # Print the events of a tenant (the connection options from the environment), as the ansible.eda sources do.
    class _PrintQueue:
        async def put(self, event):
            print(event)

    asyncio.run(main(_PrintQueue(), {'interval': 60}))
