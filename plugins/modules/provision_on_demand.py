#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: provision_on_demand
short_description: Provision Entra users and groups now, through a provisioning job, and report what happened
version_added: 0.2.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Runs each subject (a user, or a group with up to five of its members) through a provisioning job now, as the
    portal's "Provision on demand" does (C(POST .../synchronization/jobs/{id}/provisionOnDemand) in Microsoft Graph),
    and returns per subject what the service did, step by step.
  - The job is addressed as M(entra.provisioning.synchronization_job) addresses it. The rule to run is found in the
    job's schema (the rule that maps the subject's object type) unless O(rule_id) is given.
  - Graph allows five requests per ten seconds per job; the module paces itself to that, one request per subject,
    and retries a throttled request after the C(Retry-After) Graph gives.
  - Every subject is tried. A subject that fails fails the task afterwards, naming each failure, unless
    O(fail_on_error=false).
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes
  - entra.provisioning.job_address
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the job, its schema and the users named by user principal name, sends nothing, and
        returns in RV(subjects[].request) what would be sent. It reports C(changed=true), because the requests would be
        sent; whether they would write to the target is known only once they are.
  diff_mode:
    support: none
  idempotent:
    description:
      - Provisioning on demand is a command. Run again, a subject already in sync is reported V(skipped) and
        unchanged.
    support: partial
options:
  subjects:
    description:
      - The users and groups to provision, each tried once, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      object_id:
        description:
          - The object id of the user or group in Entra ID.
          - Exactly one of O(subjects[].object_id) and O(subjects[].user_principal_name) is required.
        type: str
      user_principal_name:
        description:
          - For a user, its user principal name instead of its object id, for example V(alice@contoso.com). It is
            resolved before anything is sent (needs C(User.Read.All)); an unknown name fails the task with nothing
            sent.
        type: str
      type:
        description: What the subject is.
        type: str
        choices: [user, group]
        default: user
      members:
        description:
          - For a group, the object ids of up to five of its members to provision with it, as Graph allows.
        type: list
        elements: str
  rule_id:
    description:
      - The id of the synchronization rule to run, from the job's schema (C(synchronizationRules[].id)).
      - By default the rule is the one that maps the subject's object type (C(User) or C(Group)); when the schema
        has several such rules (or none), the task fails listing them, and O(rule_id) chooses.
    type: str
  fail_on_error:
    description:
      - Fail the task when any subject failed, after every subject was tried; the message names each failure and
        RV(subjects) holds them all.
      - With V(false), failures are only reported, in RV(subjects) and RV(summary).
    type: bool
    default: true
notes:
  - 'B(Permissions.) C(Synchronization.ReadWrite.All) (or C(Application.ReadWrite.OwnedBy) for applications the
    caller owns) to read the job and its schema and to provision; C(User.Read.All) to resolve user principal names.'
  - B(Cost.) One request for the job, one for its schema, one per user principal name, and one per subject; six or
    more subjects take at least ten seconds.
seealso:
  - module: entra.provisioning.provisioning_log_info
    description: Find the users that failed, to retry them here.
  - module: entra.provisioning.synchronization_job
    description: Create, start and restart the job.
  - name: "synchronizationJob: provisionOnDemand (Microsoft Graph)"
    description: The API this module calls.
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-provisionondemand
  - name: On-demand provisioning in Microsoft Entra ID
    description: What the portal's "Provision on demand" does, step by step.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/provision-on-demand
'''

EXAMPLES = r'''
- name: Provision alice now
  entra.provisioning.provision_on_demand:
    service_principal_id: "{{ service_principal_id }}"
    template_id: scim
    subjects:
      - user_principal_name: alice@contoso.com
  register: alice

- name: Why, if not
  ansible.builtin.debug:
    msg: "{{ alice.subjects[0].status }}: {{ alice.subjects[0].error }}"

