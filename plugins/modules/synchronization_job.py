#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: synchronization_job
short_description: Create, start, pause, restart or delete an Entra provisioning (synchronization) job
version_added: 1.0.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Manages one synchronization job of a service principal (enterprise application), the job that provisions users
    and groups to or from the application. It is the Ansible counterpart of C(New-MgServicePrincipalSynchronizationJob)
    and the C(Start-), C(Suspend-), C(Restart-) and C(Remove-MgServicePrincipalSynchronizationJob) cmdlets.
  - The job is found by its parent and O(template_id) (or directly by O(job_id)); an existing job is adopted, never
    duplicated. If several jobs of the template exist, the module fails and lists their ids instead of picking one.
  - A new job is created disabled, as Graph always creates it; O(state=started) then starts it.
  - O(state=started) sends start only to a job that is not running (never started, paused or in quarantine).
    Microsoft warns that calling start on a running job can stop the service. Starting a quarantined job clears
    the quarantine.
  - Check mode reads but never writes, and returns what a real run would do, like PowerShell's C(-WhatIf); it returns
    C(changed), the planned RV(actions) and the predicted RV(job).
  - A run that changes nothing sends one Graph request (the list of the parent's jobs, or the job itself with
    O(job_id)) and no write.
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.action_group
  - entra.provisioning.attributes
attributes:
  idempotent:
    description:
      - When run twice in a row with the same options, the second run sends no write and reports no change,
        except with O(state=restarted), which restarts the job every time, like C(state=restarted) of
        M(ansible.builtin.service).
    support: partial
