# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rewrite the RETURN documentation blocks that several modules share from their one source in ``hacking/``.

RETURN must stay literal YAML in each module file (ansible-doc and validate-modules read the file, not an import), so
the text is copied at development time: each copy stands between a ``# BEGIN <block>`` and a ``# END <block>`` comment.

    python hacking/update_return_docs.py           rewrite the copies
    python hacking/update_return_docs.py --check   exit 1 and name the stale files, changing nothing

tests/unit/plugins/modules/test_return_docs.py runs the check.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODULES = os.path.join('plugins', 'modules')

# block -> its source, and per module file: how many copies the file holds and what the placeholders become there
BLOCKS = {
    'job': {
        'source': os.path.join('hacking', 'job_return.yml'),
        'targets': {
            os.path.join(_MODULES, 'synchronization_job.py'): (1, {'__JOB__': 'job', '__RETURNED__': 'success'}),
            os.path.join(_MODULES, 'synchronization_job_info.py'): (1, {'__JOB__': 'jobs[]', '__RETURNED__': 'always'}),
        },
    },
    'service_principal': {
        'source': os.path.join('hacking', 'service_principal_return.yml'),
        'targets': {
            os.path.join(_MODULES, 'application_from_template.py'): (1, {'__RETURNED__': 'success'}),
            # jobs[].service_principal and service_principals[]
            os.path.join(_MODULES, 'synchronization_job_info.py'): (2, {'__RETURNED__': 'always'}),
        },
    },
    'graph_error': {
        'source': os.path.join('hacking', 'graph_error_return.yml'),
        'targets': {
            os.path.join(_MODULES, 'synchronization_job.py'): (1, {}),
            os.path.join(_MODULES, 'synchronization_job_info.py'): (1, {}),
        },
    },
    'object_mapping': {
        'source': os.path.join('hacking', 'object_mapping_return.yml'),
        'targets': {
            # changes[] and impact[]
            os.path.join(_MODULES, 'synchronization_schema.py'): (2, {}),
        },
    },
}


def begin_marker(block):
    return '# BEGIN %s: generated from %s by hacking/update_return_docs.py; edit it there.' % (block, BLOCKS[block]['source'])


def end_marker(block):
    return '# END %s' % block


def _block_pattern(block):
    return re.compile(r'^(?P<indent>[ ]*)' + re.escape(begin_marker(block)) + r'\n.*?^(?P=indent)' + re.escape(end_marker(block)) + r'\n',
                      re.MULTILINE | re.DOTALL)


def read(path):
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def source_text(block):
    """The source of ``block`` without its leading comment lines."""
    lines = read(BLOCKS[block]['source']).splitlines(True)
    while lines and lines[0].startswith('#'):
        lines.pop(0)
    return ''.join(lines)


def render(block, source, placeholders, indent):
    """The copy a module must hold: markers, and the source with its placeholders filled, indented by ``indent``."""
    text = source
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    body = ''.join(indent + line if line.strip() else line for line in text.splitlines(True))
    return indent + begin_marker(block) + '\n' + body + indent + end_marker(block) + '\n'


def updated(block, module_path, module_text, source):
    """``module_text`` with its copies of ``block`` rewritten from ``source``; refuses a file with another number of copies."""
    copies, placeholders = BLOCKS[block]['targets'][module_path]
    found = list(_block_pattern(block).finditer(module_text))
    if len(found) != copies:
        raise ValueError('%s: expected %d "%s" ... "%s" block(s) in RETURN, found %d'
                         % (module_path, copies, begin_marker(block), end_marker(block), len(found)))
    pieces, done = [], 0
    for match in found:
        pieces += [module_text[done:match.start()], render(block, source, placeholders, match.group('indent'))]
        done = match.end()
    return ''.join(pieces) + module_text[done:]


def targets():
    """Every (block, module file) pair the generator writes."""
    return sorted((block, module_path) for block in BLOCKS for module_path in BLOCKS[block]['targets'])


def main(argv):
    check = '--check' in argv
    stale = []
    texts = {}
    for block, module_path in targets():
        text = texts.get(module_path, read(module_path))
        texts[module_path] = updated(block, module_path, text, source_text(block))
    for module_path in sorted(texts):
        if texts[module_path] == read(module_path):
            continue
        stale.append(module_path)
        if not check:
            with open(os.path.join(ROOT, module_path), 'w') as handle:
                handle.write(texts[module_path])
    if check and stale:
        sys.stderr.write('Out of date with hacking/*_return.yml: %s. Run: python hacking/update_return_docs.py\n' % ', '.join(stale))
        return 1
    for module_path in stale:
        print('rewrote the shared RETURN blocks of %s' % module_path)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
