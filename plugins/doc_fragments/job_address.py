# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options that address an existing job (JOB_ADDRESS_OPTIONS and JobAddress in plugins/module_utils/_sync_job.py),
    # for the modules that work on a job synchronization_job manages. synchronization_job documents its own: it also
    # creates jobs, and its service_principal_id may be null in check mode.
    DOCUMENTATION = r'''
options:
  service_principal_id:
    description:
      - The object id of the service principal (enterprise application) that owns the job, as for
        M(entra.provisioning.synchronization_job). Not the application (client) id.
      - Exactly one of O(service_principal_id) and O(application_id) is required.
    type: str
  application_id:
    description:
      - The object id of the application (app registration) that owns the job, for jobs created on the application.
      - Exactly one of O(service_principal_id) and O(application_id) is required.
    type: str
  template_id:
    description:
      - The synchronization template of the job, for example V(scim); the job is found by it, as
        M(entra.provisioning.synchronization_job) finds it. The job must exist.
      - At least one of O(template_id) and O(job_id) is required; with both, the job must be of that template.
    type: str
  job_id:
    description:
      - The id of the job, for example V(scim.e4bbf44533ea4eabb17027f3a92e92aa). Needed only when several jobs of one
        template exist.
    type: str
'''
