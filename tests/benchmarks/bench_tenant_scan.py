# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: a tenant scan by synchronization_job_info against what users do today, and its memory at 20,000.

    python tests/benchmarks/bench_tenant_scan.py           # 2,000 service principals, 200 with jobs, 50 ms per request
    python tests/benchmarks/bench_tenant_scan.py --smoke   # a small run for the test suite (about 20 s)

Starts the Graph emulator with a fixed latency on every HTTP request, seeds the tenant, then runs side by side:

- ``module``: the module's logic (``run_synchronization_job_info``) in this process, with a warm token cache:
  the service principal listing ($select=id,appId,displayName, $top=999) feeding $batch requests of 20 job reads,
  ``--concurrency`` batches in flight;
- ``playbook``: the same module through ``ansible-playbook`` (one task), to show what a user waits for in total;
- ``baseline``: what users do today (``Get-MgServicePrincipal -All`` then ``Get-MgServicePrincipalSynchronizationJob``
  for each, one at a time): the same listing, then one GET per service principal, sequentially, with the same client
  (keep-alive, retries on 429 after Retry-After).

It reports wall time, HTTP requests (from the emulator's request log; an item inside a $batch is not an HTTP request)
and their ratios, and the theoretical floor of the module's design, (listing pages + batches / concurrency) x
latency. The scenario is run twice: without faults, and with 10 % of all requests (listing pages, $batch requests and
the items inside them, the baseline's GETs) throttled with 429 and Retry-After 1 s. Every job must be found in every
run. Then it seeds a second emulator with 20,000 service principals and measures the peak RSS of a module process
(``main()``, as Ansible runs it when the action plugin is not used) scanning it.

Targets (issue 4): at least 30x faster than the baseline, within 2x of the floor, both also under throttling, zero jobs
missing, and a 20,000 service principal scan under 200 MB peak RSS. The exit status is 1 when a target is missed.

Under throttling, a read answered 429 k times in a row cannot finish before k x (Retry-After + latency): with 10 % of
requests throttled and 2,000 reads, some read is throttled 3 or 4 times in a row (its batch can be throttled too), so
no design that honours Retry-After finishes within 2 x 1.4 s. The benchmark records, per read, the answers it got;
when that chain alone exceeds twice the floor it reports the 2x-of-the-floor target as not attainable (N/A) and judges
the module against the floor with those waits, max(floor, k x (Retry-After + latency) + latency).
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
for _path in (TESTS_DIR, os.path.join(TESTS_DIR, 'integration')):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from entra_graph_emulator.testing import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position
from conftest import collections_path  # noqa: E402  pylint: disable=wrong-import-position

PAGE_SIZE = 999
BATCH_SIZE = 20

FULL = dict(service_principals=2000, with_jobs=200, latency_ms=50, throttle_probability=0.1, retry_after=1.0,
            memory_service_principals=20000, memory_with_jobs=2000)
SMOKE = dict(service_principals=240, with_jobs=24, latency_ms=10, throttle_probability=0.1, retry_after=0.2,
             memory_service_principals=2000, memory_with_jobs=200)

# Runs the module's main() in its own process, as Ansible does without the action plugin; prints the module's JSON.
# The arguments go through a JSON file named on the command line, which AnsibleModule reads on every ansible-core
# (https://docs.ansible.com/ansible/latest/dev_guide/debugging.html).
MODULE_PROCESS = '''
import json, os, sys, tempfile
sys.path.insert(0, sys.argv[1])
with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as handle:
    json.dump({'ANSIBLE_MODULE_ARGS': json.loads(sys.argv[2])}, handle)
sys.argv = [sys.argv[0], handle.name]
from ansible_collections.entra.provisioning.plugins.modules import synchronization_job_info
try:
    synchronization_job_info.main()
finally:
    os.unlink(handle.name)
'''


class Bench:
    def __init__(self, scratch, emulator, concurrency):
        self.scratch = scratch
        self.emulator = emulator
        self.concurrency = concurrency
        self.collections = collections_path(scratch)
        if self.collections not in sys.path:
            sys.path.insert(0, self.collections)
        info = emulator.info
        self.connection = dict(tenant_id=info['tenant_id'], client_id=info['client_id'], client_secret=info['client_secret'],
                               authority_host=info['authority_host'], graph_endpoint=info['graph_endpoint'], ca_path=info['ca_path'],
                               token_cache_path=os.path.join(scratch, 'token_cache.json'))

    # -- the three contenders ---------------------------------------------------------------------------------------

    def module(self):
        """The module's logic in this process; returns the figures and the (service principal, job) pairs found."""
        # pylint: disable=import-outside-toplevel
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
        from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import MODULE_SPEC, run_synchronization_job_info
        from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, execute

        validation = ArgumentSpecValidator(**MODULE_SPEC).validate(dict(self.connection, batch_concurrency=self.concurrency))
        task = Task(validation.validated_parameters)
        client = task.client()
        client._token()  # pylint: disable=protected-access  # the token comes from the warm cache, not timed
        attempts = _record_batch_answers(client)
        since = self._log_position()
        started = time.monotonic()
        result = execute(run_synchronization_job_info, task)
        seconds = time.monotonic() - started
        if result.get('failed'):
            raise RuntimeError('the module failed: %s' % result.get('msg'))
        found = set((job['service_principal']['id'], job['id']) for job in result['jobs'] if job['health'] != 'unreadable')
        return dict(self._requests(since), seconds=seconds, jobs=len(found), summary=result['summary'], warnings=task.warnings,
                    longest_throttle_chain=longest_chain(attempts)), found

    def baseline(self):
        """One GET per service principal, one at a time, after the same listing."""
        # pylint: disable=import-outside-toplevel
        from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import GraphClient
        from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import ConnectionSettings, GRAPH_ARGUMENT_SPEC

        params = dict((name, spec.get('default')) for name, spec in GRAPH_ARGUMENT_SPEC.items())
        params.update(self.connection)
        warnings = []
        client = GraphClient(ConnectionSettings(params), warn=warnings.append)
        client._token()  # pylint: disable=protected-access
        since = self._log_position()
        started = time.monotonic()
        found = set()
        service_principals = client.list_all('/servicePrincipals', params={'$select': 'id,appId,displayName', '$top': PAGE_SIZE})
        for service_principal in service_principals:
            jobs = client.get_or_none('/servicePrincipals/%s/synchronization/jobs' % service_principal['id'])
            for job in (jobs or {}).get('value', []):
                found.add((service_principal['id'], job['id']))
        seconds = time.monotonic() - started
        return dict(self._requests(since), seconds=seconds, jobs=len(found), retries=len(warnings)), found

    def playbook(self):
        """The module through ansible-playbook, and ansible-playbook's own startup (an empty playbook) to compare."""
        play = ('- hosts: localhost\n  gather_facts: false\n  tasks:\n'
                '    - name: Scan\n      entra.provisioning.synchronization_job_info:\n        batch_concurrency: %d\n' % self.concurrency)
        empty = '- hosts: localhost\n  gather_facts: false\n  tasks: []\n'
        startup = self._ansible_playbook('empty', empty)[0]
        seconds, since, results = self._ansible_playbook('scan', play)
        return dict(self._requests(since), seconds=seconds, startup_seconds=startup, jobs=results[0]['result']['summary']['jobs'])

    # -- helpers ----------------------------------------------------------------------------------------------------

    def _ansible_playbook(self, name, text):
        path = os.path.join(self.scratch, name + '.yml')
        with open(path, 'w') as handle:
            handle.write(text)
        env = dict(os.environ)
        env.update(self.emulator.connection_env())
        env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, ENTRA_TOKEN_CACHE_PATH=self.connection['token_cache_path'],
                   ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='False',
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(TESTS_DIR, 'integration', 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='result_recorder', RESULT_RECORDER_FILE=os.path.join(self.scratch, name + '.jsonl'))
        if os.path.exists(env['RESULT_RECORDER_FILE']):
            os.unlink(env['RESULT_RECORDER_FILE'])
        since = self._log_position()
        started = time.monotonic()
        completed = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), path], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        seconds = time.monotonic() - started
        if completed.returncode != 0:
            raise RuntimeError('ansible-playbook failed:\n%s' % completed.stdout[-4000:])
        results = []
        if os.path.exists(env['RESULT_RECORDER_FILE']):
            with open(env['RESULT_RECORDER_FILE']) as handle:
                results = [json.loads(line) for line in handle if line.strip()]
        return seconds, since, results

    def _log_position(self):
        log = self.emulator.requests_log(since=0)
        return log[-1]['seq'] if log else 0

    def _requests(self, since):
        log = self.emulator.requests_log(since=since)
        return dict(
            http_requests=sum(1 for entry in log if entry['kind'] in ('graph', 'batch')),
            batch_items=sum(1 for entry in log if entry['kind'] == 'batch_item'),
            throttled=sum(1 for entry in log if entry['status'] == 429),
            writes=sum(1 for entry in log if entry['write']),
        )

    def measured_process(self, **options):
        """Peak RSS (MB) of one module process, measured by a small parent that reports its only child's maximum."""
        args = dict(self.connection, **options)
        probe = ('import json, resource, subprocess, sys\n'
                 'completed = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]], capture_output=True, check=False)\n'
                 'print(json.dumps(dict(maxrss_kb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, '
                 'stdout=completed.stdout.decode(), stderr=completed.stderr.decode()[-2000:])))\n')
        started = time.monotonic()
        completed = subprocess.run([sys.executable, '-c', probe, MODULE_PROCESS, self.collections, json.dumps(args)],
                                   stdout=subprocess.PIPE, universal_newlines=True, check=True)
        seconds = time.monotonic() - started
        report = json.loads(completed.stdout)
        try:
            result = json.loads(report['stdout'])
        except ValueError:
            raise RuntimeError('the module process failed:\n%s\n%s' % (report['stdout'][-2000:], report['stderr']))
        if result.get('failed'):
            raise RuntimeError('the module failed: %s' % result.get('msg'))
        return dict(peak_rss_mb=report['maxrss_kb'] / 1024.0, seconds=seconds, summary=result['summary'])


