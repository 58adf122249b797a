# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role entra.provisioning.provisioning_report against the Graph emulator, and its HTML in a real headless Chromium.

The emulator is seeded with a job in every state it can seed plus a service principal whose jobs cannot be read; the
role writes the report; a synchronization_job_info task in the same play is the witness the CSV and the JSON must
equal. Chromium opens the page from file:// with no network: a screenshot is kept under tests/output/report/ (or
$ENTRA_TEST_OUTPUT/report/) as a CI artefact, and --dump-dom shows what the page's script did (rows, filter, sort, ages).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import csv
import json
import os
import re
import shutil
import subprocess
import tempfile

from urllib.parse import quote

import pytest

from entra_graph_emulator.seeding import JOB_STATES
from collection_under_test import COLLECTION_ROOT
from playbook_tasks import ok, playbook

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# CI artefacts: tests/output/report/ of this checkout, or of the directory ENTRA_TEST_OUTPUT names (tests/run.sh runs
# the tests from a temporary copy of the collection, which is deleted at the end).
ARTEFACTS = os.path.join(os.environ.get('ENTRA_TEST_OUTPUT') or os.path.join(TESTS_DIR, 'output'), 'report')
ROLE = 'entra.provisioning.provisioning_report'
ROLE_TASK = ROLE + ' : %s'
COUNTS = ('count_imported', 'count_exported', 'count_escrowed')
CHROMIUM_NAMES = ('chromium', 'chromium-browser', 'google-chrome')
# Without the background-networking flags Chromium dials Google's services at start, which a closed network refuses.
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--hide-scrollbars', '--window-size=1600,1000')


@pytest.fixture(autouse=True)
def slow_cycles(emulator):
    """Cycles of 40 minutes (the emulator's default), so that the seeded jobs keep their state during the test."""
    emulator.control('PUT', '/settings', {'cycle_seconds': 2400})


def chromium():
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail('Chromium is missing: this test opens the report in a real headless browser. Install it with '
                '"apt-get install -y chromium" (Debian; tests/run.sh does it in CI) or put chromium on PATH.')
    return None


