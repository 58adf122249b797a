# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every scripted HTTP reply must be consumed: a test whose client sent fewer requests than scripted fails."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.scripted_http import ReplyScript


@pytest.fixture(autouse=True)
def every_scripted_reply_is_consumed():
    ReplyScript.leftovers()
    yield
    left = ReplyScript.leftovers()
    assert not left, 'scripted replies never requested: %s' % ', '.join('%s: %d left' % entry for entry in left)
