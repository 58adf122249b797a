# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N no-change synchronization_job tasks against the equivalent chain of ansible.builtin.uri tasks.

    python tests/benchmarks/bench_synchronization_job.py            # 100 tasks each
    python tests/benchmarks/bench_synchronization_job.py --tasks 10
    python tests/benchmarks/bench_synchronization_job.py --rounds 5    # medians of 5 interleaved rounds

Starts the Graph emulator, creates one started SCIM job, then runs these playbooks with ansible-playbook for real:

- ``debug``: N copies of ``playbooks/debug_task.yml`` (an ``ansible.builtin.debug`` task: what any task costs);
- ``request``: N copies of ``playbooks/graph_request_task.yml``: a task that sends one Graph request and does
  nothing else (``action_plugins/bench_graph_request.py``), the floor of a no-change module task;
- ``module``: N copies of ``playbooks/module_task.yml`` (the job is present and started: nothing to do);
- ``uri``: N copies of ``playbooks/uri_chain.yml`` (get a token, read the jobs, create when missing, start when not
  running), which is what users write without the module.

It prints wall time per task (total, and without the fixed cost of starting ansible-playbook, measured with an empty
playbook), and the Graph and token requests each playbook sent, from the emulator's request log, and the ratio of a
module task to the two baselines: the ``request`` task, and a ``debug`` task plus one Graph request sent from this
process on a new connection (the mean of ``--requests`` such requests). The integration suite runs it with a few tasks
(``run(tasks=3)``) as a smoke test. Targets: a no-change module task within 1.3x of a debug task plus one Graph
request, at least 5x faster per task than the uri chain, one Graph request per no-change task and one token request
for the whole playbook.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
PLAYBOOKS = os.path.join(HERE, 'playbooks')
NON_GALLERY_TEMPLATE = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621'
for path in (TESTS_DIR, os.path.join(TESTS_DIR, 'integration')):
    if path not in sys.path:
        sys.path.insert(0, path)

from entra_graph_emulator.testing import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position
from conftest import collections_path  # noqa: E402  pylint: disable=wrong-import-position


def build_playbook(fragment, tasks):
    """The fragment's tasks repeated ``tasks`` times (INDEX replaced), as one play on localhost."""
    with open(os.path.join(PLAYBOOKS, fragment)) as handle:
        text = handle.read()
    body = ''.join(_indent(text.replace('INDEX', '%03d' % index)) for index in range(1, tasks + 1))
    return '- hosts: localhost\n  gather_facts: false\n  tasks:\n' + body


def _indent(text):
    return ''.join('    ' + line if line.strip() else line for line in text.splitlines(True))


class Bench:
    def __init__(self, scratch, emulator):
        self.scratch = scratch
        self.emulator = emulator
        self.collections = collections_path(scratch)

    def playbook_run(self, name, text, extra_vars, token_cache):
        path = os.path.join(self.scratch, name + '.yml')
        with open(path, 'w') as handle:
            handle.write(text)
        env = dict(os.environ)
        env.update(self.emulator.connection_env())
        env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, ENTRA_TOKEN_CACHE_PATH=token_cache,
                   ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
                   ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False',
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='False')
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), path, '-e', json.dumps(extra_vars)]
        first = self.emulator.requests_log()
        since = first[-1]['seq'] if first else 0
        started = time.monotonic()
        completed = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                                   universal_newlines=True)
        elapsed = time.monotonic() - started
        log = self.emulator.requests_log(since)
        return dict(
            seconds=elapsed,
            rc=completed.returncode,
            failed=_recap(completed.stdout, 'failed') + _recap(completed.stdout, 'unreachable'),
            changed=_recap(completed.stdout, 'changed'),
            graph_requests=sum(1 for entry in log if entry['kind'] in ('graph', 'batch')),
            writes=sum(1 for entry in log if entry['write']),
            token_requests=sum(1 for entry in log if entry['kind'] == 'login' and entry['method'] == 'POST'),
            login_requests=sum(1 for entry in log if entry['kind'] == 'login'),
            output=completed.stdout,
        )


