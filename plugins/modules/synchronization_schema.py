#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: synchronization_schema
short_description: Manage the attribute mappings and scoping filters of an Entra provisioning job, safely
version_added: 0.2.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Manages the synchronization schema of one provisioning job - its attribute mappings, object mappings and scoping
    filters, what the Entra portal shows under B(Provisioning > Mappings). It is the counterpart of
    C(Update-MgServicePrincipalSynchronizationJobSchema) and of the schema parameters of
    C(New-MgApplicationSynchronizationJob), done safely.
  - Only what the task names is managed. Graph replaces the whole schema on every write, so the module reads it,
    changes the parts the task names and sends everything else back exactly as it was read (directories, other rules,
    other object mappings, metadata). It uses C(PUT), never C(PATCH), which Graph answers with 404 on a schema.
  - The comparison is normalised (order of mappings, clauses and values, Graph's defaults, whitespace in expressions,
    case of attribute and object names). A run with nothing to change sends no write, because every schema write
    restarts the provisioning service.
  - Before any write, every named attribute is checked against the schema's directory definitions, every new or
    changed expression is parsed by Graph (C(parseExpression)), the expression O(object_mappings[].attribute_mappings[].tests)
    are evaluated by Graph, and scoping-filter operators are checked. Any failure names the object mapping and the
    attribute, and nothing is written.
  - Just before writing, the schema is read again. If another writer changed it meanwhile, the task's changes are
    applied to the current schema when that change touched other parts; when it made the managed parts what the task
    wants (another run of the same task), nothing is written and the task reports no change; otherwise the task fails
    naming the conflict. Another writer's change is never reverted silently.
  - Check mode reads, parses and evaluates (C(parseExpression) is a read-only action) but never writes, and returns
    RV(changes). Diff mode shows the managed parts that change, never the whole schema.
  - In check mode, a null or empty O(service_principal_id) stands for a service principal an earlier task would create
    (check mode of M(entra.provisioning.application_from_template) returns its id as null). The options are checked,
    nothing is read, and no change is reported, because a job that does not exist yet has no schema to compare with.
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes
  - entra.provisioning.job_address
attributes:
  idempotent:
    description:
      - A second identical run sends no write and reports no change. O(object_mappings[].attribute_mappings[].tests)
        are evaluated on every run (reads only).
    support: full
