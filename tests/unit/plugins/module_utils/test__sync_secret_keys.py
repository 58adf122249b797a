# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection and the emulator list the same synchronizationSecret keys.

Both copy the enum of https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationsecretkeystringvaluepair
and neither may import the other (the emulator stands for Graph; the collection must not build to it), so the
emulator's table is read from its source file, not imported.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os

from ansible_collections.entra.provisioning.plugins.module_utils._sync_secret import SECRET_KEYS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EMULATOR_CREDENTIALS = os.path.join(ROOT, 'emulator', 'src', 'entra_graph_emulator', 'synchronization', 'credentials.py')


def assigned_keys(source, name):
    """The string literals of the tuple (or frozenset of a tuple) assigned to ``name`` at the top of ``source``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets if isinstance(target, ast.Name)] == [name]:
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, 'id', None) == 'frozenset':
                value = value.args[0]
            return ast.literal_eval(value)
    raise AssertionError('no %s = ... at the top of the file' % name)


def emulator_secret_keys():
    with open(EMULATOR_CREDENTIALS, encoding='utf-8') as handle:
        return assigned_keys(handle.read(), 'SECRET_KEYS')


def test_the_collection_and_the_emulator_know_the_same_secret_keys():
    emulator = emulator_secret_keys()

    assert sorted(set(SECRET_KEYS) - set(emulator)) == [], 'keys the emulator lacks'
    assert sorted(set(emulator) - set(SECRET_KEYS)) == [], 'keys the collection lacks'


def test_the_collection_lists_each_key_once():
    assert len(set(SECRET_KEYS)) == len(SECRET_KEYS)


def test_the_reader_sees_a_key_missing_from_a_frozenset_table():
    source = 'import re\nSECRET_KEYS = frozenset((\n    "None", "UserName",\n))\nOTHER = 1\n'

    assert assigned_keys(source, 'SECRET_KEYS') == ('None', 'UserName')