- name: A group and two of its members, and users by object id, reporting failures without failing
  entra.provisioning.provision_on_demand:
    service_principal_id: "{{ service_principal_id }}"
    job_id: "{{ job_id }}"
    fail_on_error: false
    subjects:
      - object_id: 8213fd4e-4ec7-4d5a-a7b1-b4ba0f1fb9c2
        type: group
        members:
          - cbc86211-6ada-4803-b73f-8039cf56d8a2
          - 2b57ee05-4a0f-4a1d-a3d1-e4f5c6b7a8d9
      - object_id: 9bb0f679-a883-4a6f-8260-35b491b8b8c8
  register: result

- name: The users that failed in the last 24 hours (examples/retry_failed_users.yml does this for the last cycle)
  entra.provisioning.provisioning_log_info:
    service_principal_id: "{{ service_principal_id }}"
    status: failure
    since: 24h
  register: failed

- name: One subject per user that failed
  ansible.builtin.set_fact:
    retry: "{{ retry | default([]) + [{'object_id': item}] }}"
  loop: "{{ failed.entries | selectattr('source_identity.type', 'equalto', 'User') | map(attribute='source_identity.id') | unique }}"

- name: Retry them
  entra.provisioning.provision_on_demand:
    service_principal_id: "{{ service_principal_id }}"
    template_id: scim
    subjects: "{{ retry }}"
  when: retry is defined
'''

RETURN = r'''
job_id:
  description: The job the subjects were provisioned through.
  type: str
  returned: always
  sample: scim.e4bbf44533ea4eabb17027f3a92e92aa
subjects:
  description: One result per subject, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    object_id:
      description: The subject's object id (resolved from its user principal name if it was given one).
      type: str
    user_principal_name:
      description: The user principal name given, or null.
      type: str
    type:
      description: V(user) or V(group).
      type: str
    members:
      description: The group members given.
      type: list
      elements: str
    rule_id:
      description: The synchronization rule that was run.
      type: str
    request:
      description: The body sent to (in check mode, that would be sent to) C(provisionOnDemand).
      type: dict
    status:
      description: The outcome; null in check mode.
      type: str
      choices: [success, failure, skipped, warning]
      sample: skipped
    action:
      description: What the service did (v1.0 spelling), for example V(create), V(update), V(delete), V(disable) or
        V(other) (nothing to do); null in check mode or when Graph refused the request.
      type: str
      sample: other
    changed:
      description: Whether the target system was written (an export step succeeded).
      type: bool
    steps:
      description: The provisioning steps, each with C(name), C(type), C(status), C(description), C(details) and
        C(timestamp), as in RV(entra.provisioning.provisioning_log_info#module:entries[].steps).
      type: list
      elements: dict
    modified_properties:
      description: The properties the service set, each with C(display_name), C(old_value) and C(new_value).
      type: list
      elements: dict
    error:
      description:
        - Why the subject failed or was skipped (C(code), C(reason), C(recommended_action)); null on success.
        - When Graph refused the request itself (an unknown object, say), the code and message of Graph's error and
          its HTTP C(status).
      type: dict
      sample: {code: RedundantExport, reason: The state of the user in both the source and target systems already match.,
               recommended_action: null}
    change_id:
      description: The change id, as the provisioning logs show it.
      type: str
    source_identity:
      description: The object in the source system (C(id), C(display_name), C(type), C(details)).
      type: dict
    target_identity:
      description: The object in the target system (C(id), C(display_name), C(type), C(details)).
      type: dict
summary:
  description: Subjects by status, and how many changed the target.
  type: dict
  returned: always
  sample: {success: 4, failure: 1, skipped: 1, warning: 0, changed: 4}
pauses:
  description: How many times the module waited to stay within Graph's five requests per ten seconds.
  type: int
  returned: always
  sample: 1
rules:
  description: The rules of the job's schema (C(id), C(name), C(source_directory), C(target_directory),
    C(object_mappings)), when no single rule could be chosen.
  type: list
  elements: dict
  returned: when the rule is ambiguous or missing
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._provision_on_demand import MODULE_SPEC, run_provision_on_demand


def main():
    run_as_module(MODULE_SPEC, run_provision_on_demand)


if __name__ == '__main__':
    main()
