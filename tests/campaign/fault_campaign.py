# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault campaign (issue 9): the role and a tenant scan against the Graph emulator with faults on every Graph call.

Each run gets its own fault configuration (seeded by the run's number): 10% of the Graph requests answer 429 (a
Retry-After up to 2 s), 5% 503, 2% drop the connection, 1% are answered later than the client's timeout (the emulator's
``slow`` action: processed, answer held); new objects replicate (404 and unlisted for 2 s, then 403 for 1 s, then 409
on writes for 1 s); one fresh run in four has instantiate answer 504 or 500 although it created the application.

Runs: ``fresh`` (the role provisions a new application), ``rerun`` (the role again on an application a fresh run
provisioned) and ``scan`` (synchronization_job_info over the whole tenant). After each run, with the faults off, the
tenant is counted: exactly one application, service principal and job of that name, the job running, its secrets saved.
A run that failed is run again once, faults on (another seed), and counted again.

Outcomes: ``converged``; ``failed cleanly`` (a task failed with a message, no traceback or module crash);
``duplicates`` (more than one application, service principal or job of a name, at any count);
``half-configured`` (after a run that reported success, or after the rerun of a failed one: an application without a
job, a job without its secrets, or not running).

    .cache/venv-py311/bin/python tests/campaign/fault_campaign.py --runs 200 --seed 1

starts its own emulator (cycles of 2 emulated seconds) and prints the figures, and a JSON line with them. The quick
variant runs in CI as tests/integration/test_fault_campaign.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import collections
import concurrent.futures
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'integration'))

from conftest import PlaybookRunner  # noqa: E402 pylint: disable=wrong-import-position
from emulator_directory import Directory  # noqa: E402 pylint: disable=wrong-import-position

# The client's timeout in the runs (the modules' ``timeout`` option), and how late a "slow" answer comes.
CLIENT_TIMEOUT = 2
SLOW_ANSWER_MS = 3500
REPLICATION_SECONDS = 2
CYCLE_SECONDS = 2
BASE_ADDRESS = 'https://scim.contoso.example/scim/v2'
SCIM_TOKEN = 'campaign-scim-token-0c7e1d'
KEEP = 'Keep the result'

ROLE_PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/entra.provisioning.graph:
      timeout: %(timeout)d
  roles:
    - role: entra.provisioning.application_provisioning
      application_provisioning_display_name: "{{ name }}"
      application_provisioning_secrets:
        BaseAddress: %(base)s
        SecretToken: "{{ lookup('ansible.builtin.env', 'SCIM_TOKEN') }}"
      application_provisioning_wait_for: started
      application_provisioning_wait_timeout: 120
      application_provisioning_replication_timeout: 120
''' % dict(timeout=CLIENT_TIMEOUT, base=BASE_ADDRESS)

SCAN_PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Scan the tenant
      entra.provisioning.synchronization_job_info:
        timeout: %(timeout)d
''' % dict(timeout=CLIENT_TIMEOUT)


def fault_config(seed, instantiate_error=None):
    """The faults of one run. A request meets the first rule that fires: the probabilities are conditional, so that
    10% / 5% / 2% / 1% of all requests get each fault."""
    rand = random.Random(seed)
    config = {
        'seed': seed,
        'rules': [
            {'name': '429', 'action': 'throttle', 'probability': 0.10, 'retry_after': round(rand.uniform(0.1, 2.0), 3)},
            {'name': '503', 'action': 'unavailable', 'probability': 0.05 / 0.90},
            {'name': 'drop', 'action': 'drop', 'probability': 0.02 / 0.85},
            {'name': 'slow', 'action': 'slow', 'delay_ms': SLOW_ANSWER_MS, 'probability': 0.01 / 0.83},
        ],
        'replication_delay_seconds': REPLICATION_SECONDS,
        'transient_403_seconds': 1,
        'transient_409_seconds': 1,
    }
    if instantiate_error:
        config.update(instantiate_error_after_create=1, instantiate_error_status=instantiate_error)
    return config


def plan(runs, seed):
    """The kinds of the runs, in order: half fresh, three in ten reruns, one in five scans; a rerun needs a fresh run
    before it."""
    rand = random.Random('plan:%s' % seed)
    kinds = []
    for index in range(runs):
        draw = rand.random()
        kind = 'fresh' if draw < 0.5 or index == 0 else 'rerun' if draw < 0.8 else 'scan'
        kinds.append(kind)
    return kinds


def failure_message(run):
    """The message of the failed task, or None when the run crashed (traceback, module failure) or failed silently."""
    if 'Traceback (most recent call last)' in run.output or 'MODULE FAILURE' in run.output:
        return None
    failed = [entry for entry in run.results if entry['status'] == 'failed']
    if not failed:
        return None
    return '%s: %s' % (failed[-1]['task'], (failed[-1]['result'].get('msg') or '').strip() or None)


