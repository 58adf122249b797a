# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role scenario shared by the role tests and the kill-and-rerun test: its playbook, names and secrets (the
``tenant`` and ``provision`` fixtures that run it live in conftest.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import signal

from collection_under_test import EXAMPLES

NAME = 'Contoso HR SCIM'
SCIM_TOKEN = 'scim-bearer-5f0e2c7a-do-not-print'
BASE_ADDRESS = 'https://scim.contoso.example/scim/v2'
EXAMPLE = os.path.join(EXAMPLES, 'provision_scim_app.yml')
# A provisioning cycle of 3 emulated seconds, so that waiting for the first cycle takes seconds, not 40 minutes.
CYCLE_SECONDS = 3

ROLE_PLAYBOOK = '''
- hosts: localhost
  gather_facts: false
  vars:
    scim_token: "{{ lookup('ansible.builtin.env', 'SCIM_TOKEN') }}"
  roles:
    - role: entra.provisioning.application_provisioning
      application_provisioning_state: "{{ state | default('present') }}"
      application_provisioning_display_name: %(name)s
      application_provisioning_secrets:
        BaseAddress: %(base)s
        SecretToken: "{{ scim_token }}"
      application_provisioning_notification_email: provisioning-alerts@contoso.example
      application_provisioning_wait_timeout: 120
  post_tasks:
    - name: Keep the result
      ansible.builtin.debug:
        var: application_provisioning_result
''' % dict(name=NAME, base=BASE_ADDRESS)

KEEP = 'Keep the result'


def process_tree(pid):
    """``pid`` and all its descendants. Ansible's workers call setsid(), so a process group does not hold them."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def kill_tree(process):
    """SIGKILL the playbook and every process it started, at once: nothing of the run goes on after this."""
    for pid in process_tree(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    process.wait()
