#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: synchronization_job_info
short_description: Report Entra provisioning jobs and their health, from one service principal to a whole tenant
version_added: 1.0.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Returns the provisioning (synchronization) jobs of one service principal, of the service principal of one
    application, or of every service principal in the tenant, each with a health verdict (RV(jobs[].health)) and a
    one-sentence reason, plus a RV(summary) with counts by health and by template.
  - The question it answers in one task is "which provisioning jobs are quarantined, failing or stale, across the
    tenant?", which otherwise takes a loop of C(Get-MgServicePrincipalSynchronizationJob) over every service
    principal, one request at a time.
  - A tenant scan lists service principals (only their id, appId and display name, 999 per page) and reads their
    jobs through Microsoft Graph JSON batching, 20 service principals per C($batch) request, with
    O(batch_concurrency) batches in flight. Throttling slows the scan down but loses nothing.
  - Each job has the same shape as the C(job) that M(entra.provisioning.synchronization_job) returns, plus its
    RV(jobs[].service_principal), RV(jobs[].health) and RV(jobs[].health_reason).
  - This module only reads. It never changes anything and always reports C(changed=false).
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes.info_module
options:
  service_principal_id:
    description:
      - Report the jobs of this service principal (enterprise application), given by its object ID, the ID in
        C(/servicePrincipals/{id}) URLs. Not the application (client) ID.
      - A service principal that does not exist fails the task.
      - Mutually exclusive with O(application_id) and O(service_principal_filter). Without any of the three, the
        whole tenant is scanned.
    type: str
  application_id:
    description:
      - Report the jobs of the service principal of this application (app registration), given by the application's
        object ID, as the C(-ApplicationId) of the Graph PowerShell cmdlets. Not the application (client) ID.
      - The application is read first, then its service principal. An application without a service principal has
        no jobs, and RV(jobs) is empty.
      - Mutually exclusive with O(service_principal_id) and O(service_principal_filter).
    type: str
  service_principal_filter:
    description:
      - Narrow a tenant scan to the service principals that match this OData C($filter), passed as is to
        C(GET /servicePrincipals), for example V(startswith(displayName, 'AWS')) or
        V(tags/any(t:t eq 'WindowsAzureActiveDirectoryIntegratedApp')) (the applications added from the Entra
        gallery or as non-gallery applications).
      - "Filters that need Graph's advanced query capabilities (the C(ConsistencyLevel: eventual) header), such as
        C(endswith), are not supported."
      - A filter Graph refuses fails the task with Graph's reason.
    type: str
  job_id:
    description:
      - Only report the job with this ID, for example V(scim.e4bbf44533ea4eabb17027f3a92e92aa). Job IDs are not
        GUIDs and contain a dot. Case does not matter.
      - With neither O(service_principal_id) nor O(application_id), the whole tenant is scanned for it.
    type: str
  template_id:
    description:
      - Only report the jobs created from this synchronization template, for example V(scim), V(AWSSingleAccount),
        V(Azure2Azure) or V(AD2AADProvisioning). Case does not matter.
    type: str
  include_templates:
    description:
      - Also return the synchronization templates of each service principal in RV(service_principals), as
        C(GET .../synchronization/templates) lists them but without their schema.
      - Costs one request more per 20 service principals that have a matching job (and for the addressed service
        principal, which is reported even without jobs).
    type: bool
    default: false
  include_schema:
    description:
      - Also return the synchronization schema (directories, object and attribute mappings, scoping filters) of each
        job, in RV(jobs[].schema). A schema can be large (hundreds of kilobytes for a gallery application).
      - Costs one request more per 20 jobs.
    type: bool
    default: false
  batch_concurrency:
    description:
      - How many C($batch) requests (of 20 service principals each) a tenant scan keeps in flight at once.
      - The default reads about 80 service principals per round trip, which keeps a large tenant within Graph's
        throttling limits for identity calls. More goes faster until Graph throttles; throttled requests are retried
        after the C(Retry-After) Graph gives, so nothing is lost either way.
      - Between 1 and 20.
    type: int
    default: 4
  stale_after_hours:
    description:
      - A running job whose last cycle ended more than this many hours ago is reported as V(stale).
      - Provisioning cycles run about every 40 minutes, so the default leaves a wide margin.
      - V(0) turns the V(stale) verdict off.
    type: float
    default: 24
