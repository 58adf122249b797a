# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


from ansible_collections.entra.provisioning.plugins.modules import provisioning_log_info

# The module whose main() the conftest.py fixture ``run`` runs.
MODULE = provisioning_log_info


def test_a_bad_time_fails_before_any_request(run):
    result = run(since='last tuesday')

    assert result['failed'] is True
    assert result['msg'].startswith("since: 'last tuesday' is neither a time nor a span back from now")
    assert 'not-a-real-secret' not in json.dumps(result)


def test_an_unknown_action_is_refused_by_the_argument_spec(run):
    result = run(action='StagedDelete')

    assert result['failed'] is True
    assert 'action' in result['msg'] and 'stagedDelete' in result['msg']
