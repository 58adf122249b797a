#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: application_from_template
short_description: Create (or adopt) an Entra application and service principal from an application template
version_added: 1.0.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Ensures that exactly one application (app registration) instantiated from an application template, with a given
    display name, exists in the tenant together with its service principal (enterprise application), or that none
    does.
  - The template is a gallery application (for example C(AWS Single-Account Access)) or the non-gallery application
    V(8adf8e6e-67b2-4cf2-a259-e3dc5476c621), which is what a custom SCIM application is made from.
  - An application that already exists is adopted, never duplicated. It is found by its template and its display
    name; if several match, the module fails and lists them instead of picking one.
  - Returns the ids a provisioning job needs, including the service principal's synchronization templates and the
    default one, so that M(entra.provisioning.synchronization_job) can follow without another lookup.
  - Check mode reads the tenant and reports what would be created or deleted, without sending any write.
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes
attributes:
  idempotent:
    description:
      - When run twice in a row with the same options, the second run sends no write and reports no change.
    support: full
options:
  template_id:
    description:
      - The id (a GUID) of the application template.
      - V(8adf8e6e-67b2-4cf2-a259-e3dc5476c621) is the non-gallery application of the global service; US Government
        uses V(4602d0b4-76bb-404b-bca9-2652e1a39c6d) and the service operated by 21Vianet
        V(5a532e38-1581-4918-9658-008dc27c1d68).
      - Exactly one of O(template_id) and O(template_name) is required.
    type: str
  template_name:
    description:
      - The display name of a gallery application template, as the Entra gallery shows it (for example
        C(AWS Single-Account Access)). It is looked up with one Graph query; case does not matter.
      - An unknown name fails and lists the templates with similar names; a name that several templates share fails
        and lists their ids, so that you can give the right one as O(template_id).
    type: str
  display_name:
    description:
      - The display name of the application and its service principal.
      - Together with the template it identifies the application. Entra allows several applications with the same
        name; this module does not, and fails when it finds more than one from the same template.
      - Renaming is not supported; a different name means a different application.
    type: str
    required: true
  service_management_reference:
    description:
      - A reference to the application's service or asset in your service management database, stored on the
        application when it is created (the C(serviceManagementReference) of the instantiate call).
      - Only used when the application is created; an existing application is not changed.
    type: str
  state:
    description:
      - V(present) creates the application and its service principal unless they already exist.
      - V(absent) deletes the application, which deletes its service principal and, with it, its provisioning jobs
        and credentials. To stop provisioning first, pause and delete the job with
        M(entra.provisioning.synchronization_job); the C(entra.provisioning.application_provisioning) role does this
        in order.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description:
      - Seconds to wait for a new object to become readable, for each wait. A new service principal (and its
        synchronization templates) is often not readable for a few seconds after the application is created; the
        module polls with growing steps up to 10 seconds, as Microsoft advises.
      - The same limit applies when instantiate answers an error and the module looks for an application it may
        have created anyway.
    type: int
    default: 300
notes:
  - B(The instantiate trap.) Graph's instantiate call sometimes answers an error (HTTP 404 or 5xx, or the connection
    drops) although it created the application. The module then looks for the application, polling through
    replication delay, and adopts it; it retries instantiate once only when nothing appeared within O(wait_timeout).
    It never creates a second application with the same name.
  - A run interrupted at any point converges when run again, because the application is always found by its template
    and display name before anything is created.
  - B(Runs at the same moment.) Entra lists a new application only after a delay, so runs that look at the same
    moment (several playbooks, one play over several hosts, or a run started again at once after a run killed right
    after instantiate) each instantiate one. After instantiate, the module lists the applications until its own is
    listed, then for as long again (at least a second), keeps the oldest by C(createdDateTime) (then the smallest id),
    which every run picks alike, deletes the others it sees (its own when it is not the oldest) and warns naming them.
    A run that finds several such applications at its first lookup waits up to 20 seconds for the other runs to
    delete all but one. If a delete fails, the task fails naming the application left.
  - When a wait times out after the application was created, the task fails but still reports C(changed), RV(actions)
    and RV(application); running it again adopts the application.
  - Deleted applications stay in the tenant's deleted items for 30 days, where they can be restored; this module
    does not purge them.
  - 'Permissions: reading templates needs any valid token; reading applications and service principals needs
    C(Application.Read.All); instantiate and delete need C(Application.ReadWrite.All) (or
    C(Application.ReadWrite.OwnedBy) for applications the caller owns); listing synchronization templates needs
    C(Synchronization.Read.All).'
seealso:
  - module: entra.provisioning.synchronization_job
  - module: entra.provisioning.synchronization_secret
  - module: entra.provisioning.synchronization_job_info
  - name: applicationTemplate instantiate (Microsoft Graph)
    description: The Graph call this module makes to create the application.
    link: https://learn.microsoft.com/graph/api/applicationtemplate-instantiate
  - name: Configure provisioning using Microsoft Graph APIs
    description: Microsoft's walkthrough of the same steps, from template to running job.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-configuration-api
