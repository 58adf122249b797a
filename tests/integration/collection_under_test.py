# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the collection under test is: the files the tests run (roles, examples, plugins) come from here."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The checkout these tests belong to (the tests do not ship in the collection's tarball: galaxy.yml build_ignore).
SOURCE_ROOT = os.path.dirname(TESTS_DIR)
# The collection under test: by default this checkout; ENTRA_TEST_COLLECTION names an installed copy instead
# (.../ansible_collections/entra/provisioning, installed from the built tarball by tests/run.sh), so that a file
# missing from the build fails the tests that use it.
COLLECTION_ROOT = os.path.abspath(os.environ.get('ENTRA_TEST_COLLECTION') or SOURCE_ROOT)
EXAMPLES = os.path.join(COLLECTION_ROOT, 'examples')
