# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/check-mode.md: examples/check_mode_gate.yml against the Graph emulator, as the guide walks through it.

On a provisioned SCIM application with assigned users: ``--check --diff`` sends no write (parseExpression, a read-only
action, is the only POST) and either stops at the scoping gate, naming who would leave scope, or shows the plan and the
diff; the real run writes the schema once; a check run after it plans nothing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from emulator_directory import graph_requests, graph_writes
from role_scenario import EXAMPLE, SCIM_TOKEN

GATE_EXAMPLE = os.path.join(os.path.dirname(EXAMPLE), 'check_mode_gate.yml')
NAME = 'Contoso HR SCIM (entra.provisioning demo)'
PLAN = 'Plan the mapping change (check mode, reads only)'
SHOW = 'Show the plan'
APPLY = 'Apply the mapping change (skipped in check mode, where the plan above is the result)'
EMPLOYEE_NUMBER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'


def writes_but_parse_expression(log):
    """The emulator logs every POST as a write; parseExpression changes nothing (docs/graph-behaviour.md §5.2)."""
    return [write for write in graph_writes(log) if not write.endswith('/parseExpression')]


def provisioned_with_users(run_playbook, emulator, tenant):
    """examples/provision_scim_app.yml run for real, then users of two departments assigned to the application."""
    run = run_playbook(EXAMPLE, extra_vars=dict(scim_app_display_name=NAME, scim_wait_timeout=120), env=dict(SCIM_TOKEN=SCIM_TOKEN))
    assert run.rc == 0, run
    sp_id = tenant.census(NAME)[1][0]['id']
    for name, department in (('ann', 'Sales'), ('bob', 'Sales'), ('cy', 'HR'), ('di', 'Support')):
        user = emulator.add_user(name, userPrincipalName='%s@contoso.test' % name, department=department, employeeId='e-%s' % name)
        emulator.assign(sp_id, user['id'])
    emulator.clear_log()
    return sp_id


def test_check_mode_gate_example(run_playbook, fresh_emulator, tenant):
    sp_id = provisioned_with_users(run_playbook, fresh_emulator, tenant)

    # The first preview stops at the scoping gate: two assigned users would leave scope. Nothing is written.
    refused = run_playbook(GATE_EXAMPLE, check=True, diff=True)
    assert refused.rc != 0
    entry = refused.result(PLAN)
    assert entry['status'] == 'failed'
    message = entry['result']['msg']
    assert 'cy@contoso.test' in message and 'di@contoso.test' in message and 'ann@contoso.test' not in message, message
    assert [item['leaving'] for item in entry['result']['impact']] == [2]
    log = fresh_emulator.requests_log()
    assert writes_but_parse_expression(log) == []

    # Reviewed: allow the two. The check run shows the plan and the diff, and still writes nothing.
    fresh_emulator.clear_log()
    preview = run_playbook(GATE_EXAMPLE, check=True, diff=True, extra_vars=dict(gate_max_leaving=2))
    assert preview.rc == 0, preview
    plan = preview.result(PLAN)
    assert plan['status'] == 'changed'
    assert sorted('%s %s' % (change['action'], change['kind']) for change in plan['result']['changes']) == ['added scoping', 'changed attribute']
    shown = preview.result(SHOW)['result']['msg']
    assert sorted(shown['changes']) == ['added scoping filter', 'changed %s' % EMPLOYEE_NUMBER]
    assert shown['leaving_scope'] == 2 and sorted(shown['leaving_sample']) == ['cy@contoso.test', 'di@contoso.test']
    impact = plan['result']['impact'][0]
    assert (impact['entitled'], impact['in_scope_before'], impact['in_scope_after']) == (4, 4, 2)
    assert preview.result(APPLY)['status'] == 'skipped'
    # --diff prints the managed parts before and after: the new expression and the scoping filter.
    assert 'ToUpper([employeeId])' in preview.output and '"department"' in preview.output, preview.output[-4000:]
    log = fresh_emulator.requests_log()
    assert writes_but_parse_expression(log) == []
    parsed = [request for request in graph_requests(log) if request.startswith('POST ') and '/parseExpression' in request]
    assert parsed, graph_requests(log)

    # The real run: the gate again, then one schema write.
    fresh_emulator.clear_log()
    applied = run_playbook(GATE_EXAMPLE, extra_vars=dict(gate_max_leaving=2))
    assert applied.rc == 0, applied
    assert applied.result(APPLY)['status'] == 'changed'
    job_id = tenant.jobs(sp_id)[0]['id']
    assert writes_but_parse_expression(fresh_emulator.requests_log()) == [
        'PUT /servicePrincipals/%s/synchronization/jobs/%s/schema' % (sp_id, job_id)]

    # Applied: a check run plans nothing and passes the gate with the default limits.
    fresh_emulator.clear_log()
    after = run_playbook(GATE_EXAMPLE, check=True, diff=True)
    assert after.rc == 0, after
    assert after.result(PLAN)['status'] == 'ok' and after.result(PLAN)['result']['changes'] == []
    # The expression's test is evaluated on every run (a parseExpression), also when nothing changes.
    assert writes_but_parse_expression(fresh_emulator.requests_log()) == []
