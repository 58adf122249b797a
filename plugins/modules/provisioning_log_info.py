#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: provisioning_log_info
short_description: Read the Entra provisioning logs, what the provisioning service did object by object
version_added: 0.2.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Lists the entries of the Microsoft Entra provisioning logs (C(GET /auditLogs/provisioning) in Microsoft Graph),
    one per object and change, filtered by job, object, status, action, cycle and time, and summarises them.
  - Answers the everyday questions "why was user X not provisioned?", "what failed in the last cycle?" and "what
    would the job delete?" (O(action=stagedDelete)) in one task, as C(Get-MgAuditLogProvisioning) with a hand-written
    C($filter) does, and with counts by status, action and error code in RV(summary).
  - The filters are sent to Graph as one C($filter); paging is followed to the end or to O(max_entries), newest
    first. Throttling is retried after the C(Retry-After) Graph gives.
  - Logs are eventually consistent; an entry can appear a few minutes after the change it records.
  - This module only reads. It never changes anything and always reports C(changed=false).
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes.info_module
options:
  service_principal_id:
    description:
      - Only the entries of the jobs of this service principal (enterprise application), given by its object ID.
        Not the application (client) ID.
    type: str
  job_id:
    description:
      - Only the entries of this provisioning job, for example V(scim.e4bbf44533ea4eabb17027f3a92e92aa), as
        M(entra.provisioning.synchronization_job_info) lists it. Graph compares it case-sensitively.
    type: str
  object:
    description:
      - Only the entries about this user or group, matched on the source or the target identity.
      - An object ID (of the user or group in Entra ID, or of the account in the target system), or a user principal
        name such as V(alice@contoso.com), which is first resolved to the user's object ID (needs C(User.Read.All)).
    type: str
  status:
    description: Only the entries with this outcome.
    type: str
    choices: [success, failure, skipped, warning]
  action:
    description:
      - Only the entries of this action. V(stagedDelete) lists the deletes that accidental-deletion prevention held
        back; see M(entra.provisioning.synchronization_job) with O(entra.provisioning.synchronization_job#module:restart_scope=[ForceDeletes])
        to approve them.
    type: str
    choices: [create, update, delete, disable, stagedDelete, other]
  cycle_id:
    description: Only the entries of this provisioning cycle (RV(entries[].cycle_id)).
    type: str
  since:
    description:
      - Only the entries after this time. A UTC timestamp (V(2024-05-25T08:00:00Z); without a zone, UTC is assumed),
        a date (V(2024-05-25), midnight UTC), or a span back from now, a number and a unit of V(s), V(m), V(h), V(d)
        or V(w), for example V(30m), V(24h) or V(7d).
      - Entra keeps provisioning logs for 30 days (7 days without a P1 or P2 licence, which also means no access
        through Graph).
    type: str
  until:
    description: Only the entries before this time; the same forms as O(since).
    type: str
  max_entries:
    description:
      - Stop after this many entries (the newest ones); RV(truncated) then says whether more matched. V(0) reads every
        entry that matches, however many pages that takes.
    type: int
    default: 1000
notes:
  - 'B(Permissions.) C(AuditLog.Read.All) and C(Directory.Read.All), and a Microsoft Entra ID P1 or P2 licence in
    the tenant: without either, Graph answers 403 and the task fails saying so. O(object) given as a user principal name also needs
    C(User.Read.All).'
  - B(Cost.) One request per page of entries, plus one to resolve a user principal name. With O(object), Graph is
    asked twice (the object as source identity, then as target identity), because its documented C($filter) has
    no C(or).
seealso:
  - module: entra.provisioning.provision_on_demand
    description: Retry the objects that failed, now.
  - module: entra.provisioning.synchronization_job_info
    description: The health of the jobs, including quarantine for too many deletes.
  - name: List provisioningObjectSummary (Microsoft Graph)
    description: The API this module calls, and its filters.
    link: https://learn.microsoft.com/graph/api/provisioningobjectsummary-list
  - name: provisioningObjectSummary resource type
    description: What an entry holds.
    link: https://learn.microsoft.com/graph/api/resources/provisioningobjectsummary
'''

EXAMPLES = r'''
- name: Why was alice not provisioned? Her entries of the last 7 days
  entra.provisioning.provisioning_log_info:
    service_principal_id: "{{ service_principal_id }}"
    object: alice@contoso.com
    since: 7d
  register: alice

- name: Show each attempt, its outcome and the reason
  ansible.builtin.debug:
    msg: "{{ item.time }} {{ item.action }} {{ item.status }} {{ item.error_code or '' }} {{ item.reason or '' }}"
  loop: "{{ alice.entries }}"
  loop_control:
    label: "{{ item.change_id }}"

- name: What failed in the last 24 hours, by error code, and who failed most
  entra.provisioning.provisioning_log_info:
    job_id: "{{ job_id }}"
    status: failure
    since: 24h
  register: failures

- name: Report
  ansible.builtin.debug:
    msg:
      - "{{ failures.summary.by_error_code }}"
      - "{{ failures.summary.most_failed | map(attribute='display_name') | list }}"

- name: The deletes accidental-deletion prevention held back
  entra.provisioning.provisioning_log_info:
    service_principal_id: "{{ service_principal_id }}"
    action: stagedDelete
    max_entries: 0
  register: staged
'''

RETURN = r'''
entries:
  description:
    - The matching entries, newest first, at most O(max_entries).
    - Enum values (action, status, step type and status) are in Microsoft Graph v1.0's spelling, whatever version or
      spelling Graph answered in.
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: The ID of the entry.
      type: str
      sample: 75b5b0ae-9fc5-8d0e-e0a9-7y6a4728de56
    time:
      description: When the provisioning service acted (UTC).
      type: str
      sample: '2024-05-25T03:00:54Z'
    job_id:
      description: The provisioning job.
      type: str
      sample: scim.e4bbf44533ea4eabb17027f3a92e92aa
    cycle_id:
      description: The provisioning cycle.
      type: str
      sample: b6502552-018d-79bd-8869-a47194dc65c1
    change_id:
      description: The change within the cycle.
      type: str
      sample: b6502552-018d-89bd-9969-b49194dc65c1
    action:
      description: What the service did.
      type: str
      choices: [create, update, delete, disable, stagedDelete, other]
      sample: create
    status:
      description: The outcome.
      type: str
      choices: [success, failure, skipped, warning]
      sample: failure
    error_code:
      description: Graph's error code, or null.
      type: str
      sample: SystemForCrossDomainIdentityManagementBadRequest
    reason:
      description: Why it failed or was skipped, as Graph words it, or null.
      type: str
      sample: The SCIM endpoint is not fully compatible with the Microsoft Entra provisioning service.
    recommended_action:
      description: What Graph recommends doing, or null.
      type: str
    error_category:
      description: Graph's error category (for example V(nonServiceFailure)), or null.
      type: str
    duration_ms:
      description: How long the action took, in milliseconds.
      type: int
    service_principal:
      description: The service principal of the job (C(id), C(display_name)).
      type: dict
    source_system:
      description: The display name of the source system.
      type: str
      sample: Azure Active Directory
    target_system:
      description: The display name of the target system.
      type: str
    source_identity:
      description: The object in the source system.
      type: dict
      contains:
        id:
          description: Its ID (for Entra ID as the source, the object ID).
          type: str
        display_name:
          description: Its display name.
          type: str
        type:
          description: Its type, for example V(User) or V(Group).
          type: str
        details:
          description: More about it, as Graph gives it.
          type: dict
    target_identity:
      description: The object in the target system; the same keys as RV(entries[].source_identity). Its ID is null
        when the object could not be created.
      type: dict
    initiated_by:
      description: Who initiated the action, for example V(Azure AD Provisioning Service).
      type: str
    steps:
      description: The provisioning steps (import, scoping, matching, processing, referenceResolution, export).
      type: list
      elements: dict
      contains:
        name:
          description: The step's name, for example V(EntryExportAdd).
          type: str
        type:
          description: The step's type.
          type: str
        status:
          description: The step's outcome.
          type: str
        description:
          description: What happened, in words.
          type: str
        details:
          description: More about it, as Graph gives it.
          type: dict
        timestamp:
          description: When, if Graph says.
          type: str
    modified_properties:
      description: The properties the action set, each with C(display_name), C(old_value) and C(new_value).
      type: list
      elements: dict
summary:
  description: Counts over RV(entries).
  type: dict
  returned: always
  contains:
    entries:
      description: How many entries were read.
      type: int
      sample: 120
    by_status:
      description: Entries by status (every status present).
      type: dict
      sample: {success: 100, failure: 12, skipped: 8, warning: 0}
    by_action:
      description: Entries by action (every action present).
      type: dict
      sample: {create: 40, update: 70, delete: 0, disable: 2, stagedDelete: 0, other: 8}
    by_error_code:
      description: Entries by error code.
      type: dict
      sample: {SystemForCrossDomainIdentityManagementBadRequest: 10, EntryConflict: 2}
    failed_objects:
      description: How many distinct objects have at least one failure.
      type: int
      sample: 7
    most_failed:
      description: The (at most 10) objects with the most failures, most first, then the latest failure first.
      type: list
      elements: dict
      contains:
        object_id:
          description: The source identity's ID.
          type: str
        display_name:
          description: The source identity's display name.
          type: str
        type:
          description: The source identity's type.
          type: str
        failures:
          description: How many entries of the object failed.
          type: int
        last_error:
          description: The object's latest failure (C(time), C(cycle_id), C(action), C(code), C(reason), C(recommended_action)).
          type: dict
truncated:
  description: Whether more entries matched than O(max_entries) allowed to read.
  type: bool
  returned: always
  sample: false
filters:
  description:
    - The OData C($filter) expressions sent to Graph (one request series each), or C([null]) when nothing filters.
  type: list
  elements: str
  returned: always
  sample: ["servicePrincipal/id eq '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f' and provisioningStatusInfo/status eq 'failure'"]
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._provisioning_logs import MODULE_SPEC, run_provisioning_log_info


def main():
    run_as_module(MODULE_SPEC, run_provisioning_log_info)


if __name__ == '__main__':
    main()
