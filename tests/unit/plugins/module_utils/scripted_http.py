# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scripted HTTP replies for the client's unit tests, strict both ways: a request with no reply left fails at once,
and a reply left over fails the test at teardown (conftest.py), so a test cannot pass while the client sent fewer
requests than the script says."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json


class ReplyScript:
    """The replies a fake transport hands out in order; every script made during a test must be used up by its end."""

    live = []

    def __init__(self, replies, name='scripted replies'):
        self.replies = list(replies)
        self.name = name
        ReplyScript.live.append(self)

    def __bool__(self):
        return bool(self.replies)

    __nonzero__ = __bool__

    def next(self, method, url):
        if not self.replies:
            raise AssertionError('%s: no reply left for %s %s (the client sent more requests than scripted)' % (self.name, method, url))
        return self.replies.pop(0)

    @classmethod
    def leftovers(cls):
        """``[(name, replies left)]`` of every script of the test, and forget them all."""
        left = [(script.name, len(script.replies)) for script in cls.live if script.replies]
        del cls.live[:]
        return left


class FakeResponse:
    """What a fake transport answers: the parts of a ``requests.Response`` the collection reads."""

    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self.headers = headers or {}
        self.text = json.dumps(body) if body is not None else ''
        self.content = self.text.encode()
        self._body = body

    def json(self):
        return self._body