def check_tenant(directory, name):
    """'ok', 'duplicates: ...' or 'half-configured: ...' for the objects named ``name``, read with the faults off."""
    applications, service_principals, jobs = directory.census(name)
    if len(applications) > 1 or len(service_principals) > 1 or len(jobs) > 1:
        return 'duplicates: %d applications, %d service principals, %d jobs' % (len(applications), len(service_principals), len(jobs))
    if not applications or not service_principals or not jobs:
        return 'half-configured: %d application, %d service principal, %d job' % (len(applications), len(service_principals), len(jobs))
    secrets = directory.get('/servicePrincipals/%s/synchronization/secrets' % service_principals[0]['id'])['value']
    keys = set(item['key'] for item in secrets)
    if not {'BaseAddress', 'SecretToken'} <= keys:
        return 'half-configured: the job has no secrets (keys %s)' % sorted(keys)
    if (jobs[0].get('schedule') or {}).get('state') != 'Active':
        return 'half-configured: the job is not running (%s)' % (jobs[0].get('schedule') or {}).get('state')
    return 'ok'


class Campaign:
    """Runs the campaign against ``emulator`` with ``run_playbook`` (a conftest.PlaybookRunner)."""

    def __init__(self, emulator, run_playbook, seed=1, out=None):
        self.emulator = emulator
        self.run_playbook = run_playbook
        self.seed = seed
        self.directory = Directory(emulator)
        self.out = out or (lambda line: None)
        self.provisioned = []
        self.counts = collections.Counter()
        self.failures = []
        self.problems = []
        self.faults_fired = collections.Counter()

    # --- one run -------------------------------------------------------------------------------------------------

    def _play(self, kind, name, run_seed, instantiate_error=None):
        self.emulator.set_faults(fault_config(run_seed, instantiate_error))
        if kind == 'scan':
            run = self.run_playbook(SCAN_PLAYBOOK)
        else:
            run = self.run_playbook(ROLE_PLAYBOOK, extra_vars=dict(name=name), env=dict(SCIM_TOKEN=SCIM_TOKEN))
        for rule in self.emulator.faults_state().get('rules', []):
            self.faults_fired[rule['name']] += rule['fired']
        self.faults_fired['instantiate_error'] += 1 if instantiate_error and not self.emulator.faults_state()['instantiate_errors_left'] else 0
        return run

    def census(self, name):
        return check_tenant(self.directory, name)

    def one(self, index, kind):
        rand = random.Random('run:%s:%d' % (self.seed, index))
        if kind == 'rerun' and not self.provisioned:
            kind = 'fresh'
        name = None
        instantiate_error = None
        if kind == 'fresh':
            name = 'Campaign %s app %03d' % (self.seed, index)
            if rand.random() < 0.25:
                instantiate_error = rand.choice((500, 504))
        elif kind == 'rerun':
            name = rand.choice(self.provisioned)
        run_seed = self.seed * 100000 + index
        started = time.monotonic()
        run = self._play(kind, name, run_seed, instantiate_error)
        outcome = self._judge(kind, name, run)
        rerun_outcome = None
        if outcome.startswith('failed'):
            message = failure_message(run)
            self.failures.append('%s run %d (%s): %s' % (kind, index, name or 'tenant', message or run.output[-1500:]))
            rerun = self._play(kind, name, run_seed + 50000)
            rerun_outcome = self._judge(kind, name, rerun)
            self.counts['reruns'] += 1
            self.counts['rerun converged' if rerun_outcome == 'converged' else 'rerun not converged'] += 1
            if rerun_outcome != 'converged':
                self.problems.append('%s run %d (%s) rerun: %s %s' % (kind, index, name, rerun_outcome, failure_message(rerun)))
            if rerun_outcome.startswith('duplicates'):
                self.counts['duplicates'] += 1
            elif rerun_outcome.startswith('half'):
                self.counts['half-configured'] += 1
        self.counts['runs'] += 1
        self.counts[kind] += 1
        key = outcome.split(':')[0]
        self.counts[key] += 1
        if key in ('duplicates', 'half-configured', 'failed uncleanly'):
            self.problems.append('%s run %d (%s): %s' % (kind, index, name, outcome))
        if kind == 'fresh' and (outcome == 'converged' or rerun_outcome == 'converged'):
            self.provisioned.append(name)
        rerun_text = 'rerun: %s ' % rerun_outcome[:30] if rerun_outcome else ''
        self.out('%3d %-5s %-22s %-16s %s%5.1f s' % (index, kind, name or 'tenant', outcome[:60], rerun_text, time.monotonic() - started))
        return outcome

    def _judge(self, kind, name, run):
        if run.rc != 0:
            if failure_message(run) is None:
                return 'failed uncleanly'
            if kind != 'scan':
                tenant = self.census(name)
                if tenant.startswith('duplicates'):
                    return tenant
            return 'failed cleanly'
        if kind == 'scan':
            return 'converged'
        tenant = self.census(name)
        return 'converged' if tenant == 'ok' else tenant

    # --- the campaign ------------------------------------------------------------------------------------------------

    def run(self, runs):
        started = time.monotonic()
        self.emulator.control('PUT', '/settings', {'cycle_seconds': CYCLE_SECONDS})
        for index, kind in enumerate(plan(runs, self.seed)):
            self.one(index, kind)
        self.emulator.set_faults({})
        return self.summary(time.monotonic() - started)

    def summary(self, seconds):
        counts = self.counts
        return collections.OrderedDict([
            ('runs', counts['runs']), ('fresh', counts['fresh']), ('rerun', counts['rerun']), ('scan', counts['scan']),
            ('converged', counts['converged']), ('failed_cleanly', counts['failed cleanly']),
            ('failed_uncleanly', counts['failed uncleanly']), ('duplicates', counts['duplicates']),
            ('half_configured', counts['half-configured']), ('reruns', counts['reruns']),
            ('reruns_converged', counts['rerun converged']), ('faults_fired', dict(self.faults_fired)),
            ('seconds', round(seconds, 1)), ('failures', self.failures), ('problems', self.problems),
        ])