def _recap(output, field):
    for line in output.splitlines():
        if line.startswith('localhost') and '%s=' % field in line:
            return int(line.split('%s=' % field, 1)[1].split()[0])
    return 0


def one_request_seconds(emulator, url, token, count):
    """Mean wall time of one Graph GET as a task sends it: in a freshly forked process, on a new connection.

    Ansible runs each task in a worker forked from the controller, which has imported requests (the collection's
    action plugins import the Graph client when they are loaded); so does this process before forking.
    """
    total = 0.0
    for dummy in range(count):
        reader, writer = os.pipe()
        with warnings.catch_warnings():
            # Under pytest-xdist this process has threads (execnet's); the child only sends one request and exits,
            # touching no lock a thread may hold, as Ansible's forked workers do (Python 3.12 warns on any such fork).
            warnings.simplefilter('ignore', DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe and exits at once
            os.close(reader)
            started = time.monotonic()
            with requests.Session() as session:
                response = session.get(url, headers={'Authorization': 'Bearer ' + token, 'Accept': 'application/json'},
                                       verify=emulator.ca_path, timeout=30)
            seconds = time.monotonic() - started if response.status_code == 200 else -1.0
            os.write(writer, repr(seconds).encode())
            os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as pipe:
            seconds = float(pipe.read())
        os.waitpid(pid, 0)
        if seconds < 0:
            raise RuntimeError('the baseline Graph request failed')
        total += seconds
    return total / count


def _access_token(info, ca_path):
    response = requests.post('%s/%s/oauth2/v2.0/token' % (info['authority_host'], info['tenant_id']), verify=ca_path, timeout=30,
                             data=dict(grant_type='client_credentials', client_id=info['client_id'],
                                       client_secret=info['client_secret'], scope=info['graph_endpoint'] + '/.default'))
    response.raise_for_status()
    return response.json()['access_token']


PLAYBOOKS_RUN = (('debug', 'debug_task.yml'), ('request', 'graph_request_task.yml'), ('module', 'module_task.yml'),
                 ('uri', 'uri_chain.yml'))


def run(tasks=100, requests_measured=50, rounds=1):
    """Run every playbook with ``tasks`` tasks each; returns the figures (also for the smoke test).

    With ``rounds`` > 1 the empty, debug, request and module playbooks run that many times, interleaved, and each
    figure is the median of its rounds (a shared machine's load comes and goes); the uri chain runs once.
    """
    scratch = tempfile.mkdtemp(prefix='bench-sync-job-')
    with EmulatorProcess(os.path.join(scratch, 'emulator')) as emulator:
        sp_id = emulator.seed(1, 0, application_template_id=NON_GALLERY_TEMPLATE, return_ids=True)['ids'][0]
        emulator.control('POST', '/synchronization/servicePrincipals/%s/jobs' % sp_id, {'template_id': 'scim', 'state': 'active'})
        info = emulator.info
        token = _access_token(info, info['ca_path'])
        extra_vars = dict(sp_id=sp_id, tenant_id=info['tenant_id'], client_id=info['client_id'],
                          client_secret=info['client_secret'], authority_host=info['authority_host'],
                          graph_endpoint=info['graph_endpoint'], ca_path=info['ca_path'], access_token=token)
        bench = Bench(scratch, emulator)
        url = '%s/v1.0/servicePrincipals/%s/synchronization/jobs' % (info['graph_endpoint'], sp_id)
        samples = dict((name, []) for name, dummy in PLAYBOOKS_RUN)
        startups, one_request = [], []
        for round_number in range(max(1, rounds)):
            empty = bench.playbook_run('empty', '- hosts: localhost\n  gather_facts: false\n  tasks: []\n', extra_vars,
                                       os.path.join(scratch, 'cache-empty.json'))
            startups.append(empty['seconds'])
            for name, fragment in PLAYBOOKS_RUN:
                if name == 'uri' and round_number:
                    continue
                # Each playbook starts with a cold token cache: the token request is part of what it costs.
                cache = os.path.join(scratch, 'cache-%s-%d.json' % (name, round_number))
                result = bench.playbook_run(name, build_playbook(fragment, tasks), extra_vars, cache)
                if result['rc'] != 0 or result['failed']:
                    raise RuntimeError('the %s playbook failed:\n%s' % (name, result['output'][-4000:]))
                result.pop('output')
                result['startup'] = empty['seconds']
                samples[name].append(result)
            one_request.append(one_request_seconds(emulator, url, token, requests_measured))
        figures = dict(tasks=tasks, rounds=max(1, rounds), startup_seconds=_median(startups), one_request_seconds=_median(one_request))
        for name, results in samples.items():
            result = sorted(results, key=lambda item: item['seconds'])[len(results) // 2]
            result['per_task'] = result['seconds'] / tasks
            result['per_task_without_startup'] = max(result['seconds'] - result['startup'], 0.0) / tasks
            figures[name] = result
    figures['speedup'] = figures['uri']['per_task'] / figures['module']['per_task']
    figures['speedup_without_startup'] = (figures['uri']['per_task_without_startup'] /
                                          max(figures['module']['per_task_without_startup'], 1e-9))
    module = figures['module']['per_task_without_startup']
    figures['debug_plus_request'] = figures['debug']['per_task_without_startup'] + figures['one_request_seconds']
    figures['ratio_to_debug_plus_request'] = module / max(figures['debug_plus_request'], 1e-9)
    figures['ratio_to_request_task'] = module / max(figures['request']['per_task_without_startup'], 1e-9)
    return figures


def _median(values):
    return sorted(values)[len(values) // 2]


def report(figures):
    lines = ['%d tasks per playbook, median of %d round(s); ansible-playbook startup (empty playbook): %.2f s'
             % (figures['tasks'], figures['rounds'], figures['startup_seconds']), '',
             '%-8s %10s %14s %22s %14s %8s %15s'
             % ('', 'wall (s)', 'per task (ms)', 'per task w/o startup', 'Graph requests', 'writes', 'token requests')]
    for name, dummy in PLAYBOOKS_RUN:
        item = figures[name]
        lines.append('%-8s %10.2f %14.1f %19.1f ms %14d %8d %15d' % (
            name, item['seconds'], item['per_task'] * 1000, item['per_task_without_startup'] * 1000, item['graph_requests'],
            item['writes'], item['token_requests']))
    lines += ['', 'one Graph request on a new connection, in a forked process: %.1f ms' % (figures['one_request_seconds'] * 1000),
              'no-change module task vs debug task + one Graph request (%.1f ms): %.2fx (target: at most 1.3x)'
              % (figures['debug_plus_request'] * 1000, figures['ratio_to_debug_plus_request']),
              'no-change module task vs the one-request task: %.2fx' % figures['ratio_to_request_task'],
              'module vs uri chain: %.1fx faster per task (%.1fx without the startup cost)'
              % (figures['speedup'], figures['speedup_without_startup']),
              'Graph requests per no-change module task: %.2f; token requests for the module playbook: %d '
              '(login host requests, discovery included: %d)'
              % (figures['module']['graph_requests'] / float(figures['tasks']), figures['module']['token_requests'],
                 figures['module']['login_requests'])]
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--tasks', type=int, default=100, help='no-change tasks per playbook (default 100)')
    parser.add_argument('--requests', type=int, default=50, help='Graph requests timed for the baseline (default 50)')
    parser.add_argument('--rounds', type=int, default=1, help='rounds of the debug, request and module playbooks; medians are '
                        'printed (default 1)')
    parser.add_argument('--json', action='store_true', help='print the figures as JSON too')
    args = parser.parse_args(argv)
    figures = run(args.tasks, args.requests, args.rounds)
    print(report(figures))
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))


if __name__ == '__main__':
    main()
