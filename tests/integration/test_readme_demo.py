# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's first command, ``bash examples/run-demo.sh``, as a user runs it: it starts the bundled Graph emulator
itself, provisions the SCIM application end to end, and a second run of the playbook changes nothing and writes
nothing. ENTRA_DEMO_VENV (tests/run.sh exports its development venv) saves the demo building its own."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import subprocess

from collection_under_test import SOURCE_ROOT

DEMO = os.path.join(SOURCE_ROOT, 'examples', 'run-demo.sh')


def test_the_readme_demo_provisions_once_and_a_second_run_writes_nothing():
    with open(os.path.join(SOURCE_ROOT, 'README.md')) as handle:
        assert 'bash examples/run-demo.sh' in handle.read().split('\n## ', 1)[0], 'the README no longer starts with the demo'
    env = dict(os.environ)
    # The demo is a user's session: not a test's emulator, collections path or tenant.
    for name in list(env):
        if name.startswith(('AZURE_', 'ENTRA_', 'ANSIBLE_')) and name != 'ENTRA_DEMO_VENV':
            del env[name]
    env.pop('PYTHONPATH', None)
    completed = subprocess.run(['bash', DEMO], env=env, cwd=SOURCE_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=900, check=False)
    output = completed.stdout
    assert completed.returncode == 0, output[-6000:]

    recaps = re.findall(r'^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)', output, re.MULTILINE)
    assert len(recaps) == 2, output[-6000:]
    (first_ok, first_changed, first_failed), (dummy, second_changed, second_failed) = recaps
    assert int(first_changed) > 0 and first_failed == '0' and int(first_ok) > 0
    assert second_changed == '0' and second_failed == '0', output[-6000:]
    totals = re.findall(r'^\s+(\d+) Graph requests: (\d+) reads, (\d+) writes$', output, re.MULTILINE)
    assert len(totals) == 2, output[-6000:]
    assert int(totals[0][2]) > 0 and totals[1][2] == '0', totals
    assert "Succeeded" in output.split('=== Requests sent by run 1')[0]
    assert 'Graph emulator stopped.' in output