def run_chromium(*arguments):
    profile = tempfile.mkdtemp(prefix='report-chromium-')
    try:
        completed = subprocess.run([chromium()] + list(CHROMIUM_FLAGS) + ['--user-data-dir=%s' % profile] + list(arguments),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False,
                                   universal_newlines=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert completed.returncode == 0, 'chromium failed (%s):\n%s' % (completed.returncode, completed.stderr[-3000:])
    return completed.stdout


def dump_dom(url):
    return run_chromium('--dump-dom', url)


def job_rows(dom):
    """(attributes, text) of each row of the jobs table, in the order the page shows them."""
    body = dom.split('<table id="jobs"', 1)[1].split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    return re.findall(r'<tr([^>]*)>(.*?)</tr>', body, re.S)


def visible(rows):
    return [(attributes, text) for attributes, text in rows if ' hidden' not in attributes]


def report_row(job, admin_center='https://entra.microsoft.com'):
    """What the report's JSON says of one entry of synchronization_job_info's jobs (docs/report.md)."""
    status = job['status'] or {}
    last = status.get('last_execution') or {}
    error = job.get('error')
    sp = job['service_principal']
    return dict(
        service_principal=sp, id=job['id'], template_id=job['template_id'], health=job['health'],
        health_reason=job['health_reason'], health_advice=job['health_advice'], status_code=status.get('code'),
        schedule_state=(job['schedule'] or {}).get('state'),
        last_cycle=dict((key, last.get(key)) for key in ('state', 'time_began', 'time_ended', 'error') + COUNTS),
        last_successful_cycle_ended=(status.get('last_successful_execution') or {}).get('time_ended'),
        count_successive_complete_failures=status.get('count_successive_complete_failures'),
        quarantine=status.get('quarantine'),
        error=dict(status=error['status'], code=error['code'], message=error['message']) if error else None,
        admin_center_url='%s/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/objectId/%s/appId/%s' % (
            admin_center, sp['id'], sp['app_id']),
    )


def role_play(dest, **variables):
    variables.update(provisioning_report_dest=dest)
    return playbook(
        {'name': 'Report', 'ansible.builtin.include_role': {'name': ROLE}, 'vars': variables},
        {'name': 'Witness', 'entra.provisioning.synchronization_job_info': {}},
    )


def test_the_report_shows_every_job_and_its_files_equal_the_facts(run_playbook, emulator, tmp_path):
    chromium()  # fails at once, naming the package, when the browser is missing
    ids = emulator.seed(2 * len(JOB_STATES) + 3, 2 * len(JOB_STATES) + 1, return_ids=True)['ids']
    forbidden = ids[2 * len(JOB_STATES)]
    emulator.set_faults({'rules': [dict(name='forbidden', kind='batch_item', action='error', status=403,
                                        path='/servicePrincipals/%s/synchronization/jobs$' % forbidden,
                                        code='Authorization_RequestDenied', message='Insufficient privileges.')]})
    dest = str(tmp_path / 'report')
    play = role_play(dest, provisioning_report_tenant_name='Contoso (emulator)')

    first = run_playbook(play)
    second = run_playbook(play)

    assert first.rc == 0, first
    assert second.rc == 0, second
    facts = ok(first, 'Witness')
    summary = dict((key, value) for key, value in facts['summary'].items() if key != 'graph_requests')
    by_health = summary['by_health']
    # Every verdict the emulator can seed, and a service principal whose jobs cannot be read.
    assert dict((verdict, count) for verdict, count in by_health.items() if count) == dict(
        unreadable=1, quarantined=2, not_configured=2, disabled=2, paused=2, not_run=2, degraded=2, healthy=2)

    # The JSON is the facts.
    with open(os.path.join(dest, 'provisioning-report.json')) as handle:
        report = json.load(handle)
    assert report['jobs'] == [report_row(job) for job in facts['jobs']]
    assert report['summary'] == summary
    assert report['tenant'] == dict(id=emulator.tenant_id, name='Contoso (emulator)')
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', report['generated_at'])

    # The CSV parses, one row per job, and its numbers are those of the facts.
    with open(os.path.join(dest, 'provisioning-report.csv'), newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(facts['jobs'])
    assert collections.Counter(row['health'] for row in rows) == collections.Counter(
        dict((verdict, count) for verdict, count in by_health.items() if count))
    expected = dict(((job['service_principal']['id'], job['id'] or ''), job) for job in facts['jobs'])
    for row in rows:
        job = expected[(row['service_principal_id'], row['job_id'])]
        last = (job['status'] or {}).get('last_execution') or {}
        assert [row[count] for count in COUNTS] == ['' if last.get(count) is None else str(last[count]) for count in COUNTS]
        assert (row['health'], row['health_reason'], row['health_advice']) == (job['health'], job['health_reason'], job['health_advice'])
        assert row['service_principal'] == job['service_principal']['display_name']
        sp = job['service_principal']
        assert row['admin_center_url'].endswith('/objectId/%s/appId/%s' % (sp['id'], sp['app_id']))
    assert any(row[count] not in ('', '0') for row in rows for count in COUNTS), 'no job with a count: the check proves nothing'

    # Same facts, same files: the second run changes nothing and keeps the first run's time.
    for task in ('Write the report files', "Write the report's JSON"):
        assert first.result(ROLE_TASK % task)['status'] == 'changed'
        assert second.result(ROLE_TASK % task)['status'] == 'ok', second.result(ROLE_TASK % task)
    with open(os.path.join(dest, 'provisioning-report.json')) as handle:
        assert json.load(handle)['generated_at'] == report['generated_at']

    # The page in a real browser: a screenshot for people (the CI artefact), the DOM after its script ran for the test.
    html = os.path.join(dest, 'provisioning-report.html')
    url = 'file://' + html
    os.makedirs(ARTEFACTS, exist_ok=True)
    screenshot = os.path.join(ARTEFACTS, 'provisioning-report.png')
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    run_chromium('--screenshot=%s' % screenshot, url)
    with open(screenshot, 'rb') as handle:
        png = handle.read()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 20000, 'the screenshot is missing or blank'
    shutil.copy(html, os.path.join(ARTEFACTS, 'provisioning-report.html'))

    with open(html) as handle:
        source = handle.read()
    assert not re.search(r'(?:src|href)="(?:https?:)?//(?!entra\.microsoft\.com/)', source), 'the page loads something'
    assert '<link' not in source and '@import' not in source and 'url(' not in source

    dom = dump_dom(url)
    assert 'data-report-ready="true"' in dom, 'the page script did not run'
    assert '<input id="filter"' in dom
    shown = job_rows(dom)
    assert len(shown) == len(facts['jobs'])
    # Sorted by health, the most urgent first: the unreadable one, then the quarantined ones.
    assert [re.search(r'data-health="(\w+)"', attributes).group(1) for attributes, text in shown[:3]] == [
        'unreadable', 'quarantined', 'quarantined']
    assert 'id="shown" aria-live="polite">%d rows<' % len(facts['jobs']) in dom
    # The age of the last successful cycle is counted by the page.
    # "just now" under a minute: an emulator started moments ago seeds cycles that ended moments ago.
    assert len(re.findall(r'<span class="age" data-time="[^"]+">(?:\d+ (?:min|h|days) ago|just now)</span>', dom)) == len(
        [row for row in report['jobs'] if row['last_successful_cycle_ended']]) > 0
    for verdict in ('quarantined', 'degraded'):
        for job in facts['jobs']:
            if job['health'] == verdict:
                assert job['health_advice'] in dom.replace('&amp;', '&')

    # The filter and the sort, as a wall screen opens them from the address's #fragment.
    filtered = visible(job_rows(dump_dom(url + '#health=quarantined')))
    assert [attributes.count('data-health="quarantined"') for attributes, text in filtered] == [1] * by_health['quarantined']
    # Text filter and sort together: the applications of one kind, by name from Z to A.
    kind = re.sub(r' \d+$', '', next(job['service_principal']['display_name'] for job in facts['jobs'] if job['health'] == 'healthy'))
    of_kind = [job for job in facts['jobs'] if kind.lower() in job['service_principal']['display_name'].lower()]
    by_name = visible(job_rows(dump_dom(url + '#q=%s&sort=0&dir=descending' % quote(kind))))
    names = [re.search(r'<td class="app" data-sort="([^"]*)"', text).group(1) for attributes, text in by_name]
    assert names == sorted((job['service_principal']['display_name'].lower() for job in of_kind), reverse=True)
    assert 1 < len(names) < len(facts['jobs'])


def test_every_csv_column_carries_its_own_field(run_playbook, tmp_path):
    """The emulator's cycles import and export the same counts; a document with a different value in every field
    shows that each CSV column is filled from its own field (the templates alone, no Graph)."""
    role = os.path.join(COLLECTION_ROOT, 'roles', 'provisioning_report')
    job = dict(
        service_principal=dict(id='sp-id', app_id='app-id', display_name='=Contoso "HR"'), id='scim.1', template_id='scim',
        health='degraded', health_reason='reason', health_advice='advice', status_code='Active', schedule_state='Active',
        last_cycle=dict(state='EntryLevelErrors', time_began='2026-01-01T00:00:00Z', time_ended='2026-01-01T00:01:00Z',
                        count_imported=11, count_exported=7, count_escrowed=3, error=None),
        last_successful_cycle_ended='2025-12-31T00:00:00Z', count_successive_complete_failures=0, quarantine=None,
        error=None, admin_center_url='https://entra.microsoft.com/#view/x')
    document = dict(generated_at='2026-01-02T00:00:00Z', tenant=dict(id='tenant-id', name=''), stale_after_hours=24.0,
                    summary=dict(jobs=1), jobs=[job])
    dest = str(tmp_path / 'out.csv')
    play = json.dumps([{'hosts': 'localhost', 'gather_facts': False,
                        'vars_files': [os.path.join(role, 'defaults', 'main.yml'), os.path.join(role, 'vars', 'main.yml')],
                        'vars': {'__provisioning_report_document': document},
                        'tasks': [{'name': 'CSV', 'ansible.builtin.template': {
                            'src': os.path.join(role, 'templates', 'report.csv.j2'), 'dest': dest}}]}])

    assert run_playbook(play).rc == 0

    with open(dest, newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{
        'generated_at': '2026-01-02T00:00:00Z', 'tenant_id': 'tenant-id', 'service_principal': '\'=Contoso "HR"',
        'service_principal_id': 'sp-id', 'app_id': 'app-id', 'job_id': 'scim.1', 'template_id': 'scim', 'health': 'degraded',
        'status_code': 'Active', 'schedule_state': 'Active', 'last_cycle_state': 'EntryLevelErrors',
        'last_cycle_ended': '2026-01-01T00:01:00Z', 'count_imported': '11', 'count_exported': '7', 'count_escrowed': '3',
        'last_successful_cycle_ended': '2025-12-31T00:00:00Z', 'health_reason': 'reason', 'health_advice': 'advice',
        'admin_center_url': 'https://entra.microsoft.com/#view/x'}]
