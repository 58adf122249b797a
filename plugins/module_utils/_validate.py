# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The checks every module applies to ids and values, one message per mistake, and the one way ids enter a URL.

- ``object_id``: a directory object id (a GUID), with the hint for the id it is most often confused with.
- ``id_segment``: an opaque id (job, template) that is placed in a URL path: never ``.``/``..`` (URL normalisation
  removes such segments, https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4, so ``jobs/..`` would address the
  parent resource) nor characters a path cannot carry.
- ``graph_path``: a Graph path with every id percent-encoded (https://www.rfc-editor.org/rfc/rfc3986#section-3.3);
  every module builds its paths with it.
- ``same_id``/``check_identity``: what Graph answered is the object asked for.
- ``type_name``: a value's kind in the words of YAML ("a dict", "a list"), never Python's internal class names.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from collections.abc import Mapping
from urllib.parse import quote

from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

GUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')

# The application template of a non-gallery ("custom") application in the global service (docs/graph-behaviour.md §1.4).
NON_GALLERY_TEMPLATE_ID = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621'

# What each kind of object id is, and where to find it. Every kind has an application (client) id too, a GUID as well,
# which is the usual mistake: object ids and appId are different properties
# (https://learn.microsoft.com/en-us/entra/identity-platform/app-objects-and-service-principals).
_OBJECT_IDS = {
    'service_principal': 'the object id of the service principal (Enterprise applications > Object ID), not its '
                         'application (client) id',
    'application': 'the object id of the application registration (App registrations > Object ID), not its '
                   'application (client) id',
    'user': 'the object id of the user (Users > Object ID)',
    'group': 'the object id of the group (Groups > Object ID)',
    'application_template': 'the id of an application template (for example %s, the non-gallery application), or use '
                            'template_name to find a gallery application by its name' % NON_GALLERY_TEMPLATE_ID,
}

# Characters an opaque id never holds and a URL path segment cannot carry unchanged.
_NOT_IN_ID = re.compile(r'[/\\?#%\s]')
_DOT_SEGMENTS = ('.', '..')


def type_name(value):
    """``"a dict"``, ``"a list"``, ...: how a YAML author names the value's kind (Ansible wraps values in internal
    classes such as ``_AnsibleTaggedDict``, whose names mean nothing to a user)."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, Mapping):
        return 'a dict'
    if isinstance(value, (list, tuple, set, frozenset)):
        return 'a list'
    return 'a %s' % type(value).__name__.lstrip('_')


def _shown(value):
    """The value as the message shows it: a string quoted, anything else by its kind only."""
    return repr(str(value)) if isinstance(value, str) else type_name(value)


def object_id(option, value, kind):
    """``value`` stripped, when it is a GUID; otherwise fail naming ``option`` and the id to give (``_OBJECT_IDS``)."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not GUID.match(text):
        raise TaskFailure('%s: %s is not a GUID; give %s.' % (option, _shown(value), _OBJECT_IDS[kind]))
    return text


def id_segment(option, value, fix):
    """An opaque id (job, synchronization template) stripped, or None; fail when it cannot be one URL path segment.

    Job and template ids contain dots (``scim.4a1b...``), so only what cannot be an id is refused. ``fix`` says what
    to give instead.
    """
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text or text in _DOT_SEGMENTS or _NOT_IN_ID.search(text):
        raise TaskFailure('%s: %s is not an id (an id is not empty, not "." or "..", and has no spaces, "/", "\\", "?", '
                          '"#" or "%%"); %s.' % (option, _shown(value), fix))
    return text


def graph_path(template, *ids):
    """``template % ids`` with each id percent-encoded as one path segment.

    The one place where ids enter a URL. A dot segment would be removed by the HTTP client's URL normalisation
    (https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4) and address another resource: refused here too, whatever
    the caller checked.
    """
    encoded = []
    for value in ids:
        text = str(value)
        if not text or text in _DOT_SEGMENTS:
            raise ValueError('%r cannot be a path segment of %s' % (text, template))
        encoded.append(quote(text, safe=''))
    return template % tuple(encoded)


def same_id(left, right):
    """Whether two ids name the same object: Graph compares keys case-insensitively."""
    return (left or '').lower() == (right or '').lower()


def check_identity(option, asked, found, what):
    """Fail when Graph answered a read of ``asked`` with another object (``found``, a dict with ``id``)."""
    if found is not None and not same_id(asked, found.get('id') if isinstance(found, dict) else None):
        answer = found.get('id') if isinstance(found, dict) else None
        raise TaskFailure('%s: reading %s %s returned %s, not that %s; nothing was changed. Give the id exactly as Graph '
                          'lists it.' % (option, what, asked, 'an object with id %s' % answer if answer else 'an object without an id',
                                         what))
    return found
