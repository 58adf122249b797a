# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: synchronization
short_description: Entra service principals with provisioning (synchronization) jobs, grouped by health and template
version_added: 0.2.0
author: entra.provisioning maintainers (@entra-provisioning)
description:
  - Builds an inventory from a Microsoft Entra tenant. Each host is a service principal (enterprise application) that
    has at least one provisioning (synchronization) job; its variables are the facts of its jobs and their health.
  - The tenant is scanned exactly as M(entra.provisioning.synchronization_job_info) scans it (the same code); service
    principals are listed 999 per page and their jobs read through Microsoft Graph JSON batching, 20 service
    principals per C($batch) request. Read permissions suffice (C(Application.Read.All) and
    C(Synchronization.Read.All)); nothing is ever written.
  - The host name is the object ID of the service principal (display names are not unique). Add a readable name as a
    variable with O(compose), for example C(display_name) set to C(entra_service_principal.display_name).
  - "Host variables (every host): C(entra_service_principal) (C(id), C(app_id), C(display_name)); C(entra_jobs), the
    list of its jobs, each with the shape of the RV(entra.provisioning.synchronization_job_info#module:jobs) items of
    M(entra.provisioning.synchronization_job_info) (without C(service_principal)), sorted by job ID;
    C(entra_job_count); C(ansible_connection=local), since a service principal is reached through Graph from the
    controller, never over SSH."
  - "Convenience variables from the first job in job ID order (most service principals have exactly one job):
    C(entra_job_id), C(entra_template_id), C(entra_status_code), C(entra_schedule_state), C(entra_health),
    C(entra_health_reason), C(entra_last_execution) (state, begin and end times and the counts of the last cycle),
    C(entra_count_successive_complete_failures) and C(entra_quarantine) (null unless the job is quarantined). For
    a service principal whose jobs could not be read (HTTP 403 on it, or errors after retries), C(entra_health) is
    V(unreadable) and the job variables are null."
  - "Groups: C(health_<verdict>) for the health of each of the host's jobs (C(health_quarantined),
    C(health_failing), C(health_stale), C(health_degraded), C(health_healthy), ...; the verdicts and their rules are
    those of RV(entra.provisioning.synchronization_job_info#module:jobs[].health)), and C(template_<template ID>) for
    the template of each of its jobs (for example C(template_scim)). A service principal with several jobs is in the
    group of each one."
  - Hosts are added in the order of the scan's result (display name, then object ID). AWX and Automation Platform
    store the hosts of an inventory source and slice a job template across execution nodes on their own order;
    see the collection's docs/awx.md.
  - The inventory file name must end in C(entra_synchronization.yml) or C(entra_synchronization.yaml), for example
    C(tenant.entra_synchronization.yml).
extends_documentation_fragment:
  - entra.provisioning.graph
  - entra.provisioning.graph.environment
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it must be V(entra.provisioning.synchronization).
    type: str
    required: true
    choices: [entra.provisioning.synchronization]
  service_principal_filter:
    description:
      - Narrow the scan to the service principals that match this OData C($filter), as
        O(entra.provisioning.synchronization_job_info#module:service_principal_filter) does, for example
        V(startswith(displayName, 'AWS')).
    type: str
  template_id:
    description:
      - Only take jobs made from this synchronization template, for example V(scim) or V(AWSSingleSignOn), as
        O(entra.provisioning.synchronization_job_info#module:template_id) does. Service principals left without a
        job are not hosts.
    type: str
  stale_after_hours:
    description:
      - A running job whose last cycle ended longer ago than this many hours is V(stale). V(0) turns the rule off.
        As O(entra.provisioning.synchronization_job_info#module:stale_after_hours).
    type: float
    default: 24
  batch_concurrency:
    description:
      - How many C($batch) requests are in flight at once (1 to 20), as
        O(entra.provisioning.synchronization_job_info#module:batch_concurrency).
    type: int
    default: 4
  filter:
    description:
      - A Jinja2 condition on the host variables above. Only the service principals for which it is true become
        hosts; it is evaluated before O(compose), O(groups) and O(keyed_groups).
      - With O(strict=true), a condition that cannot be evaluated for a host (an undefined variable, for example)
        fails the inventory; otherwise that host is left out.
    type: str
notes:
  - With O(cache=true), the scan's result is kept in Ansible's inventory cache for O(cache_timeout) seconds; later
    runs read it without calling Graph. C(ansible-inventory --flush-cache) scans again.
seealso:
  - module: entra.provisioning.synchronization_job_info
'''

EXAMPLES = r'''
# tenant.entra_synchronization.yml: every provisioning job of the tenant. The credentials come from the
# environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, ...), as for the modules.
plugin: entra.provisioning.synchronization

---
# aws.entra_synchronization.yml: only the AWS SSO apps, a readable name, extra groups, and a cache.
plugin: entra.provisioning.synchronization
service_principal_filter: "startswith(displayName, 'AWS')"
template_id: AWSSingleSignOn
stale_after_hours: 6
filter: entra_health != 'not_configured'
compose:
  entra_display_name: entra_service_principal.display_name
  last_cycle_exported: entra_last_execution.count_exported | default(0)
groups:
  needs_attention: entra_health in ['quarantined', 'failing', 'stale']
keyed_groups:
  - key: entra_status_code
    prefix: status
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/entra_inventory
cache_timeout: 900

---
# Explicit connection options (a certificate), with the same names as the modules take.
plugin: entra.provisioning.synchronization
tenant_id: contoso.onmicrosoft.com
client_id: 00000000-0000-0000-0000-000000000000
client_certificate_path: /etc/entra/inventory.pem
'''

import contextlib
import os

from ansible.errors import AnsibleParserError
from ansible.inventory.group import to_safe_group_name
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import GRAPH_ARGUMENT_SPEC, GRAPH_OPTION_NAMES
from ansible_collections.entra.provisioning.plugins.module_utils._sync_inventory import host_entries, host_groups, host_variables
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import (
    MODULE_SPEC,
    run_synchronization_job_info,
)
from ansible_collections.entra.provisioning.plugins.module_utils._task import Task, execute

# The options of synchronization_job_info this plugin passes on (the others address one service principal or add
# templates and schemas, which an inventory does not need).
SCAN_OPTION_NAMES = ('service_principal_filter', 'template_id', 'stale_after_hours', 'batch_concurrency')


@contextlib.contextmanager
def _empty_variables_unset():
    """The connection's environment variables that are empty, unset while Ansible reads the plugin's configuration: an
    empty one is not set, for the modules as here (an AWX credential renders its unused fields empty), but Ansible's
    configuration would take it as a value: it refuses an empty ENTRA_CLOUD (not one of its choices) and turns an empty
    path into the current directory."""
    names = [name for spec in GRAPH_ARGUMENT_SPEC.values() if 'fallback' in spec for name in spec['fallback'][1]]
    empty = dict((name, os.environ.pop(name)) for name in names if os.environ.get(name) == '')
    try:
        yield
    finally:
        os.environ.update(empty)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = 'entra.provisioning.synchronization'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(
            ('entra_synchronization.yml', 'entra_synchronization.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        with _empty_variables_unset():
            self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        jobs = None
        if use_cache:
            try:
                jobs = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if jobs is None:
            jobs = self._scan()
        if update_cache:
            self._cache[cache_key] = jobs
        self._populate(jobs)

    def _params(self):
        """The options as synchronization_job_info receives them: validated by the module's own argument spec.

        Ansible's plugin configuration has already applied the environment variables (the env: entries of the
        entra.provisioning.graph.environment fragment); the module's spec adds its types, choices and messages.
        """
        given = {}
        for name in sorted(GRAPH_OPTION_NAMES) + list(SCAN_OPTION_NAMES):
            # No value comes from an empty environment variable: parse() reads the configuration without them.
            value = self.get_option(name)
            if value is not None:
                given[name] = value
        validation = ArgumentSpecValidator(**MODULE_SPEC).validate(given)
        no_log_values = set(validation._no_log_values)
        if validation.error_messages:
            raise AnsibleParserError(remove_values('%s: %s' % (self.NAME, validation.errors.msg), no_log_values))
        return validation.validated_parameters, no_log_values

    def _scan(self):
        params, no_log_values = self._params()
        task = Task(params, warn=self.display.warning)
        result = execute(run_synchronization_job_info, task)
        no_log_values.update(task.secrets)
        if result.get('failed'):
            raise AnsibleParserError(remove_values('%s: %s' % (self.NAME, result['msg']), no_log_values))
        summary = result['summary']
        self.display.vvv('%s: %d service principals scanned, %d with jobs, %d Graph requests' % (
            self.NAME, summary['service_principals_scanned'], summary['service_principals_with_jobs'],
            summary['graph_requests']))
        return result['jobs']

    def _populate(self, jobs):
        strict = self.get_option('strict')
        condition = self.get_option('filter')
        for service_principal, host_jobs in host_entries(jobs):
            variables = host_variables(service_principal, host_jobs)
            if condition and not self._passes(condition, variables, service_principal['id'], strict):
                continue
            host = self.inventory.add_host(service_principal['id'])
            for name, value in variables.items():
                self.inventory.set_variable(host, name, value)
            for group in host_groups(host_jobs):
                self.inventory.add_child(self.inventory.add_group(to_safe_group_name(group)), host)
            self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)

    def _passes(self, condition, variables, host, strict):
        try:
            return boolean(self._compose(condition, variables), strict=False)
        except Exception as error:  # pylint: disable=broad-exception-caught  # as Constructable treats compose errors
            if strict:
                raise AnsibleParserError('%s: could not evaluate filter for %s: %s' % (self.NAME, host, error))
            return False