options:
  rule:
    description:
      - The synchronization rule to change, by its id or its name (for example V(USER_TO_USER)), when the schema has
        several editable rules.
      - By default, the schema's only editable rule. When there are several, the task fails and lists them.
    type: str
  object_mappings:
    description:
      - The object mappings to manage, each identified by O(object_mappings[].source_object) and
        O(object_mappings[].target_object). Object mappings the list does not name are left as they are.
      - Each object mapping must exist in the rule; the task fails and lists the rule's object mappings otherwise.
    type: list
    elements: dict
    suboptions:
      source_object:
        description:
          - The source object, as Graph names it, for example V(User) or V(Group). Case does not matter.
        type: str
        required: true
      target_object:
        description:
          - The target object, as Graph names it, for example V(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User)
            for a SCIM application. Case does not matter.
        type: str
        required: true
      enabled:
        description:
          - Whether the object mapping provisions objects. A disabled object mapping is reported in a warning.
          - Not set, left as it is.
        type: bool
      flow_types:
        description:
          - Which operations the mapping performs in the target. Not set, left as it is.
        type: list
        elements: str
        choices: [Add, Update, Delete]
      attribute_mappings:
        description:
          - The attribute mappings to manage, each identified by its O(object_mappings[].attribute_mappings[].target).
          - A mapping that exists is changed only in the options given; a new one gets Graph's defaults for the others.
          - Each item needs exactly one of O(object_mappings[].attribute_mappings[].source),
            O(object_mappings[].attribute_mappings[].expression) and O(object_mappings[].attribute_mappings[].constant)
            (or only O(object_mappings[].attribute_mappings[].default_value), for a target that always gets its
            default, as Graph shows such mappings), except with O(object_mappings[].attribute_mappings[].state=absent).
        type: list
        elements: dict
        suboptions:
          target:
            description:
              - The target attribute, as the schema's target directory names it, for example
                V(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber). It must exist on the
                target object. Case does not matter.
            type: str
            required: true
          source:
            description:
              - A source attribute, for example V(employeeId). It must exist on the source object. Case does not matter.
            type: str
          expression:
            description:
              - An attribute-mapping expression, for example V(Join(" ", [givenName], [surname])). Graph parses it before
                anything is written; a syntax error fails the task with Graph's message.
              - An expression that is only an attribute reference (V([mail])) or a string (V("x")) is stored by Graph as
                a source or a constant, and compared as such.
            type: str
          constant:
            description:
              - A constant value.
            type: str
          flow_type:
            description:
              - When the attribute flows. Graph's default for a new mapping is V(Always).
            type: str
            choices: [Always, ObjectAddOnly, MultiValueAddOnly, ValueAddOnly, AttributeAddOnly]
          flow_behavior:
            description:
              - Graph's default for a new mapping is V(FlowWhenChanged).
            type: str
            choices: [FlowWhenChanged, FlowAlways]
          matching_priority:
            description:
              - V(1) or more makes this a matching attribute, used to find the object in the target (lowest first).
                V(0) (the default of a new mapping) is not a matching attribute.
              - An enabled object mapping must keep at least one matching attribute.
            type: int
          default_value:
            description:
              - The value the target gets when the source is empty.
            type: str
          export_missing_references:
            description:
              - Whether a reference to an object not provisioned yet is exported. Graph's default is V(false).
            type: bool
          state:
            description:
              - V(absent) removes the mapping of this target; then no other option of the item may be set.
            type: str
            choices: [present, absent]
            default: present
          tests:
            description:
              - Tests of the mapping, each evaluated by Graph's C(parseExpression) with the input as its
                C(testInputObject). When the result differs from the expected value, the task fails before any write
                and names the mapping, the input, the expected and the actual value.
              - Evaluated on every run, also in check mode (one read-only request per test).
            type: list
            elements: dict
            suboptions:
              input:
                description:
                  - The source object's attributes, name to value. A list is a multi-valued attribute.
                type: dict
                required: true
              expect:
                description:
                  - The expected value (a string), or a list of values for a multi-valued result. Booleans compare as
                    V(True) and V(False).
                type: raw
                required: true
      scoping_filter:
        description:
          - The scoping filter of the object mapping - a list of groups; an object is in scope when any group matches
            (OR), and a group matches when all its clauses match (AND).
          - Each group is a list of clauses; each clause a dictionary with C(attribute) (a source attribute),
            C(operator) and C(values) (a list; none for the unary operators). The operators are those Graph's
            C(filterOperators) lists - C(EQUALS), C(NOT EQUALS), C(IS TRUE), C(IS FALSE), C(IS NULL), C(IS NOT NULL),
            C(REGEX MATCH), C(NOT REGEX MATCH) - and those the scoping-filter guide adds - C(Greater_Than),
            C(Greater_Than_OR_EQUALS), C(Includes). Case does not matter.
          - An empty list removes the scoping filter. Not set, the scoping filter is left as it is.
          - A change warns that a full synchronization follows and that objects now out of scope are deprovisioned,
            unless the service principal's C(SkipOutOfScopeDeletions) is set (see
            O(entra.provisioning.synchronization_secret#module:skip_out_of_scope_deletions)).
        type: list
        elements: list
      purge_attribute_mappings:
        description:
          - Remove the attribute mappings of this object mapping that O(object_mappings[].attribute_mappings) does
            not name.
        type: bool
        default: false
  backup:
    description:
      - Before a write (also a restore or a reset), save the whole current schema to a JSON file and return its path
        in RV(backup_file). Nothing is saved when nothing is written.
      - The file can be put back with O(restore_from).
    type: bool
    default: false
  backup_options:
    description:
      - Where O(backup=true) saves the schema.
    type: dict
    suboptions:
      dir_path:
        description:
          - The directory; created when missing. By default, C(backup) in the playbook's directory.
        type: path
      filename:
        description:
          - The file name. By default, C(<schema id>_schema_<UTC timestamp>.json).
        type: str
  restore_from:
    description:
      - A file written by O(backup=true) - put that schema back (a rollback). Nothing is sent when the job's schema
        already equals it.
      - Cannot be combined with O(object_mappings).
    type: path
  state:
    description:
      - V(present) applies O(object_mappings) or O(restore_from).
      - V(reset) deletes the customised schema, so that the job returns to its template's default mappings. Nothing is
        sent when the schema already equals the template's. A reset is never a side effect of anything else.
    type: str
    choices: [present, reset]
    default: present
  include_schema:
    description:
      - Return the whole schema (as read back after a write, or predicted in check mode) in RV(schema).
    type: bool
    default: false
  max_leaving:
    description:
      - How many objects a scoping-filter change may take out of scope. Before writing a changed
        O(object_mappings[].scoping_filter), the module reads the population the job provisions and evaluates the old
        and the new filter (see RV(impact)). When more objects would leave the scope than O(max_leaving), in all object
        mappings together, the task fails before any write, also in check mode, listing a sample of them.
      - The default V(0) refuses any change that takes an object out of scope; raise it for an intended change.
    type: int
    default: 0
notes:
  - Every schema write restarts the provisioning service, and the next cycle is an initial cycle. A change of a scoping
    filter is followed by a full synchronization, which deprovisions the objects now out of scope unless
    C(SkipOutOfScopeDeletions) is set. The module warns about both.
  - 'Scoping impact preview: the population is what the job provisions - with C(Sync only assigned users and groups)
    (the default), the users and groups assigned to the application and the direct members of assigned groups (nested
    groups are not expanded, as the provisioning service does not expand them); with C(Sync all users and groups) (the
    C(SyncAll) secret V(true)), every user and group of the tenant. Only the C(User) and C(Group) objects of Microsoft
    Entra ID are previewed. The preview needs C(Application.Read.All) (assignments), C(User.Read.All) and
    C(GroupMember.Read.All) (or C(Directory.Read.All)). Nothing is read when the task changes no scoping filter.'
  - Expressions are checked by Graph, not by the module; the module only compares them without meaningless whitespace.
  - 'Permissions: C(Synchronization.ReadWrite.All), or C(Application.ReadWrite.OwnedBy) when the caller owns the
    service principal; C(parseExpression) needs them too.'
seealso:
  - module: entra.provisioning.synchronization_job
    description: Create the job whose schema this module changes.
  - module: entra.provisioning.synchronization_secret
    description: Set C(SkipOutOfScopeDeletions) before changing scoping filters.
  - name: Update synchronizationSchema (Microsoft Graph)
    description: The PUT this module sends.
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationschema-update
  - name: Reference for writing expressions for attribute mappings
    description: The functions an expression can use.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data
  - name: Scoping filters
    description: Attribute-based application provisioning with scoping filters.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/define-conditional-rules-for-provisioning-user-accounts
'''

EXAMPLES = r'''
- name: Send the employee id to the SCIM enterprise extension, checked by Graph before it is written
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    backup: true
    object_mappings:
      - source_object: User
        target_object: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
        attribute_mappings:
          - target: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
            expression: ToUpper(Coalesce([employeeId], [mailNickname]))
            tests:
              - input: {employeeId: e-1042, mailNickname: jdoe}
                expect: E-1042
              - input: {mailNickname: jdoe}
                expect: JDOE
        # Provision only Sales and Support; a full sync follows this change.
        scoping_filter:
          - - attribute: department
              operator: EQUALS
              values: [Sales]
          - - attribute: department
              operator: EQUALS
              values: [Support]

- name: Narrow the scope to Sales, allowing up to 50 users to leave it (the task fails before writing otherwise)
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    max_leaving: 50
    object_mappings:
      - source_object: User
        target_object: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
        scoping_filter:
          - - attribute: department
              operator: EQUALS
              values: [Sales]
  register: narrowed
  # narrowed.impact[0].leaving, .leaving_sample: who is deprovisioned by the full synchronization that follows

- name: Preview the changes (parses and tests, writes nothing)
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    object_mappings:
      - source_object: User
        target_object: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
        attribute_mappings:
          - target: title
            state: absent
  check_mode: true
  diff: true
  register: preview

- name: Keep exactly these mappings for groups (removes the others)
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    object_mappings:
      - source_object: Group
        target_object: urn:ietf:params:scim:schemas:core:2.0:Group
        purge_attribute_mappings: true
        attribute_mappings:
          - target: displayName
            source: displayName
            matching_priority: 1
          - target: externalId
            source: objectId
          - target: members
            source: members

- name: Roll back to a saved schema
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    restore_from: backup/scim.f3b3c6c2ac86462eb68ecfbed01ead3d_schema_20260101T120000.000000Z.json

- name: Return to the template's default mappings
  entra.provisioning.synchronization_schema:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: reset
    backup: true
'''

RETURN = r'''
changes:
  description:
    - What changed, or would change in check mode, one entry per attribute mapping, scoping filter or object field.
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN object_mapping: generated from hacking/object_mapping_return.yml by hacking/update_return_docs.py; edit it there.
    object_mapping:
      description: The object mapping, as C(<source object> -> <target object>).
      type: str
      sample: User -> urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
    # END object_mapping
    kind:
      description: V(attribute), V(scoping) or V(object) (a field of the object mapping).
      type: str
      sample: attribute
    target:
      description: The target attribute (V(attribute)), the field (V(object), C(enabled) or C(flow_types)), or null (V(scoping)).
      type: str
      sample: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
    action:
      description: V(added), V(changed) or V(removed).
      type: str
      sample: added
    before:
      description: The value before, in the option format; null when added.
      type: raw
    after:
      description: The value after, in the option format; null when removed.
      type: raw
  sample:
    - object_mapping: User -> urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
      kind: attribute
      target: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber
      action: added
      before: null
      after: {target: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', source: employeeId,
              flow_type: Always, flow_behavior: FlowWhenChanged, matching_priority: 0, default_value: null,
              export_missing_references: false}
object_mappings:
  description:
    - The object mappings the task names, as read back after a write (predicted in check mode), in the format of
      O(object_mappings), so that they can be pasted into a task. Empty with O(restore_from) and O(state=reset).
  returned: always
  type: list
  elements: dict
  sample:
    - source_object: User
      target_object: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
      enabled: true
      flow_types: [Add, Update, Delete]
      attribute_mappings:
        - {target: userName, source: userPrincipalName, flow_type: Always, flow_behavior: FlowWhenChanged,
           matching_priority: 1, default_value: null, export_missing_references: false}
      scoping_filter: []
backup_file:
  description: The file O(backup=true) wrote; null when nothing was written.
  returned: always
  type: str
  sample: /home/ops/playbooks/backup/scim.f3b3c6c2ac86462eb68ecfbed01ead3d_schema_20260101T120000.000000Z.json
schema:
  description: The whole schema, with snake_case keys.
  returned: when O(include_schema=true)
  type: dict
impact:
  description:
    - The scoping impact preview, one entry per object mapping whose scoping filter the task changes (or would change,
      in check mode); empty when no scoping filter changes. Computed before the write, from the population read and
      both filters evaluated locally with the rules of the scoping-filter guide. Also returned when O(max_leaving)
      refuses the change.
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN object_mapping: generated from hacking/object_mapping_return.yml by hacking/update_return_docs.py; edit it there.
    object_mapping:
      description: The object mapping, as C(<source object> -> <target object>).
      type: str
      sample: User -> urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
    # END object_mapping
    source_object:
      description: The source object, V(User) or V(Group).
      type: str
    population:
      description: V(assigned) (users and groups assigned to the application, and members of assigned groups) or V(all)
        (the C(SyncAll) secret is V(true)).
      type: str
    skip_out_of_scope_deletions:
      description: Whether the C(SkipOutOfScopeDeletions) secret is V(true), in which case objects leaving the scope are
        not deprovisioned in the target.
      type: bool
    entitled:
      description: How many objects of the population were evaluated; null when the source object is not previewed.
      type: int
    in_scope_before:
      description: How many of them the current filter keeps in scope.
      type: int
    in_scope_after:
      description: How many of them the new filter keeps in scope.
      type: int
    entering:
      description: How many objects the change brings into scope (provisioned by the full synchronization that follows).
      type: int
    leaving:
      description: How many objects the change takes out of scope (deprovisioned, unless C(SkipOutOfScopeDeletions)).
      type: int
    entering_sample:
      description: Up to ten of the objects entering, by user principal name (users) or display name (groups), sorted.
      type: list
      elements: str
    leaving_sample:
      description: Up to ten of the objects leaving.
      type: list
      elements: str
  sample:
    - object_mapping: User -> urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
      source_object: User
      population: assigned
      skip_out_of_scope_deletions: false
      entitled: 120
      in_scope_before: 120
      in_scope_after: 37
      entering: 0
      leaving: 83
      entering_sample: []
      leaving_sample: [adele@contoso.com, alex@contoso.com]
test:
  description: The expression test that failed, with C(object_mapping), C(target), C(input), C(expected) and C(actual).
  returned: when a test fails
  type: dict
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._sync_schema import MODULE_SPEC, run_synchronization_schema


def main():
    run_as_module(MODULE_SPEC, run_synchronization_schema)


if __name__ == '__main__':
    main()
