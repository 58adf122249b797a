# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The quick variant of the fault campaign (tests/campaign/fault_campaign.py, issue 9): ten runs of the role and
of a tenant scan with faults on every Graph call. Every run converges or fails cleanly, a failed run converges when
run once more, and nothing is duplicated or half-configured. The long variant (200 runs) is run on demand:
``.cache/venv-py311/bin/python tests/campaign/fault_campaign.py --runs 200``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'campaign'))

from fault_campaign import Campaign  # noqa: E402 pylint: disable=wrong-import-position

QUICK_RUNS = 10


def test_quick_fault_campaign(run_playbook, fresh_emulator):
    campaign = Campaign(fresh_emulator, run_playbook, seed=7, out=lambda line: print(line, flush=True))
    summary = campaign.run(QUICK_RUNS)
    print('\n' + ', '.join('%s %s' % (key, value) for key, value in summary.items() if key not in ('failures', 'problems')))
    for line in summary['failures']:
        print('failed: ' + line)

    assert summary['runs'] == QUICK_RUNS
    assert summary['fresh'] and summary['rerun'] and summary['scan']
    assert summary['problems'] == []
    assert summary['duplicates'] == 0 and summary['half_configured'] == 0 and summary['failed_uncleanly'] == 0
    assert summary['converged'] + summary['failed_cleanly'] == QUICK_RUNS
    assert summary['reruns_converged'] == summary['reruns']
    assert sum(summary['faults_fired'].values()) > 0