def _record_batch_answers(client):
    """Record, per path, the statuses its $batch reads got (to find the waits Graph imposed on the slowest read)."""
    answers = {}
    send = client._send_batch  # pylint: disable=protected-access

    def recording_send(paths):
        result = send(paths)
        for path, (status, dummy, dummy2) in zip(paths, result):
            answers.setdefault(path, []).append(status)
        return result
    client._send_batch = recording_send  # pylint: disable=protected-access
    return answers


def longest_chain(answers):
    """The most throttled answers (429, 503, 504; the item's own or its batch's) any one read got in a row."""
    longest = 0
    for statuses in answers.values():
        run = 0
        for status in statuses:
            run = run + 1 if status in (429, 503, 504) else 0
            longest = max(longest, run)
    return longest


def floor_seconds(service_principals, concurrency, latency_ms):
    """(listing pages + batches / concurrency) x latency: the module's design with no overhead at all."""
    pages = max(1, math.ceil(service_principals / float(PAGE_SIZE)))
    batches = math.ceil(service_principals / float(BATCH_SIZE))
    return (pages + batches / float(concurrency)) * latency_ms / 1000.0, pages, batches


def run(settings, concurrency=4, with_playbook=True, with_memory=True, progress=print):
    scratch = tempfile.mkdtemp(prefix='bench-tenant-scan-')
    figures = dict(settings, concurrency=concurrency, scenarios={})
    floor, pages, batches = floor_seconds(settings['service_principals'], concurrency, settings['latency_ms'])
    figures.update(floor_seconds=floor, listing_pages=pages, batches=batches)
    with EmulatorProcess(os.path.join(scratch, 'emulator')) as emulator:
        seeded = emulator.seed(settings['service_principals'], settings['with_jobs'], seed=4)
        bench = Bench(scratch, emulator, concurrency)
        throttle = dict(action='throttle', probability=settings['throttle_probability'], retry_after=settings['retry_after'])
        # Two readings of "10% of requests throttled": each request with probability 0.1 (a read can be throttled
        # several times in a row, and its batch too), and exactly every 10th request (the same rate, without streaks).
        every_tenth = dict(action='throttle', every=int(round(1 / settings['throttle_probability'])), retry_after=settings['retry_after'])
        scenarios = (
            ('no faults', {'latency_ms': settings['latency_ms']}),
            ('10% throttled', {'latency_ms': settings['latency_ms'], 'seed': 7, 'rules': [throttle]}),
            ('every 10th throttled', {'latency_ms': settings['latency_ms'], 'rules': [every_tenth]}),
        )
        truth = None
        for name, faults in scenarios:
            emulator.set_faults(faults)
            progress('[%s] module ...' % name)
            module, module_found = bench.module()
            progress('[%s] baseline (one GET per service principal, in a row) ...' % name)
            baseline, baseline_found = bench.baseline()
            if truth is None:
                truth = baseline_found
            scenario = dict(module=module, baseline=baseline, faults=faults)
            if with_playbook:
                progress('[%s] ansible-playbook ...' % name)
                scenario['playbook'] = bench.playbook()
            scenario['missing_module'] = len(truth - module_found)
            scenario['missing_baseline'] = len(truth - baseline_found)
            scenario['speedup'] = baseline['seconds'] / module['seconds']
            scenario['request_ratio'] = baseline['http_requests'] / float(module['http_requests'])
            scenario['floor_ratio'] = module['seconds'] / floor
            # Honouring Retry-After, no design finishes before its most throttled read has sat out every wait.
            chain = module['longest_throttle_chain']
            latency = settings['latency_ms'] / 1000.0
            scenario['throttled_floor_seconds'] = max(floor, chain * (settings['retry_after'] + latency) + latency) if chain else floor
            scenario['throttled_floor_ratio'] = module['seconds'] / scenario['throttled_floor_seconds']
            figures['scenarios'][name] = scenario
        figures['seeded_jobs'] = seeded['with_jobs']
        figures['jobs_found'] = len(truth)
    if with_memory:
        with EmulatorProcess(os.path.join(scratch, 'emulator-memory')) as emulator:
            progress('[memory] seeding %d service principals ...' % settings['memory_service_principals'])
            emulator.seed(settings['memory_service_principals'], settings['memory_with_jobs'], seed=5)
            emulator.set_faults({'latency_ms': settings['latency_ms']})
            bench = Bench(scratch, emulator, concurrency)
            progress('[memory] module process scanning them ...')
            scan = bench.measured_process(batch_concurrency=concurrency)
            one = bench.measured_process(service_principal_id=scan_first_id(emulator))
            figures['memory'] = dict(service_principals=settings['memory_service_principals'], scan=scan, one_service_principal=one)
    return figures


