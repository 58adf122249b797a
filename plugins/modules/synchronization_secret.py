#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: synchronization_secret
short_description: Set or remove the provisioning credentials of an Entra service principal
version_added: 1.0.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Manages the provisioning credentials of a service principal (enterprise application), the keys the Entra
    portal shows under B(Provisioning > Admin credentials) and B(Settings), for example C(BaseAddress) (the tenant URL
    of a SCIM application) and C(SecretToken) (its bearer token). They belong to the service principal, not to a job,
    and are kept when a job is deleted.
  - Manages only the keys the task names. Graph replaces the whole set on every write, so the module reads the
    current set and sends it back with the task's changes; keys the task does not name are kept.
  - Graph reads sensitive values back masked (C(*)). Such a value cannot be compared, so O(update_secrets) decides
    whether it is written again, and it cannot be sent back either (see the notes).
  - Values are never logged, returned or shown in a diff; only key names are.
  - Check mode reads but never writes, and returns the keys that would be added, updated or removed.
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes
attributes:
  idempotent:
    description:
      - A second identical run sends no write and reports no change, except with O(update_secrets=always) for a
        key Graph masks, which is written on every run because its value cannot be compared.
    support: partial
options:
  service_principal_id:
    description:
      - The object id of the service principal (enterprise application). Not the application (client) id.
      - In check mode, V(null) stands for a service principal an earlier task would create (check mode of
        M(entra.provisioning.application_from_template) returns its id as V(null)). The options are checked and the
        change is planned for a service principal without secrets, without any request. A real run needs the id.
    type: str
    required: true
  secrets:
    description:
      - The keys to set (with O(state=present)) or remove (with O(state=absent)), key to value. With O(state=absent)
        the values are ignored.
      - Keys are the members of Graph's C(synchronizationSecret), for example C(BaseAddress), C(SecretToken),
        C(UserName), C(Password), C(ClientSecret), C(SyncAll), C(SkipOutOfScopeDeletions), C(CompanyId),
        C(AuthenticationType), C(SyncNotificationSettings). Case does not matter; an unknown key fails before
        anything is sent and names the closest known one.
      - Values are sent as strings; booleans as V(true) or V(false), and a dictionary (for the keys that hold a JSON
        document, C(SyncNotificationSettings) and C(AppKey)) as compact JSON. A list, or a dictionary for another key,
        fails before anything is sent, naming the key (never the value).
      - Every value given here is treated as secret and masked in all output, including values that are not secret,
        such as V(false) for C(SyncAll).
    type: dict
  state:
    description:
      - V(present) sets the keys of O(secrets) and the typed options (O(notification_email), O(deletion_threshold),
        O(skip_out_of_scope_deletions)).
      - V(absent) removes the keys of O(secrets) that are set.
    type: str
    choices: [present, absent]
    default: present
  update_secrets:
    description:
      - What to do with a key of O(secrets) that is set and that Graph returns masked (C(*)), so that its value
        cannot be compared.
      - V(always) writes it on every run, and the task reports a change every time.
      - V(on_create) writes it only when it is not set yet, as O(ansible.builtin.user#module:update_password=on_create)
        does. Note that any write sends the whole set, so when another key changes, masked keys named in O(secrets)
        are sent with the values given (the only ones known) and listed in RV(updated_keys).
      - Keys that Graph returns in clear are always compared with the value given and written only when they differ.
    type: str
    choices: [always, on_create]
    default: always
  notification_email:
    description:
      - The address that receives an e-mail when the job goes into quarantine (the portal's B(Send an email
        notification when a failure occurs)). It turns the notifications on.
      - An empty string turns the notifications off.
      - Stored by Graph in the C(SyncNotificationSettings) key; its other fields are kept.
    type: str
  deletion_threshold:
    description:
      - The accidental-deletion threshold (the portal's B(Prevent accidental deletion)) - a cycle that would delete
        this many accounts or more is held back and the job goes into quarantine with the reason V(TooManyDeletes).
        Release the held deletes with M(entra.provisioning.synchronization_job) and
        O(entra.provisioning.synchronization_job#module:restart_scope=ForceDeletes).
      - V(0) turns the prevention off. Graph's default is on, with 500.
      - Stored by Graph in the C(SyncNotificationSettings) key; its other fields are kept.
    type: int
  skip_out_of_scope_deletions:
    description:
      - Whether accounts that go out of scope (unassigned, or no longer matching a scoping filter) are kept in the
        target application instead of being disabled or deleted. Set it to V(true) before changing scoping filters
        with M(entra.provisioning.synchronization_schema), which triggers a full synchronization.
      - Stored by Graph in the C(SkipOutOfScopeDeletions) key, as V(True) or V(False). Cannot be combined with that
        key in O(secrets).
    type: bool
    version_added: 0.2.0
notes:
  - B(Masked keys.) Graph returns sensitive values, such as C(SecretToken) and C(Password), as C(*). Because every
    write replaces the whole set, a change to any key must send the masked keys too, whose values only the task can
    know. When a task would drop such a key, it fails before writing and names the key; name it in O(secrets) with its
    value. To remove a key while a masked key stays, remove both with O(state=absent), then set the masked key again.
  - After writing, the module reads the keys back (for up to 60 seconds) and fails if they are not the expected
    ones, instead of reporting a write Graph did not keep.
  - A service principal created moments ago can answer "not found" for a while; the module retries for up to 60
    seconds before it fails.
  - Credentials are not tested here. Use O(entra.provisioning.synchronization_job#module:validate_credentials=true)
    when starting the job.
  - 'Permissions: C(Synchronization.ReadWrite.All), or C(Application.ReadWrite.OwnedBy) when the caller owns the
    service principal.'
seealso:
  - module: entra.provisioning.synchronization_job
    description: Create and start the job that uses these credentials.
  - name: Add synchronization secrets (Microsoft Graph)
    description: The PUT call this module makes, and the keys Graph documents.
    link: https://learn.microsoft.com/graph/api/synchronization-serviceprincipal-put-synchronization
  - name: synchronizationSecretKeyStringValuePair (Microsoft Graph)
    description: All the secret keys Graph accepts.
    link: https://learn.microsoft.com/graph/api/resources/synchronization-secretkeystringvaluepair
'''

EXAMPLES = r'''
- name: Save the tenant URL and token of a SCIM application, written only when not set yet
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    secrets:
      BaseAddress: https://scim.contoso.com/v2
      SecretToken: "{{ vault_scim_token }}"
    update_secrets: on_create

- name: Rotate the token (written on every run)
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    secrets:
      SecretToken: "{{ vault_scim_token }}"

- name: Send quarantine e-mails to the identity team and hold back cycles that would delete 50 accounts or more
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    notification_email: identity-team@contoso.com
    deletion_threshold: 50

- name: Provision only assigned users and groups, and keep out-of-scope accounts enabled in the application
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    secrets:
      SyncAll: false
    skip_out_of_scope_deletions: true

- name: Cross-tenant synchronization to a target tenant
  entra.provisioning.synchronization_secret:
    service_principal_id: 0c2b6d8e-2f43-4a5e-9d0c-8a4b3c2d1e0f
    secrets:
      CompanyId: 22222222-2222-2222-2222-222222222222
      AuthenticationType: SyncPolicy

- name: Preview which keys would change (reads only; values are never shown)
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    secrets:
      BaseAddress: https://scim2.contoso.com/v2
      SecretToken: "{{ vault_scim_token }}"
  check_mode: true
  diff: true

- name: Remove a key
  entra.provisioning.synchronization_secret:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    secrets:
      SkipOutOfScopeDeletions: ""
    state: absent
'''

RETURN = r'''
added_keys:
  description: The keys that were set, or would be in check mode, and were not set before.
  returned: always
  type: list
  elements: str
  sample: [BaseAddress, SecretToken]
updated_keys:
  description:
    - The keys that were written again, or would be in check mode, with a value that differs or cannot be compared.
  returned: always
  type: list
  elements: str
  sample: [SecretToken]
removed_keys:
  description: The keys that were removed, or would be in check mode.
  returned: always
  type: list
  elements: str
  sample: []
secret_keys:
  description:
    - The names of all the keys set after the task, or predicted in check mode; values are never returned.
    - After a write, as read back from Graph.
  returned: always
  type: list
  elements: str
  sample: [BaseAddress, SecretToken, SyncAll, SyncNotificationSettings]
masked_keys:
  description: The masked keys the task would have dropped, when it failed for that reason.
  returned: when the task fails because a masked key is not named
  type: list
  elements: str
  sample: [SecretToken]
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._sync_secret import MODULE_SPEC, run_synchronization_secret


def main():
    run_as_module(MODULE_SPEC, run_synchronization_secret)


if __name__ == '__main__':
    main()