options:
  service_principal_id:
    description:
      - The object id of the service principal (enterprise application) that owns the job, as the cmdlets'
        C(-ServicePrincipalId). Not the application (client) id.
      - Exactly one of O(service_principal_id) and O(application_id) is required.
      - In check mode, V(null) (or an empty string) stands for a service principal an earlier task would create (check mode of
        M(entra.provisioning.application_from_template) returns its id as V(null)). The options are checked and the job
        is planned for a service principal without jobs, without any request; O(template_id) may then be V(null) too
        (the service principal's default template, not known before it exists). A real run needs the id.
    type: str
  application_id:
    description:
      - The object id of the application (app registration) that owns the job, as the cmdlets' C(-ApplicationId).
        Jobs are normally managed on the service principal; use this only for jobs created on the application.
      - Exactly one of O(service_principal_id) and O(application_id) is required.
    type: str
  template_id:
    description:
      - The synchronization template of the job, for example V(scim), V(Azure2Azure) or V(aws). Required to create a
        job. Case does not matter.
      - The templates an application offers are listed by M(entra.provisioning.synchronization_job_info) with
        O(entra.provisioning.synchronization_job_info#module:include_templates=true), and returned by
        M(entra.provisioning.application_from_template). An unknown template fails and lists the available ones.
      - The job is found by this template. A job's template cannot change; a job of another template is another job.
      - At least one of O(template_id) and O(job_id) is required.
    type: str
  job_id:
    description:
      - The id of an existing job, for example V(scim.e4bbf44533ea4eabb17027f3a92e92aa). Job ids are not GUIDs and
        contain dots.
      - Needed only when several jobs of one template exist. A job id that does not exist is an error, except with
        O(state=absent), because a job's id is chosen by Graph and the module cannot create a job with a given id.
        When the service principal lists its jobs and none has this id, the task fails at once, listing them (a
        missing job is waited for only while the service principal itself is not readable yet).
      - With O(template_id) too, the job must be of that template.
    type: str
  state:
    description:
      - V(present) makes sure the job exists and leaves its run state as it is. A new job is disabled.
      - V(started) makes sure the job exists and runs. Start is sent only when the job is not running.
      - V(paused) makes sure the job exists and does not run. A running (or quarantined) job is paused; a job that
        was never started is left disabled.
      - V(restarted) restarts an existing job every time it runs and always reports a change; see O(restart_scope).
        It fails if there is no job to restart.
      - V(absent) deletes the job. Accounts it provisioned are left as they are, and the credentials stay with the
        service principal (see M(entra.provisioning.synchronization_secret)).
    type: str
    choices: [present, started, paused, restarted, absent]
    default: present
  restart_scope:
    description:
      - With O(state=restarted), what the restart clears, sent to Graph as one comma-separated C(resetScope).
      - V(Escrows) clears the objects whose provisioning failed and is being retried (the retries stop).
        V(Watermark) makes the next cycle evaluate every object instead of the changes only. V(QuarantineState)
        lifts the quarantine. V(Full) does all of the above. V(ForceDeletes) lets deletes through that the
        accidental-deletion threshold held back.
      - Case does not matter. V(None) and V(ConnectorDataStore) are refused, because Microsoft's documentation says
        not to use them (use O(state=started) to resume a job; contact Microsoft support to clear the connector data
        store).
      - If not set, Graph restarts as the portal's B(Restart provisioning) does, which is like
        V([Watermark, Escrows, QuarantineState]).
    type: list
    elements: str
  settings:
    description:
      - The job's settings (C(synchronizationJobSettings)), name to value, sent when the job is created, for example
        the setting C(QuarantineTooManyDeletesThreshold) with V(500). Values are sent as strings; booleans as V(True) or
        V(False).
      - Graph documents no way to change the settings of an existing job. When an existing job's settings differ
        from these, the module warns and names each setting, and changes nothing; delete the job and create it again
        to apply them.
    type: dict
  validate_credentials:
    description:
      - Before starting or restarting the job, ask Graph to test the credentials saved for the service principal
        (C(validateCredentials) with the saved credentials).
      - If Graph refuses them, the task fails with Graph's reason and the job is not started. A job created in the
        same task stays created, disabled; the next run validates and starts it.
      - Nothing is validated when no start or restart is needed, nor in check mode, where the validation is listed in
        RV(actions).
    type: bool
    default: false
  wait:
    description:
      - Wait until the job reaches O(wait_for) (with O(state=started) or O(state=restarted)), or until it is gone
        (with O(state=absent)), polling with growing intervals up to 10 seconds.
      - A job that goes into quarantine while the module waits fails the task at once, with the quarantine reason
        and error.
      - Not used in check mode.
    type: bool
    default: false
  wait_for:
    description:
      - What O(wait=true) waits for. Defaults to V(started) when O(wait=true).
      - V(started) waits until the job's schedule is active.
      - V(first_cycle) waits until a provisioning cycle that began after this task's start or restart has ended
        (the status code leaves V(NotRun) and the last execution is real). If the job was already running and the
        task did not start it, any completed cycle counts. A cycle that ends with errors but no quarantine is reported
        as a warning.
      - V(steady_state) waits for a first cycle and for the job to report a steady state (the initial cycle is done
        and only changes are processed).
      - A first cycle can take from minutes to hours, depending on the number of objects in scope; set
        O(wait_timeout) accordingly.
    type: str
    choices: [started, first_cycle, steady_state]
  wait_timeout:
    description:
      - How many seconds O(wait=true) waits before the task fails.
    type: int
    default: 900
notes:
  - B(Replication delay.) A service principal or job created moments ago can answer "not found" (or "forbidden") for a
    while. When the job must exist, the module retries those answers for up to 60 seconds before it fails, and after
    it creates a job it waits for the job to be readable before starting it. A mistyped O(service_principal_id)
    therefore fails after that minute, with a message that names the option.
  - B(Partial failure.) If a run stops between two writes (for example the job is created but start fails), the next
    run finds the job by its template and completes the work. After a timeout or a server error on create, the module
    looks for the job before anything else and never sends a second create blindly.
  - B(Runs at the same moment.) Graph lists a new job only after a delay, so runs that look at the same moment
    (several playbooks, one play over several hosts, or a run started again at once after a run killed right after
    its create) each create a job. After it creates a job, the module lists the jobs until its own is listed, then for
    as long again (at least a second), keeps the job of the template with the smallest id (Graph documents no creation
    time for jobs; every run picks the same one), deletes the others it sees (its own when it is not that one) and
    warns naming them. A run that keeps another run's job, or finds a job that another run created moments ago and
    never started, gives that run up to about 15 seconds to start it before it starts the job itself, so that a start
    is never sent to a running job (Microsoft warns against it). The run that created the job skips that wait by
    addressing it by O(job_id) (RV(created) says it created it), as the role C(entra.provisioning.application_provisioning)
    does after changing the mappings of the job it created. A run that finds several new jobs of the template
    waits up to 20 seconds for the other runs to delete all but one. If a delete fails, the task fails naming the job
    left and how to delete it.
  - B(No in-place update.) Graph documents no update of a job; its schedule and interval are chosen by the template.
    Only the run state is managed.
  - 'Permissions: reading jobs needs C(Synchronization.Read.All); creating, starting, pausing, restarting, deleting
    and validating credentials need C(Synchronization.ReadWrite.All), or C(Application.ReadWrite.OwnedBy) when the
    caller owns the service principal. Creating a job also reads the templates.'
seealso:
  - module: entra.provisioning.synchronization_secret
    description: Save the credentials the job uses, before starting it.
  - module: entra.provisioning.synchronization_job_info
    description: Report the health of jobs, and list the templates of an application.
  - module: entra.provisioning.application_from_template
    description: Create the application and service principal the job belongs to.
  - name: synchronizationJob resource type (Microsoft Graph)
    description: The job, its status and its schedule.
    link: https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationjob
  - name: Restart synchronizationJob (Microsoft Graph)
    description: The restart call and its reset scopes.
    link: https://learn.microsoft.com/graph/api/synchronization-synchronizationjob-restart
  - name: Configure provisioning using Microsoft Graph APIs
    description: Microsoft's walkthrough from template to running job.
    link: https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-configuration-api
'''

EXAMPLES = r'''
- name: Set the connection once for every task of the collection
  module_defaults:
    group/entra.provisioning.graph:
      tenant_id: 00000000-0000-0000-0000-000000000000
      client_id: 11111111-1111-1111-1111-111111111111
      client_secret: "{{ vault_entra_client_secret }}"
  block:
    - name: Create the job of a SCIM application (disabled, as Graph creates it)
      entra.provisioning.synchronization_job:
        service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
        template_id: scim
      register: scim_job

    - name: Show the job id
      ansible.builtin.debug:
        msg: "{{ scim_job.job.id }} is {{ scim_job.job.schedule.state }}"

- name: Start the job once its credentials work, and wait for the first provisioning cycle
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: started
    validate_credentials: true
    wait: true
    wait_for: first_cycle
    wait_timeout: 3600

- name: Preview what would happen (reads only), with a diff of the job's state
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: started
  check_mode: true
  diff: true
  register: preview

- name: Show the planned writes, for example [create, start]
  ansible.builtin.debug:
    var: preview.actions

- name: Create a cross-tenant synchronization job with a lower accidental-deletion threshold
  entra.provisioning.synchronization_job:
    service_principal_id: 0c2b6d8e-2f43-4a5e-9d0c-8a4b3c2d1e0f
    template_id: Azure2Azure
    settings:
      QuarantineTooManyDeletesThreshold: 100
    state: started

- name: Pause provisioning during a maintenance window
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: paused

- name: Let deletes through that the accidental-deletion threshold held back
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: restarted
    restart_scope: [ForceDeletes]

- name: Restart from scratch after a mapping change, re-evaluating every user
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    job_id: scim.e4bbf44533ea4eabb17027f3a92e92aa
    state: restarted
    restart_scope: [Watermark, Escrows]
    wait: true
    wait_for: first_cycle

- name: Delete the job and wait until Graph no longer shows it
  entra.provisioning.synchronization_job:
    service_principal_id: 5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f
    template_id: scim
    state: absent
    wait: true
'''

RETURN = r'''
actions:
  description:
    - The calls the task made, or would make in check mode, in order.
    - V(create), V(validate_credentials), V(start), V(pause), V(restart), V(delete). V(validate_credentials) changes
      nothing by itself.
    - Empty when nothing needed doing.
  returned: always
  type: list
  elements: str
  sample: [create, start]
created:
  description:
    - Whether the job returned is the one this task created (in check mode, would create).
    - V(false) when the job existed; when another run created a job of the template at the same moment and this task
      kept that run's job instead of its own (one job remains); and when the answer to the create was lost and the job
      then found cannot be told from another run's.
    - To start a job that an earlier task created with O(state=present) (for example after changing its mappings),
      give its RV(job.id) as O(job_id) when RV(created) is V(true). Found by O(template_id) instead, a job created
      moments ago and never started is left up to about 15 seconds to the run that created it (see the notes).
  returned: always
  type: bool
  sample: true
job:
  description:
    - The job after the task, or as it is predicted to be after the task in check mode.
    - Null when the job does not exist (after O(state=absent)).
    - In check mode, a job that would be created has a null RV(job.id) and RV(job.schedule.interval), because Graph
      chooses them.
    - Every property of the Graph resource is present (null when Graph did not send it). A timestamp Graph reports
      as "never" (C(0001-01-01T00:00:00Z)) is null.
  returned: success
  type: dict
  contains:
    # BEGIN job: generated from hacking/job_return.yml by hacking/update_return_docs.py; edit it there.
    id:
      description: The job ID, C(<template id>.<32 hex characters>), sometimes with a third part. Not a GUID.
      type: str
      returned: success
      sample: scim.e4bbf44533ea4eabb17027f3a92e92aa
    template_id:
      description: The synchronization template the job was created from.
      type: str
      returned: success
      sample: scim
    schedule:
      description: When the job runs. Read-only in Graph.
      type: dict
      returned: success
      contains:
        state:
          description: V(Active) (running), V(Disabled) (never started, or disabled by the service) or V(Paused).
          type: str
          returned: success
          sample: Active
        interval:
          description:
            - The time between cycles, an ISO 8601 duration (V(PT40M) is 40 minutes).
            - A job that was never started may show V(P10675199DT2H48M5.4775807S), the largest .NET time span, which
              means never.
          type: str
          returned: success
          sample: PT40M
        expiration:
          description: When the schedule expires; usually null.
          type: str
          returned: success
          sample: null
    status:
      description: The job's status, as Graph reports it.
      type: dict
      returned: success
      contains:
        code:
          description:
            - V(NotConfigured) (no credentials saved, never run), V(NotRun) (started, first cycle not finished), V(Active)
              (running periodically), V(Paused) or V(Quarantine).
          type: str
          returned: success
          sample: Active
        count_successive_complete_failures:
          description: How many cycles in a row failed completely.
          type: int
          returned: success
          sample: 0
        escrows_pruned:
          description: Whether escrows (objects whose provisioning failed and is retried) were pruned.
          type: bool
          returned: success
          sample: false
        quarantine:
          description: Why and since when the job is in quarantine; null unless it is.
          type: dict
          returned: success
          contains:
            current_began:
              description: When the current quarantine began.
              type: str
              returned: success
              sample: '2024-05-24T21:45:54.4981365Z'
            next_attempt:
              description: When the service tries again.
              type: str
              returned: success
              sample: '2024-05-24T21:50:54.4981365Z'
            reason:
              description:
                - V(EncounteredBaseEscrowThreshold), V(EncounteredTotalEscrowThreshold),
                  V(EncounteredEscrowProportionThreshold) (too many failures), V(EncounteredQuarantineException) (usually
                  invalid credentials), V(Unknown), V(QuarantinedOnDemand), V(TooManyDeletes) or V(IngestionInterrupted).
              type: str
              returned: success
              sample: EncounteredQuarantineException
            series_began:
              description: When the first quarantine of the series began.
              type: str
              returned: success
              sample: '2024-05-24T21:45:54.4981365Z'
            series_count:
              description: How many quarantines the series has had.
              type: int
              returned: success
              sample: 1
            error:
              description: The error that caused the quarantine.
              type: dict
              returned: success
              contains: &error
                code:
                  description: The error code.
                  type: str
                  returned: success
                  sample: SystemForCrossDomainIdentityManagementInvalidCredentials
                message:
                  description: The error message.
                  type: str
                  returned: success
                  sample: Please provide a valid tenant URL for your application.
                tenant_actionable:
                  description: Whether the tenant's administrators can fix it.
                  type: bool
                  returned: success
                  sample: true
        last_execution:
          description:
            - The most recent provisioning cycle, with every field of the Graph C(synchronizationTaskExecution) resource;
              null if the job never ran.
            - Right after a start, Graph shows a placeholder with RV(job.status.last_execution.state=Failed), error code
              V(None) and null times while the status code is V(NotRun); it is not a failure.
          type: dict
          returned: success
          contains: &execution
            activity_identifier:
              description: The ID of the cycle, to look it up in the provisioning logs.
              type: str
              returned: success
              sample: c3173f7b-9e67-4759-828c-cb499967be57
            count_entitled:
              description: Objects in scope of the cycle.
              type: int
              returned: success
              sample: 120
            count_entitled_for_provisioning:
              description: Objects in scope that were eligible for provisioning.
              type: int
              returned: success
              sample: 118
            count_escrowed:
              description: Objects whose provisioning failed in the cycle and is retried later (escrowed).
              type: int
              returned: success
              sample: 2
            count_escrowed_raw:
              description: Escrowed objects, counting repeated and reference escrows.
              type: int
              returned: success
              sample: 2
            count_exported:
              description: Objects exported to the target system.
              type: int
              returned: success
              sample: 118
            count_exports:
              description: Export operations performed (one object may need several).
              type: int
              returned: success
              sample: 118
            count_imported:
              description: Objects imported from the source system.
              type: int
              returned: success
              sample: 120
            count_imported_deltas:
              description: Changes imported from the source system.
              type: int
              returned: success
              sample: 120
            count_imported_reference_deltas:
              description: Reference changes (for example managers or group members) imported.
              type: int
              returned: success
              sample: 15
            error:
              description: The error of the cycle; null if none.
              type: dict
              returned: success
              contains: *error
            state:
              description: V(Succeeded), V(Failed) or V(EntryLevelErrors) (some objects failed).
              type: str
              returned: success
              sample: Succeeded
            time_began:
              description: When the cycle began; null for "never".
              type: str
              returned: success
              sample: '2024-05-24T21:45:53.6330529Z'
            time_ended:
              description: When the cycle ended; null for "never".
              type: str
              returned: success
              sample: '2024-05-24T21:47:12.1100000Z'
        last_successful_execution:
          description: The most recent successful cycle, with the same fields as RV(job.status.last_execution); null if none.
          type: dict
          returned: success
          contains: *execution
        last_successful_execution_with_exports:
          description:
            - The most recent successful cycle that exported something, with the same fields as
              RV(job.status.last_execution); null if none.
          type: dict
          returned: success
          contains: *execution
        progress:
          description: Progress of the current cycle, one entry per unit of work; empty when Graph reports none.
          type: list
          elements: dict
          returned: success
          contains:
            completed_units:
              description: Units done.
              type: int
              returned: success
              sample: 50
            total_units:
              description: Units in all.
              type: int
              returned: success
              sample: 120
            units:
              description: What is counted.
              type: str
              returned: success
              sample: Users
            progress_observation_date_time:
              description: When the progress was observed.
              type: str
              returned: success
              sample: '2024-05-24T21:46:00Z'
        steady_state_first_achieved_time:
          description: When the job first reached a steady state (its initial cycle done); null for "never".
          type: str
          returned: success
          sample: '2024-05-24T22:30:00Z'
        steady_state_last_achieved_time:
          description: When the job last reached a steady state; null for "never".
          type: str
          returned: success
          sample: '2024-05-25T08:30:00Z'
        synchronized_entry_count_by_type:
          description: How many objects of each type are synchronized, keyed by the mapping as Graph names it.
          type: dict
          returned: success
          sample: {user to user: 118, group to group: 3}
        troubleshooting_url:
          description: A link to troubleshooting guidance, when Graph gives one; often null or empty.
          type: str
          returned: success
          sample: null
    synchronization_job_settings:
      description:
        - The job's settings (name to value, as strings), most inherited from the template, for example
          C(QuarantineTooManyDeletesThreshold). Names are kept as Graph spells them.
      type: dict
      returned: success
      sample: {QuarantineTooManyDeletesThreshold: '500'}
    # END job
job_ids:
  description: The ids of the jobs of O(template_id) when there are several and the task does not say which one.
  returned: when several jobs match
  type: list
  elements: str
  sample: [scim.0b4f5c2a1d3e4f5a6b7c8d9e0f1a2b3c, scim.e4bbf44533ea4eabb17027f3a92e92aa]
available_templates:
  description: The synchronization templates of the parent, when O(template_id) is not one of them.
  returned: when O(template_id) is unknown
  type: list
  elements: str
  sample: [scim]
error:
  description: The Graph error that failed the task, with its request ids for Microsoft support.
  returned: when Graph answered an error
  type: dict
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
'''

from ansible_collections.entra.provisioning.plugins.module_utils._task import run_as_module
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job import MODULE_SPEC, run_synchronization_job


def main():
    run_as_module(MODULE_SPEC, run_synchronization_job)


if __name__ == '__main__':
    main()
