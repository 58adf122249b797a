# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comments cite what a reader can open: a section of docs/graph-behaviour.md that exists, or a public URL.

Notes that are not in the repository (graph-sync-api.md, failure-vocabulary.md, their source tags) are refused.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DOC = os.path.join('docs', 'graph-behaviour.md')
SCANNED = ('plugins', 'roles', 'tests', 'docs', 'emulator')
SUFFIXES = ('.py', '.yml', '.yaml', '.md', '.j2', '.sh')

_CITATION = re.compile(r'graph-behaviour\.md ((?:§[0-9.]*[0-9](?:, )?)+)')
_SECTION = re.compile(r'§([0-9.]*[0-9])')
_ANCHOR = re.compile(r'<a id="s([0-9.]+)"></a>\n#+ \1\.? ')
# Notes outside the repository, and the source tags they use (R1:overview, C:paging, AST-EVID, ...).
_OUTSIDE = re.compile(r'graph-sync-api\.md|failure-vocabulary\.md|secrets-keys\.md|scim-template-notes\.md|toolchain\.md|'
                      r'anchors/peers\.md|shared/graph-api|\b(?:R1|D1|DB|RB|C):[a-z][a-z-]+|\bAST-EVID|\bM-CSDL\b')


def _files():
    for top in SCANNED:
        for directory, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [name for name in dirs if not name.startswith('.') and name not in ('output', '__pycache__')]
            for name in files:
                if name.endswith(SUFFIXES):
                    path = os.path.join(directory, name)
                    yield os.path.relpath(path, ROOT), path


def _read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def defined_sections():
    return set(_ANCHOR.findall(_read(os.path.join(ROOT, DOC))))


def bad_citations(sections, files):
    """``(file, line number, problem)`` for every citation of a missing section or of a note outside the repository."""
    problems = []
    for relative, path in files:
        if relative == os.path.join('tests', 'unit', 'plugins', 'modules', 'test_citations.py'):
            continue
        for number, line in enumerate(_read(path).splitlines(), 1):
            for citation in _CITATION.finditer(line):
                for section in _SECTION.findall(citation.group(1)):
                    if section not in sections:
                        problems.append((relative, number, 'no section §%s in %s' % (section, DOC)))
            outside = _OUTSIDE.search(line)
            if outside and relative != DOC:
                problems.append((relative, number, 'cites %s, which is not in the repository' % outside.group(0)))
    return problems


def test_every_section_has_its_anchor():
    text = _read(os.path.join(ROOT, DOC))
    headings = re.findall(r'^#+ ([0-9]+(?:\.[0-9]+)?)\.? ', text, re.M)

    assert sorted(headings) == sorted(defined_sections())


def test_comments_cite_sections_that_exist_and_nothing_outside_the_repository():
    assert bad_citations(defined_sections(), _files()) == []


def test_a_missing_section_and_an_outside_note_are_reported(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text('# (docs/graph-behaviour.md §3.6, §9.9)\n# (graph-sync-api.md §4.4)\n# (C:paging)\n')

    assert bad_citations({'3.6'}, [('sample.py', str(sample))]) == [
        ('sample.py', 1, 'no section §9.9 in docs/graph-behaviour.md'),
        ('sample.py', 2, 'cites graph-sync-api.md, which is not in the repository'),
        ('sample.py', 3, 'cites C:paging, which is not in the repository'),
    ]