def scan_first_id(emulator):
    return emulator.seed(1, 1, seed=6, return_ids=True)['ids'][0]


def check_targets(figures):
    """The issue's targets, each as (description, met); met is None for a target no design can meet in this run."""
    checks = []
    for name, scenario in sorted(figures['scenarios'].items()):
        checks.append(('%s: at least 30x faster than the baseline (%.1fx)' % (name, scenario['speedup']), scenario['speedup'] >= 30))
        if scenario['throttled_floor_seconds'] > 2 * figures['floor_seconds']:
            # The most throttled read alone had to wait longer than twice the floor: no design that honours Retry-After
            # can be within 2x of the floor in this run, so the target is judged against the floor with those waits.
            description = ('%s: within 2x of the floor (%.2fx); not attainable while honouring Retry-After, the most throttled '
                           'read alone needed %.2f s > 2 x %.2f s'
                           % (name, scenario['floor_ratio'], scenario['throttled_floor_seconds'], figures['floor_seconds']))
            checks.append((description, None))
            checks.append(('%s: within 2x of the floor with the Retry-After waits Graph imposed (%.2fx)'
                           % (name, scenario['throttled_floor_ratio']), scenario['throttled_floor_ratio'] <= 2))
        else:
            checks.append(('%s: within 2x of the floor (%.2fx)' % (name, scenario['floor_ratio']), scenario['floor_ratio'] <= 2))
        checks.append(('%s: no job missing (%d missing)' % (name, scenario['missing_module']), scenario['missing_module'] == 0))
    if 'memory' in figures:
        peak = figures['memory']['scan']['peak_rss_mb']
        checks.append(('%d service principal scan under 200 MB peak RSS (%.0f MB)' % (figures['memory']['service_principals'], peak),
                       peak < 200))
    return checks


