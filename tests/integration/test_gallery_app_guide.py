# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/gallery-app.md: examples/provision_gallery_app.yml (AWS Single-Account Access) against the Graph emulator,
as the guide walks through it: check mode first (no write), the first run (application, credentials, job, first
cycle), a second run (no change, no write)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from emulator_directory import graph_writes
from role_scenario import EXAMPLE

GALLERY_EXAMPLE = os.path.join(os.path.dirname(EXAMPLE), 'provision_gallery_app.yml')
NAME = 'AWS production account (entra.provisioning demo)'
AWS_TEMPLATE_ID = '8b1025e4-1dd2-430b-a150-2ef79cd700f5'
ACCESS_KEY = 'AKIA-guide-access-key-do-not-print'
SECRET_KEY = 'aws-guide-secret-key-do-not-print'
SHOW = "Show the application, its job and the job's first (on later runs, latest) cycle"
FIRST_ACTIONS = dict(application=['instantiate'], credentials=['add ClientSecret', 'add SecretToken', 'add SyncNotificationSettings'],
                     job=['create', 'validate_credentials', 'start'], schema=[])


def run_example(run_playbook, check=False, diff=False):
    return run_playbook(GALLERY_EXAMPLE, check=check, diff=diff, extra_vars=dict(aws_wait_timeout=120),
                        env=dict(AWS_PROVISIONING_ACCESS_KEY=ACCESS_KEY, AWS_PROVISIONING_SECRET_KEY=SECRET_KEY))


def shown(run):
    entry = run.result(SHOW)
    assert entry['status'] == 'ok', run
    return entry['result']['msg']


def test_gallery_example_check_mode_then_first_run_then_no_change(run_playbook, fresh_emulator, tenant):
    # Check mode first: the plan, and nothing sent but reads.
    preview = run_example(run_playbook, check=True, diff=True)
    assert preview.rc == 0, preview
    plan = shown(preview)
    assert plan['actions'] == FIRST_ACTIONS
    assert plan['service_principal'] is None and plan['job'] is None and plan['template'] == 'aws'
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert tenant.census(NAME) == ([], [], [])

    fresh_emulator.clear_log()
    first = run_example(run_playbook)
    assert first.rc == 0, first
    made = shown(first)
    assert made['actions'] == FIRST_ACTIONS
    assert made['template'] == 'aws' and made['job'].startswith('aws.')
    assert made['schedule'] == 'Active' and made['health'] == 'healthy'
    assert made['last_cycle']['state'] == 'Succeeded' and made['last_cycle']['ended']
    applications, sps, jobs = tenant.census(NAME)
    assert [app['applicationTemplateId'] for app in applications] == [AWS_TEMPLATE_ID]
    assert [sp['id'] for sp in sps] == [made['service_principal']] and [job['id'] for job in jobs] == [made['job']]
    sync = '/servicePrincipals/%s/synchronization' % made['service_principal']
    assert graph_writes(fresh_emulator.requests_log()) == [
        'POST /applicationTemplates/%s/instantiate' % AWS_TEMPLATE_ID,
        'PUT %s/secrets' % sync,
        'POST %s/jobs' % sync,
        'POST %s/jobs/%s/validateCredentials' % (sync, made['job']),
        'POST %s/jobs/%s/start' % (sync, made['job']),
    ]
    # The keys as the guide shows them (Graph masks ClientSecret and SecretToken), the notification settings with them.
    secrets = dict((item['key'], item['value']) for item in tenant.get(sync + '/secrets')['value'])
    assert sorted(secrets) == ['ClientSecret', 'SecretToken', 'SyncNotificationSettings']
    for run in (preview, first):
        assert ACCESS_KEY not in run.output and SECRET_KEY not in run.output

    fresh_emulator.clear_log()
    second = run_example(run_playbook, diff=True)
    assert second.rc == 0, second
    assert [entry['task'] for entry in second.results if entry['status'] == 'changed'] == []
    again = shown(second)
    assert again['actions'] == dict(application=[], credentials=[], job=[], schema=[])
    assert again['job'] == made['job'] and again['service_principal'] == made['service_principal']
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert len(tenant.census(NAME)[2]) == 1