notes:
  - B(Health.) Each job gets the verdict of the first rule that matches, in the order listed under
    RV(jobs[].health). The rules read only the job's C(status) and C(schedule), so a report can be re-checked
    against the job data it returns.
  - 'B(Partial results.) A service principal deleted while the scan runs (HTTP 404 inside a batch) is skipped with a
    warning and counted in RV(summary.service_principals_skipped). A service principal whose jobs cannot be read is
    reported with RV(jobs[].health=unreadable) and a warning, and the scan goes on. When not a single service
    principal can be read, the task fails with the permission it needs.'
  - 'B(Cost.) A tenant scan of N service principals sends about N / 999 listing requests and N / 20 batch requests.
    The service principal is read once for O(service_principal_id), the application and its service principal for
    O(application_id). RV(summary.graph_requests) tells what a run cost.'
  - 'B(Permissions.) Read-only application permissions are enough: C(Application.Read.All) to list service
    principals and applications, and C(Synchronization.Read.All) to read jobs, templates and schemas. With
    C(Application.ReadWrite.OwnedBy) only the service principals the caller owns can be read; the others are
    reported as V(unreadable).'
seealso:
  - module: entra.provisioning.synchronization_job
    description: Create, start, pause, restart and delete a job.
  - module: entra.provisioning.synchronization_secret
    description: Save the credentials a job needs.
  - name: synchronizationStatus resource type (Microsoft Graph)
    description: The status codes and counters behind the health verdicts.
    link: https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationstatus
  - name: Application provisioning in quarantine status
    description: Why Entra quarantines a job, and how to get it out.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status
  - name: Combine multiple requests in one HTTP call using JSON batching
    description: How the tenant scan reads 20 service principals per request.
    link: https://learn.microsoft.com/graph/json-batching
'''

EXAMPLES = r'''
- name: Report every provisioning job of the tenant
  entra.provisioning.synchronization_job_info:
  register: provisioning

- name: Show the jobs that need attention
  ansible.builtin.debug:
    msg: "{{ item.service_principal.display_name }} ({{ item.template_id }}): {{ item.health }}. {{ item.health_reason }}"
  loop: "{{ provisioning.jobs | rejectattr('health', 'in', ['healthy', 'not_run']) }}"
  loop_control:
    label: "{{ item.service_principal.display_name }}"

- name: Fail the run (and alert through AWX) when any job is quarantined or failing
  ansible.builtin.assert:
    that:
      - provisioning.summary.by_health.quarantined == 0
      - provisioning.summary.by_health.failing == 0
    fail_msg: "{{ provisioning.summary.by_health }}"

- name: The jobs of one enterprise application, with its synchronization templates
  entra.provisioning.synchronization_job_info:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    include_templates: true
  register: app_jobs

- name: Every AWS SSO job of the gallery applications whose name starts with AWS
  entra.provisioning.synchronization_job_info:
    service_principal_filter: "startswith(displayName, 'AWS')"
    template_id: aws

- name: One job and its attribute mappings, found through its app registration
  entra.provisioning.synchronization_job_info:
    application_id: 0c6b6d3a-8a1f-4c55-9d0f-2a3b4c5d6e7f
    job_id: scim.e4bbf44533ea4eabb17027f3a92e92aa
    include_schema: true

- name: A scan with the connection options set once, and a tighter staleness threshold
  module_defaults:
    group/entra.provisioning.graph:
      tenant_id: 00000000-0000-0000-0000-000000000000
      client_id: 11111111-1111-1111-1111-111111111111
      client_secret: "{{ vault_entra_client_secret }}"
  block:
    - name: Scan
      entra.provisioning.synchronization_job_info:
        stale_after_hours: 6
      register: provisioning

    - name: Write a CSV report
      ansible.builtin.copy:
        dest: /tmp/provisioning-health.csv
        mode: "0644"
        content: |
          service_principal,job_id,health,reason
          {% for job in provisioning.jobs %}
          "{{ job.service_principal.display_name }}",{{ job.id }},{{ job.health }},"{{ job.health_reason }}"
          {% endfor %}