def campaign_in_own_emulator(runs, seed, keep=False, prefix=''):
    """One campaign of ``runs`` runs with its own emulator; returns its summary."""
    from entra_graph_emulator.testing import EmulatorProcess  # pylint: disable=import-outside-toplevel

    scratch = tempfile.mkdtemp(prefix='fault-campaign-')
    try:
        with EmulatorProcess(os.path.join(scratch, 'emulator'), extra_args=['--cycle-seconds', CYCLE_SECONDS]) as emulator:
            runner = PlaybookRunner(scratch, emulator, os.path.join(scratch, 'token_cache.json'))
            campaign = Campaign(emulator, runner, seed=seed, out=lambda line: print(prefix + line, flush=True))
            return campaign.run(runs)
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def merge(summaries, seconds):
    """The figures of several campaigns run side by side, as one."""
    total = collections.OrderedDict()
    for summary in summaries:
        for key, value in summary.items():
            if isinstance(value, list):
                total.setdefault(key, []).extend(value)
            elif isinstance(value, dict):
                merged = total.setdefault(key, collections.Counter())
                merged.update(value)
            elif key != 'seconds':
                total[key] = total.get(key, 0) + value
    total['faults_fired'] = dict(total.get('faults_fired', {}))
    total['seconds'] = round(seconds, 1)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=200, help='number of runs in all (default 200)')
    parser.add_argument('--seed', type=int, default=1, help='seed of the plan and of the faults (default 1)')
    parser.add_argument('--workers', type=int, default=1,
                        help='campaigns side by side, each with its own emulator and a share of the runs (default 1)')
    parser.add_argument('--keep', action='store_true', help='keep the scratch directories (playbooks, emulator state)')
    args = parser.parse_args(argv)

    started = time.monotonic()
    shares = [args.runs // args.workers + (1 if worker < args.runs % args.workers else 0) for worker in range(args.workers)]
    if args.workers == 1:
        summaries = [campaign_in_own_emulator(args.runs, args.seed, args.keep)]
    else:
        with concurrent.futures.ProcessPoolExecutor(args.workers) as pool:
            futures = [pool.submit(campaign_in_own_emulator, share, args.seed * 100 + worker, args.keep, 'w%d ' % worker)
                       for worker, share in enumerate(shares)]
            summaries = [future.result() for future in futures]
    summary = merge(summaries, time.monotonic() - started)
    print('\nruns %(runs)d (fresh %(fresh)d, rerun %(rerun)d, scan %(scan)d): converged %(converged)d, failed cleanly '
          '%(failed_cleanly)d, failed uncleanly %(failed_uncleanly)d, duplicates %(duplicates)d, half-configured '
          '%(half_configured)d; reruns of failed runs %(reruns)d, converged %(reruns_converged)d; %(seconds).0f s' % summary)
    print('faults fired: %s' % json.dumps(summary['faults_fired'], sort_keys=True))
    for line in summary['failures']:
        print('failed: ' + line)
    for line in summary['problems']:
        print('PROBLEM: ' + line)
    print(json.dumps(dict((key, value) for key, value in summary.items() if key not in ('failures', 'problems'))))
    ok = not summary['problems'] and summary['reruns_converged'] == summary['reruns']
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
