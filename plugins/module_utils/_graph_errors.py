# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The one error type of the Graph client, and how Graph's error bodies are read.

Messages are built from Graph's error code and message and our own words only: never from request headers,
request bodies or token service payloads, so no token or secret can end up in a task's output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# The least privileged application permission each kind of call needs (docs/graph-behaviour.md §5.2).
_PERMISSION_HINTS = (
    (re.compile(r'^/applicationTemplates/[^/]+/instantiate$'), 'POST',
     'Application.ReadWrite.All (or Application.ReadWrite.OwnedBy, Directory.ReadWrite.All)'),
    (re.compile(r'/synchronization/'), 'GET', 'Synchronization.Read.All (or Synchronization.ReadWrite.All)'),
    (re.compile(r'/synchronization/'), None, 'Synchronization.ReadWrite.All (or Application.ReadWrite.OwnedBy for apps it owns)'),
    (re.compile(r'^/auditLogs/provisioning'), 'GET', 'AuditLog.Read.All and Directory.Read.All'),
    (re.compile(r'^/users'), 'GET', 'User.Read.All (or Directory.Read.All)'),
    (re.compile(r'^/groups'), 'GET', 'GroupMember.Read.All (or Group.Read.All, Directory.Read.All)'),
    (re.compile(r'^/(servicePrincipals|applications)'), 'GET', 'Application.Read.All'),
    (re.compile(r'^/(servicePrincipals|applications)'), None, 'Application.ReadWrite.All (or Application.ReadWrite.OwnedBy)'),
)


def required_permission(method, path):
    """The application permission a call needs, for 401/403 messages; None when we do not know."""
    path = path.split('?', 1)[0]
    for pattern, hint_method, hint in _PERMISSION_HINTS:
        if pattern.search(path) and (hint_method is None or hint_method == method):
            return hint
    return None


class GraphError(Exception):
    """A failed Graph call: HTTP status, Graph error code and message, and the ids support asks for."""

    def __init__(self, status, code, message, method=None, path=None, request_id=None, client_request_id=None, details=None):
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.details = details or []
        super(GraphError, self).__init__(self._describe())

    def _describe(self):
        where = '%s %s' % (self.method, self.path) if self.method else 'Graph'
        text = '%s failed' % where
        if self.status:
            text += ' with HTTP %s' % self.status
        if self.code:
            text += ' (%s)' % self.code
        if self.message:
            text += ': %s' % self.message.rstrip('.') + '.'
        hint = self.hint()
        if hint:
            text += ' ' + hint
        ids = ['%s=%s' % (name, value) for name, value in
               (('request-id', self.request_id), ('client-request-id', self.client_request_id)) if value]
        if ids:
            text += ' [%s]' % ', '.join(ids)
        return text

    def hint(self):
        return None

    def explain(self, note):
        """Add our words to the message (what was tried, what to do), keeping the status, the code and the ids."""
        self.message = '%s (%s)' % ((self.message or '').rstrip('.'), note)
        self.args = (self._describe(),)

    def to_result(self):
        """The error as returned in a failed task's ``error`` key."""
        return dict(status=self.status, code=self.code, message=self.message, method=self.method, path=self.path,
                    request_id=self.request_id, client_request_id=self.client_request_id)


class GraphNotFound(GraphError):
    pass


class GraphPermissionError(GraphError):
    """401 or 403: says which permission the call needs."""

    @property
    def required_permission(self):
        return required_permission(self.method, self.path or '')

    def hint(self):
        if self.status == 401:
            return 'The access token was refused: check the credential, the tenant and that the token is for Microsoft Graph.'
        needed = self.required_permission
        if needed:
            return 'This call needs the application permission %s, granted with admin consent.' % needed
        return None


class GraphThrottled(GraphError):
    pass


class GraphAuthError(GraphError):
    """No access token: the token service refused (AADSTS errors), or stayed throttled or unavailable."""

    def __init__(self, message, code=None, correlation_id=None, status=None):
        super(GraphAuthError, self).__init__(status, code, message, request_id=correlation_id)

    def _describe(self):
        text = 'Could not get an access token'
        if self.code:
            text += ' (%s)' % self.code
        return '%s: %s' % (text, self.message)


class CheckModeWrite(GraphError):
    """A write attempted in check mode: a bug in the caller, raised instead of sending."""

    def __init__(self, method, path):
        super(CheckModeWrite, self).__init__(None, 'CheckModeWrite', 'refused to send a write in check mode', method=method, path=path)


def error_from_response(status, body, method, path, request_id=None, client_request_id=None):
    """Build the right GraphError from a Graph error response (body already parsed, or None)."""
    error = body.get('error') if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get('code')
        message = error.get('message')
        inner = error.get('innerError') or error.get('innererror') or {}
        # Graph advises coding against the innermost specific code (docs/graph-behaviour.md §5.1); keep the outer one unless it is generic.
        if isinstance(inner, dict) and inner.get('code') and code in (None, 'UnknownError', 'generalException'):
            code = inner.get('code')
        if isinstance(inner, dict):
            request_id = request_id or inner.get('request-id') or inner.get('requestId')
            client_request_id = client_request_id or inner.get('client-request-id')
        details = error.get('details') or []
    else:
        code, message, details = None, None, []
    cls = GraphError
    if status == 404:
        cls = GraphNotFound
    elif status in (401, 403):
        cls = GraphPermissionError
    elif status == 429:
        cls = GraphThrottled
    return cls(status, code, message, method=method, path=path, request_id=request_id,
               client_request_id=client_request_id, details=details)