'''

RETURN = r'''
jobs:
  description:
    - One entry per job, sorted by service principal display name, then job ID.
    - The job data has the shape of the C(job) that M(entra.provisioning.synchronization_job) returns. Every property
      of the Graph resource is present; a timestamp Graph reports as "never" (C(0001-01-01T00:00:00Z)) is null.
    - A service principal whose jobs could not be read has one entry with RV(jobs[].health=unreadable), its
      RV(jobs[].error), and null job data.
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN job: generated from hacking/job_return.yml by hacking/update_return_docs.py; edit it there.
    id:
      description: The job ID, C(<template id>.<32 hex characters>), sometimes with a third part. Not a GUID.
      type: str
      returned: always
      sample: scim.e4bbf44533ea4eabb17027f3a92e92aa
    template_id:
      description: The synchronization template the job was created from.
      type: str
      returned: always
      sample: scim
    schedule:
      description: When the job runs. Read-only in Graph.
      type: dict
      returned: always
      contains:
        state:
          description: V(Active) (running), V(Disabled) (never started, or disabled by the service) or V(Paused).
          type: str
          returned: always
          sample: Active
        interval:
          description:
            - The time between cycles, an ISO 8601 duration (V(PT40M) is 40 minutes).
            - A job that was never started may show V(P10675199DT2H48M5.4775807S), the largest .NET time span, which
              means never.
          type: str
          returned: always
          sample: PT40M
        expiration:
          description: When the schedule expires; usually null.
          type: str
          returned: always
          sample: null
    status:
      description: The job's status, as Graph reports it.
      type: dict
      returned: always
      contains:
        code:
          description:
            - V(NotConfigured) (no credentials saved, never run), V(NotRun) (started, first cycle not finished), V(Active)
              (running periodically), V(Paused) or V(Quarantine).
          type: str
          returned: always
          sample: Active
        count_successive_complete_failures:
          description: How many cycles in a row failed completely.
          type: int
          returned: always
          sample: 0
        escrows_pruned:
          description: Whether escrows (objects whose provisioning failed and is retried) were pruned.
          type: bool
          returned: always
          sample: false
        quarantine:
          description: Why and since when the job is in quarantine; null unless it is.
          type: dict
          returned: always
          contains:
            current_began:
              description: When the current quarantine began.
              type: str
              returned: always
              sample: '2024-05-24T21:45:54.4981365Z'
            next_attempt:
              description: When the service tries again.
              type: str
              returned: always
              sample: '2024-05-24T21:50:54.4981365Z'
            reason:
              description:
                - V(EncounteredBaseEscrowThreshold), V(EncounteredTotalEscrowThreshold),
                  V(EncounteredEscrowProportionThreshold) (too many failures), V(EncounteredQuarantineException) (usually
                  invalid credentials), V(Unknown), V(QuarantinedOnDemand), V(TooManyDeletes) or V(IngestionInterrupted).
              type: str
              returned: always
              sample: EncounteredQuarantineException
            series_began:
              description: When the first quarantine of the series began.
              type: str
              returned: always
              sample: '2024-05-24T21:45:54.4981365Z'
            series_count:
              description: How many quarantines the series has had.
              type: int
              returned: always
              sample: 1
            error:
              description: The error that caused the quarantine.
              type: dict
              returned: always
              contains: &error
                code:
                  description: The error code.
                  type: str
                  returned: always
                  sample: SystemForCrossDomainIdentityManagementInvalidCredentials
                message:
                  description: The error message.
                  type: str
                  returned: always
                  sample: Please provide a valid tenant URL for your application.
                tenant_actionable:
                  description: Whether the tenant's administrators can fix it.
                  type: bool
                  returned: always
                  sample: true
        last_execution:
          description:
            - The most recent provisioning cycle, with every field of the Graph C(synchronizationTaskExecution) resource;
              null if the job never ran.
            - Right after a start, Graph shows a placeholder with RV(jobs[].status.last_execution.state=Failed), error code
              V(None) and null times while the status code is V(NotRun); it is not a failure.
          type: dict
          returned: always
          contains: &execution
            activity_identifier:
              description: The ID of the cycle, to look it up in the provisioning logs.
              type: str
              returned: always
              sample: c3173f7b-9e67-4759-828c-cb499967be57
            count_entitled:
              description: Objects in scope of the cycle.
              type: int
              returned: always
              sample: 120
            count_entitled_for_provisioning:
              description: Objects in scope that were eligible for provisioning.
              type: int
              returned: always
              sample: 118
            count_escrowed:
              description: Objects whose provisioning failed in the cycle and is retried later (escrowed).
              type: int
              returned: always
              sample: 2
            count_escrowed_raw:
              description: Escrowed objects, counting repeated and reference escrows.
              type: int
              returned: always
              sample: 2
            count_exported:
              description: Objects exported to the target system.
              type: int
              returned: always
              sample: 118
            count_exports:
              description: Export operations performed (one object may need several).
              type: int
              returned: always
              sample: 118
            count_imported:
              description: Objects imported from the source system.
              type: int
              returned: always
              sample: 120
            count_imported_deltas:
              description: Changes imported from the source system.
              type: int
              returned: always
              sample: 120
            count_imported_reference_deltas:
              description: Reference changes (for example managers or group members) imported.
              type: int
              returned: always
              sample: 15
            error:
              description: The error of the cycle; null if none.
              type: dict
              returned: always
              contains: *error
            state:
              description: V(Succeeded), V(Failed) or V(EntryLevelErrors) (some objects failed).
              type: str
              returned: always
              sample: Succeeded
            time_began:
              description: When the cycle began; null for "never".
              type: str
              returned: always
              sample: '2024-05-24T21:45:53.6330529Z'
            time_ended:
              description: When the cycle ended; null for "never".
              type: str
              returned: always
              sample: '2024-05-24T21:47:12.1100000Z'
        last_successful_execution:
          description: The most recent successful cycle, with the same fields as RV(jobs[].status.last_execution); null if none.
          type: dict
          returned: always
          contains: *execution
        last_successful_execution_with_exports:
          description:
            - The most recent successful cycle that exported something, with the same fields as
              RV(jobs[].status.last_execution); null if none.
          type: dict
          returned: always
          contains: *execution
        progress:
          description: Progress of the current cycle, one entry per unit of work; empty when Graph reports none.
          type: list
          elements: dict
          returned: always
          contains:
            completed_units:
              description: Units done.
              type: int
              returned: always
              sample: 50
            total_units:
              description: Units in all.
              type: int
              returned: always
              sample: 120
            units:
              description: What is counted.
              type: str
              returned: always
              sample: Users
            progress_observation_date_time:
              description: When the progress was observed.
              type: str
              returned: always
              sample: '2024-05-24T21:46:00Z'
        steady_state_first_achieved_time:
          description: When the job first reached a steady state (its initial cycle done); null for "never".
          type: str
          returned: always
          sample: '2024-05-24T22:30:00Z'
        steady_state_last_achieved_time:
          description: When the job last reached a steady state; null for "never".
          type: str
          returned: always
          sample: '2024-05-25T08:30:00Z'
        synchronized_entry_count_by_type:
          description: How many objects of each type are synchronized, keyed by the mapping as Graph names it.
          type: dict
          returned: always
          sample: {user to user: 118, group to group: 3}
        troubleshooting_url:
          description: A link to troubleshooting guidance, when Graph gives one; often null or empty.
          type: str
          returned: always
          sample: null
    synchronization_job_settings:
      description:
        - The job's settings (name to value, as strings), most inherited from the template, for example
          C(QuarantineTooManyDeletesThreshold). Names are kept as Graph spells them.
      type: dict
      returned: always
      sample: {QuarantineTooManyDeletesThreshold: '500'}
    # END job
    service_principal:
      description: The service principal (enterprise application) the job belongs to.
      type: dict
      returned: always
      contains:
        # BEGIN service_principal: generated from hacking/service_principal_return.yml by hacking/update_return_docs.py; edit it there.
        id:
          description: The service principal's object ID (not its app ID), the ID of C(/servicePrincipals/{id}/synchronization) calls.
          type: str
          returned: always
          sample: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
        app_id:
          description: The application (client) ID.
          type: str
          returned: always
          sample: 3c653ec4-4e4c-4820-8127-49e3889cad99
        display_name:
          description: The display name.
          type: str
          returned: always
          sample: Contoso HR SCIM
        # END service_principal
    health:
      description:
        - The verdict on the job. The first of these rules that matches wins.
        - V(unreadable) - the jobs of the service principal could not be read (for example HTTP 403); the entry
          carries RV(jobs[].error) and no job data.
        - V(quarantined) - RV(jobs[].status.code) is C(Quarantine). The service retries with reduced frequency; see
          RV(jobs[].status.quarantine) for the reason and the error.
        - V(not_configured) - RV(jobs[].status.code) is C(NotConfigured); no credentials saved, never run.
        - V(disabled) - RV(jobs[].schedule.state) is C(Disabled); created but never started, or disabled by the service
          after a long quarantine.
        - V(paused) - RV(jobs[].status.code) or RV(jobs[].schedule.state) is C(Paused).
        - V(not_run) - RV(jobs[].status.code) is C(NotRun); started, the first cycle has not finished. The placeholder
          C(last_execution) Graph shows then (state C(Failed), error code C(None)) is not a failure.
        - V(failing) - RV(jobs[].status.code) is C(Active) and the last cycle failed (C(last_execution.state) is
          C(Failed)) or C(count_successive_complete_failures) is above 0.
        - V(stale) - RV(jobs[].status.code) is C(Active) and the last cycle ended more than O(stale_after_hours) hours
          ago.
        - V(degraded) - RV(jobs[].status.code) is C(Active) and the last cycle ended with C(EntryLevelErrors); some
          objects were not provisioned and are retried (escrowed).
        - V(healthy) - RV(jobs[].status.code) is C(Active) and none of the above.
        - V(unknown) - any other status code.
      type: str
      returned: always
      sample: quarantined
    health_reason:
      description:
        - One sentence saying why the job has its health, with the quarantine reason and error if any.
        - A job quarantined with reason C(TooManyDeletes) (accidental-deletion prevention) has staged deletes waiting
          for approval; the reason says so and how to list them (M(entra.provisioning.provisioning_log_info) with
          C(action=stagedDelete)) and approve them (M(entra.provisioning.synchronization_job) with C(state=restarted)
          and C(restart_scope=[ForceDeletes])).
      type: str
      returned: always
      sample: >-
        Quarantined since 2024-05-24T21:45:54.4981365Z (EncounteredQuarantineException):
        SystemForCrossDomainIdentityManagementInvalidCredentials: Please provide a valid tenant URL for your
        application; next attempt 2024-05-24T21:50:54.4981365Z.
    health_advice:
      description:
        - The fix to try, one sentence per verdict (for V(quarantined), per quarantine reason, after
          U(https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status));
          C(Nothing to do.) when V(healthy). The role P(entra.provisioning.provisioning_report#role) shows it.
      type: str
      returned: always
      sample: >-
        Check the admin credentials (tenant URL and secret token) and that the target app answers; save the right ones
        with entra.provisioning.synchronization_secret, then start the job (entra.provisioning.synchronization_job
        state=started), which clears the quarantine.
    error:
      description: Why the jobs of the service principal could not be read.
      type: dict
      returned: when RV(jobs[].health) is V(unreadable)
      contains:
        # BEGIN graph_error: generated from hacking/graph_error_return.yml by hacking/update_return_docs.py; edit it there.
        status:
          description: The HTTP status Graph answered; null when no answer came (the connection failed).
          type: int
          returned: always
          sample: 403
        code:
          description: Graph's error code.
          type: str
          returned: always
          sample: Authorization_RequestDenied
        message:
          description: Graph's error message.
          type: str
          returned: always
          sample: Insufficient privileges to complete the operation.
        method:
          description: The HTTP method of the failed request.
          type: str
          returned: always
          sample: GET
        path:
          description: The path of the failed request.
          type: str
          returned: always
          sample: /servicePrincipals/5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f/synchronization/jobs
        request_id:
          description: The C(request-id) Graph sent, to quote to Microsoft support; null when Graph sent none.
          type: str
          returned: always
          sample: 7c8f2a4e-1b3d-4e5f-9a0b-1c2d3e4f5a6b
        client_request_id:
          description: The C(client-request-id) this collection sent, also to quote to Microsoft support.
          type: str
          returned: always
          sample: 0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a
        # END graph_error
    schema:
      description:
        - The job's synchronization schema, in snake_case (C(synchronization_rules), C(directories), and their
          object and attribute mappings), or null when it could not be read.
      type: dict
      returned: when O(include_schema=true)