def report(figures):
    lines = [
        'Tenant: %d service principals, %d with a job; %d ms per HTTP request; batch_concurrency=%d'
        % (figures['service_principals'], figures['with_jobs'], figures['latency_ms'], figures['concurrency']),
        'Floor of the design: (%d listing pages + %d batches / %d) x %d ms = %.2f s'
        % (figures['listing_pages'], figures['batches'], figures['concurrency'], figures['latency_ms'], figures['floor_seconds']),
    ]
    for name in ('no faults', '10% throttled', 'every 10th throttled'):
        scenario = figures['scenarios'].get(name)
        if not scenario:
            continue
        rule = (scenario['faults'].get('rules') or [{}])[0]
        if 'every' in rule:
            throttling = ' (every %dth request answered 429, Retry-After %s s)' % (rule['every'], figures['retry_after'])
        elif rule:
            throttling = ' (%d%% of requests answered 429 at random, Retry-After %s s)' % (
                figures['throttle_probability'] * 100, figures['retry_after'])
        else:
            throttling = ''
        header = '  %-30s %9s %14s %12s %10s %6s %8s' % ('', 'wall (s)', 'HTTP requests', 'batch items', 'throttled', 'jobs', 'writes')
        lines += ['', name + throttling, header]
        rows = [('module (in process)', scenario['module']), ('baseline (GET per SP, in a row)', scenario['baseline'])]
        for label, item in rows:
            lines.append('  %-30s %9.2f %14d %12d %10d %6d %8d' % (label, item['seconds'], item['http_requests'], item['batch_items'],
                                                                   item['throttled'], item['jobs'], item['writes']))
        if 'playbook' in scenario:
            item = scenario['playbook']
            lines.append('  %-30s %9.2f %14d %12d %10d %6d %8d   (ansible-playbook startup alone: %.2f s)'
                         % ('module (ansible-playbook)', item['seconds'], item['http_requests'], item['batch_items'], item['throttled'],
                            item['jobs'], item['writes'], item['startup_seconds']))
        lines.append('  module vs baseline: %.1fx faster, %.1fx fewer HTTP requests; module / floor: %.2fx; jobs missing: %d'
                     % (scenario['speedup'], scenario['request_ratio'], scenario['floor_ratio'], scenario['missing_module']))
        chain = scenario['module']['longest_throttle_chain']
        if chain:
            lines.append('  the most throttled read was answered 429 %d times in a row: floor with the waits Graph imposed '
                         'max(%.2f s, %d x (%s s + %d ms) + %d ms) = %.2f s; module / that floor: %.2fx'
                         % (chain, figures['floor_seconds'], chain, figures['retry_after'], figures['latency_ms'], figures['latency_ms'],
                            scenario['throttled_floor_seconds'], scenario['throttled_floor_ratio']))
        if 'playbook' in scenario:
            lines.append('  through ansible-playbook: %.1fx faster than the baseline, startup included'
                         % (scenario['baseline']['seconds'] / scenario['playbook']['seconds']))
        warnings = scenario['module'].get('warnings')
        if warnings:
            lines.append('  module warnings: %s' % ' | '.join(warnings))
    if 'memory' in figures:
        memory = figures['memory']
        lines += ['', 'Memory: a module process (main()) scanning %d service principals: peak RSS %.0f MB in %.1f s '
                  '(%d jobs, %d HTTP requests); the same process reading one service principal: %.0f MB'
                  % (memory['service_principals'], memory['scan']['peak_rss_mb'], memory['scan']['seconds'],
                     memory['scan']['summary']['jobs'], memory['scan']['summary']['graph_requests'],
                     memory['one_service_principal']['peak_rss_mb'])]
    lines += ['', 'Targets%s:' % (' (set for the full run; informational at --smoke scale)' if figures.get('smoke') else '')]
    for description, met in check_targets(figures):
        lines.append('%s %s' % ({True: 'PASS', False: 'FAIL', None: 'N/A '}[met], description))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--smoke', action='store_true', help='a small, fast run for the test suite (targets not enforced)')
    parser.add_argument('--concurrency', type=int, default=4, help='batch_concurrency of the module (default 4, its default)')
    parser.add_argument('--no-playbook', action='store_true', help='skip the ansible-playbook runs')
    parser.add_argument('--no-memory', action='store_true', help='skip the 20,000 service principal memory run')
    parser.add_argument('--json', action='store_true', help='print the figures as JSON too')
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else FULL
    figures = run(settings, concurrency=args.concurrency, with_playbook=not args.no_playbook, with_memory=not args.no_memory,
                  progress=lambda text: print(text, file=sys.stderr))
    figures['smoke'] = args.smoke
    print(report(figures))
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
    if args.smoke:
        return 0 if all(scenario['missing_module'] == 0 for scenario in figures['scenarios'].values()) else 1
    return 0 if all(met is not False for dummy, met in check_targets(figures)) else 1


if __name__ == '__main__':
    sys.exit(main())
