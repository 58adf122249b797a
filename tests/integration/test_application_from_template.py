# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""entra.provisioning.application_from_template: real playbooks against the Graph emulator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from emulator_directory import NON_GALLERY_TEMPLATE_ID, Directory, graph_requests, graph_writes

NAME = 'Contoso HR SCIM'
TASK = 'Application from template'


def playbook(**options):
    """A one-task playbook; ``options`` become the module's options (YAML flow mapping, values JSON-quoted)."""
    args = dict(template_id=NON_GALLERY_TEMPLATE_ID, display_name=NAME)
    args.update(options)
    args = dict((key, value) for key, value in args.items() if value is not None)
    return '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: %s
      entra.provisioning.application_from_template: %s
''' % (TASK, json.dumps(args))


@pytest.fixture
def directory(fresh_emulator):
    return Directory(fresh_emulator)


def test_creates_once_then_adopts_without_writing(run_playbook, fresh_emulator, directory):
    first = run_playbook(playbook())
    assert first.rc == 0, first
    created = first.result(TASK)
    assert created['status'] == 'changed'
    result = created['result']
    assert result['actions'] == ['instantiate']
    assert result['template_id'] == NON_GALLERY_TEMPLATE_ID
    application, sp = result['application'], result['service_principal']
    assert application['display_name'] == NAME and application['application_template_id'] == NON_GALLERY_TEMPLATE_ID
    assert sp['app_id'] == application['app_id'] and sp['id'] != application['id']
    # The SP's synchronization templates, and which one a job should use.
    template_ids = [item['id'] for item in result['synchronization_templates']]
    assert template_ids and result['default_synchronization_template_id'] in template_ids

    fresh_emulator.clear_log()
    second = run_playbook(playbook())
    assert second.rc == 0, second
    adopted = second.result(TASK)
    assert adopted['status'] == 'ok'
    assert adopted['result']['actions'] == []
    assert adopted['result']['application'] == application
    assert adopted['result']['service_principal'] == sp
    assert graph_writes(fresh_emulator.requests_log()) == []

    applications, sps, _jobs = directory.census(NAME)
    assert [item['id'] for item in applications] == [application['id']]
    assert [item['id'] for item in sps] == [sp['id']]


def test_check_mode_on_an_empty_tenant_plans_and_sends_no_write(run_playbook, fresh_emulator, directory):
    run = run_playbook(playbook(), check=True, diff=True)
    assert run.rc == 0, run
    planned = run.result(TASK)
    assert planned['status'] == 'changed'
    assert planned['result']['actions'] == ['instantiate']
    assert planned['result']['application'] == dict(id=None, app_id=None, display_name=NAME,
                                                    application_template_id=NON_GALLERY_TEMPLATE_ID)
    assert planned['result']['diff'] == dict(before=dict(state='absent'), after=dict(
        state='present', application=planned['result']['application'], service_principal=planned['result']['service_principal']))
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert directory.applications(NAME) == []


def test_template_found_by_gallery_name(run_playbook, directory):
    run = run_playbook(playbook(template_id=None, template_name='aws single-account access', display_name='AWS production'))
    assert run.rc == 0, run
    result = run.result(TASK)['result']
    assert result['template_id'] == '8b1025e4-1dd2-430b-a150-2ef79cd700f5'
    assert [app['applicationTemplateId'] for app in directory.applications('AWS production')] == [result['template_id']]


def test_unknown_template_name_fails_with_candidates_and_no_write(run_playbook, fresh_emulator):
    run = run_playbook(playbook(template_id=None, template_name='AWS'))
    assert run.rc != 0
    failed = run.result(TASK)
    assert failed['status'] == 'failed'
    message = failed['result']['msg']
    assert "No application template is named 'AWS'" in message
    assert 'AWS Single-Account Access' in message and '8b1025e4-1dd2-430b-a150-2ef79cd700f5' in message
    assert graph_writes(fresh_emulator.requests_log()) == []


def test_bad_template_id_fails_before_any_request(run_playbook, fresh_emulator):
    run = run_playbook(playbook(template_id='scim'))
    assert run.rc != 0
    message = run.result(TASK)['result']['msg']
    assert message.startswith("template_id: 'scim' is not a GUID; give the id of an application template")
    assert graph_requests(fresh_emulator.requests_log()) == []


def test_unknown_template_id_fails_without_instantiating(run_playbook, fresh_emulator):
    run = run_playbook(playbook(template_id='00000000-0000-0000-0000-000000000000'))
    assert run.rc != 0
    assert 'is not an application template of this cloud' in run.result(TASK)['result']['msg']
    assert graph_writes(fresh_emulator.requests_log()) == []


def test_several_matching_applications_fail_listing_them(run_playbook, fresh_emulator, directory):
    ids = [directory.instantiate(NAME)['application']['id'] for dummy in range(2)]
    fresh_emulator.clear_log()
    run = run_playbook(playbook())
    assert run.rc != 0
    message = run.result(TASK)['result']['msg']
    assert message.startswith("2 applications named 'Contoso HR SCIM' were instantiated from template")
    assert all(object_id in message for object_id in ids)
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert len(directory.applications(NAME)) == 2


def test_instantiate_error_after_create_adopts_instead_of_duplicating(run_playbook, fresh_emulator, directory):
    fresh_emulator.set_faults({'instantiate_error_after_create': 1, 'instantiate_error_status': 500})
    run = run_playbook(playbook())
    assert run.rc == 0, run
    result = run.result(TASK)['result']
    assert result['changed'] is True and result['actions'] == ['instantiate']
    assert any('a re-read showed that Graph had processed it' in warning for warning in result.get('warnings', []))
    writes = graph_writes(fresh_emulator.requests_log())
    assert writes == ['POST /applicationTemplates/%s/instantiate' % NON_GALLERY_TEMPLATE_ID]
    applications = directory.applications(NAME)
    assert [app['id'] for app in applications] == [result['application']['id']]


def test_waits_for_the_service_principal_to_replicate(run_playbook, fresh_emulator, directory):
    fresh_emulator.set_faults({'replication_delay_seconds': 4})
    run = run_playbook(playbook())
    assert run.rc == 0, run
    result = run.result(TASK)['result']
    sps = directory.service_principals(NAME)
    assert [sp['id'] for sp in sps] == [result['service_principal']['id']]
    assert result['default_synchronization_template_id']
    # It looked more than once (the new service principal was not listed at first), and created one application.
    log = fresh_emulator.requests_log()
    assert graph_requests(log).count('GET /servicePrincipals -> 200') >= 2
    assert graph_writes(log) == ['POST /applicationTemplates/%s/instantiate' % NON_GALLERY_TEMPLATE_ID]


def test_absent_deletes_the_application_and_its_service_principal(run_playbook, fresh_emulator, directory):
    created = run_playbook(playbook())
    assert created.rc == 0, created
    application_id = created.result(TASK)['result']['application']['id']

    fresh_emulator.clear_log()
    preview = run_playbook(playbook(state='absent'), check=True)
    assert preview.result(TASK)['result']['actions'] == ['delete']
    assert graph_writes(fresh_emulator.requests_log()) == []

    removed = run_playbook(playbook(state='absent'))
    assert removed.rc == 0, removed
    result = removed.result(TASK)
    assert result['status'] == 'changed' and result['result']['application']['id'] == application_id
    assert graph_writes(fresh_emulator.requests_log()) == ['DELETE /applications/%s' % application_id]
    assert directory.census(NAME) == ([], [], [])

    fresh_emulator.clear_log()
    again = run_playbook(playbook(state='absent'))
    assert again.rc == 0 and again.result(TASK)['status'] == 'ok'
    assert graph_writes(fresh_emulator.requests_log()) == []


def test_an_application_still_replicating_from_an_interrupted_run_is_kept_not_duplicated(run_playbook, fresh_emulator, directory):
    # An interrupted run instantiated the application; it is not listed yet when the module looks (replication). The
    # delay must outlast ansible-playbook's start-up on a loaded machine, or the module adopts it without a create.
    fresh_emulator.set_faults({'replication_delay_seconds': 12})
    earlier = directory.instantiate(NAME)['application']['id']
    fresh_emulator.clear_log()
    run = run_playbook(playbook())
    assert run.rc == 0, run
    result = run.result(TASK)['result']
    assert result['application']['id'] == earlier
    assert any('an earlier run was interrupted' in warning for warning in result.get('warnings', []))
    writes = graph_writes(fresh_emulator.requests_log())
    assert writes[0] == 'POST /applicationTemplates/%s/instantiate' % NON_GALLERY_TEMPLATE_ID
    assert len(writes) == 2 and writes[1].startswith('DELETE /applications/') and earlier not in writes[1]
    assert [app['id'] for app in directory.applications(NAME)] == [earlier]
    assert [sp['appId'] for sp in directory.service_principals(NAME)] == [result['application']['app_id']]


def test_an_application_without_provisioning_has_no_synchronization_templates(run_playbook):
    # Dynamics CRM Online: supportedProvisioningTypes is empty (the applicationtemplate-list example, docs/graph-behaviour.md §1.4).
    run = run_playbook(playbook(template_id=None, template_name='Dynamics CRM Online', display_name='CRM'))
    assert run.rc == 0, run
    result = run.result(TASK)['result']
    assert result['synchronization_templates'] == []
    assert result['default_synchronization_template_id'] is None


def test_a_timeout_after_instantiate_reports_the_change_and_a_rerun_adopts(run_playbook, fresh_emulator, directory):
    fresh_emulator.set_faults({'replication_delay_seconds': 6})
    run = run_playbook(playbook(wait_timeout=1))
    assert run.rc != 0
    failed = run.result(TASK)['result']
    assert 'has no readable service principal after 1 s' in failed['msg']
    assert failed['changed'] is True and failed['actions'] == ['instantiate']
    created = failed['application']['id']
    assert created

    fresh_emulator.set_faults({})
    fresh_emulator.clear_log()
    rerun = run_playbook(playbook())
    assert rerun.rc == 0, rerun
    assert rerun.result(TASK)['status'] == 'ok'
    assert rerun.result(TASK)['result']['application']['id'] == created
    assert graph_writes(fresh_emulator.requests_log()) == []
    assert [app['id'] for app in directory.applications(NAME)] == [created]