service_principals:
  description:
    - The service principals that have at least one entry in RV(jobs), and the one the task addressed with
      O(service_principal_id) or O(application_id) even without jobs; sorted by display name.
  returned: always
  type: list
  elements: dict
  contains:
    # BEGIN service_principal: generated from hacking/service_principal_return.yml by hacking/update_return_docs.py; edit it there.
    id:
      description: The service principal's object ID (not its app ID), the ID of C(/servicePrincipals/{id}/synchronization) calls.
      type: str
      returned: always
      sample: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    app_id:
      description: The application (client) ID.
      type: str
      returned: always
      sample: 3c653ec4-4e4c-4820-8127-49e3889cad99
    display_name:
      description: The display name.
      type: str
      returned: always
      sample: Contoso HR SCIM
    # END service_principal
    synchronization_templates:
      description:
        - The service principal's synchronization templates, in snake_case and without their schema (C(id),
          C(application_id), C(default), C(description), C(discoverable), C(factory_tag), C(metadata)).
        - The template whose C(default) is true is the one to create a job from, unless you know better.
        - Null when the templates could not be read (a warning says why).
      type: list
      elements: dict
      returned: when O(include_templates=true)
      sample:
        - id: scim
          application_id: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
          default: true
          description: null
          discoverable: true
          factory_tag: CustomSCIM
          metadata: []