'''

EXAMPLES = r'''
- name: Create a non-gallery application for a SCIM endpoint
  entra.provisioning.application_from_template:
    template_id: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
    display_name: Contoso HR SCIM
  register: scim_app

- name: Create the provisioning job from the service principal's default synchronization template
  entra.provisioning.synchronization_job:
    service_principal_id: "{{ scim_app.service_principal.id }}"
    template_id: "{{ scim_app.default_synchronization_template_id }}"
    state: present

- name: Create a gallery application, found by its name in the gallery
  entra.provisioning.application_from_template:
    template_name: AWS Single-Account Access
    display_name: AWS production account
    service_management_reference: CI0012345

- name: Set the connection once for all tasks, with a client secret from a vault
  module_defaults:
    group/entra.provisioning.graph:
      tenant_id: 00000000-0000-0000-0000-000000000000
      client_id: 11111111-1111-1111-1111-111111111111
      client_secret: "{{ vault_entra_client_secret }}"
  block:
    - name: Preview what would be created (reads only)
      entra.provisioning.application_from_template:
        template_id: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
        display_name: Contoso HR SCIM
      check_mode: true
      register: preview

    - name: Show the planned writes
      ansible.builtin.debug:
        var: preview.actions

- name: Delete the application and its service principal
  entra.provisioning.application_from_template:
    template_id: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
    display_name: Contoso HR SCIM
    state: absent
'''

RETURN = r'''
actions:
  description:
    - The writes the task made, or would make in check mode, in order.
    - V(instantiate) creates the application and service principal; V(delete) deletes the application.
  returned: always
  type: list
  elements: str
  sample: [instantiate]
template_id:
  description: The id of the application template, also when it was found by O(template_name).
  returned: always
  type: str
  sample: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
application:
  description:
    - The application (app registration).
    - With O(state=absent), the application that was deleted, or would be in check mode; null when there was none.
    - In check mode, when the application would be created, RV(application.id) and RV(application.app_id) are null
      because Entra assigns them.
  returned: success
  type: dict
  contains:
    id:
      description: The application's object id, used in C(/applications/{id}) calls.
      type: str
      returned: success
      sample: 20845737-a145-446f-aa3c-77d432903957
    app_id:
      description: The application (client) id, shared by the application and its service principal.
      type: str
      returned: success
      sample: 3c653ec4-4e4c-4820-8127-49e3889cad99
    display_name:
      description: The display name.
      type: str
      returned: success
      sample: Contoso HR SCIM
    application_template_id:
      description: The application template it was instantiated from.
      type: str
      returned: success
      sample: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
service_principal:
  description:
    - The service principal (enterprise application). Its RV(service_principal.id) is the id every synchronization
      call uses.
    - With O(state=absent), the service principal deleted along with the application; null when there was none.
  returned: success
  type: dict
  contains:
    # BEGIN service_principal: generated from hacking/service_principal_return.yml by hacking/update_return_docs.py; edit it there.
    id:
      description: The service principal's object ID (not its app ID), the ID of C(/servicePrincipals/{id}/synchronization) calls.
      type: str
      returned: success
      sample: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    app_id:
      description: The application (client) ID.
      type: str
      returned: success
      sample: 3c653ec4-4e4c-4820-8127-49e3889cad99
    display_name:
      description: The display name.
      type: str
      returned: success
      sample: Contoso HR SCIM
    # END service_principal
synchronization_templates:
  description:
    - The synchronization (provisioning) templates of the service principal, which a job is created from.
    - Empty for an application whose template does not support provisioning, and in check mode when the application
      does not exist yet.
  returned: success and O(state=present)
  type: list
  elements: dict
  contains:
    id:
      description: The synchronization template id, the C(template_id) of a job in M(entra.provisioning.synchronization_job).
      type: str
      returned: success
      sample: scim
    default:
      description: Whether Microsoft recommends this template as the default.
      type: bool
      returned: success
      sample: true
    factory_tag:
      description: Which provisioning implementation the template uses.
      type: str
      returned: success
      sample: CustomSCIM
    description:
      description: The template's description, if any.
      type: str
      returned: success
      sample: null
  sample:
    - id: scim
      default: true
      factory_tag: CustomSCIM
      description: null
default_synchronization_template_id:
  description:
    - The id of the synchronization template to create a job from when none is named, that is the template marked
      as default, or the only one.
    - Null when there is none, when several exist and none is marked default, and in check mode when the
      application does not exist yet.
  returned: success and O(state=present)
  type: str
  sample: scim
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._app_template import (
    MODULE_SPEC,
    run_application_from_template,
)


def main():
    run_as_module(MODULE_SPEC, run_application_from_template)


if __name__ == '__main__':
    main()