summary:
  description: Counts over RV(jobs), and what the scan cost.
  returned: always
  type: dict
  contains:
    service_principals_scanned:
      description: Service principals whose jobs were read (or tried).
      type: int
      returned: always
      sample: 2000
    service_principals_with_jobs:
      description: Service principals with at least one matching job.
      type: int
      returned: always
      sample: 200
    service_principals_skipped:
      description: Service principals deleted while the scan ran (HTTP 404), skipped with a warning.
      type: int
      returned: always
      sample: 0
    service_principals_unreadable:
      description: Service principals whose jobs could not be read, reported with RV(jobs[].health=unreadable).
      type: int
      returned: always
      sample: 0
    jobs:
      description: Matching jobs (entries of RV(jobs) that are not V(unreadable)).
      type: int
      returned: always
      sample: 200
    by_health:
      description: How many entries of RV(jobs) have each health; every verdict is present, with 0 when none.
      type: dict
      returned: always
      sample:
        unreadable: 0
        quarantined: 3
        not_configured: 1
        disabled: 2
        paused: 4
        not_run: 0
        failing: 1
        stale: 0
        degraded: 5
        healthy: 184
        unknown: 0
    by_template:
      description: How many jobs were created from each synchronization template.
      type: dict
      returned: always
      sample:
        scim: 150
        aws: 30
        Azure2Azure: 20
    graph_requests:
      description: How many requests the task sent to Microsoft Graph (a C($batch) request counts once; token requests are not counted).
      type: int
      returned: always
      sample: 103
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import MODULE_SPEC, run_synchronization_job_info


def main():
    run_as_module(MODULE_SPEC, run_synchronization_job_info)


if __name__ == '__main__':
    main()
