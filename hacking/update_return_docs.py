# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rewrite the ``job`` RETURN documentation of the job modules from its one source, ``hacking/job_return.yml``.

RETURN must stay literal YAML in each module file (ansible-doc and validate-modules read the file, not an import), so
the text is copied at development time: each module holds it between a ``# BEGIN job`` and a ``# END job`` comment.

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
SOURCE = os.path.join('hacking', 'job_return.yml')

# module file -> what the placeholders of the source become there
TARGETS = {
    os.path.join('plugins', 'modules', 'synchronization_job.py'): {'__JOB__': 'job', '__RETURNED__': 'success'},
    os.path.join('plugins', 'modules', 'synchronization_job_info.py'): {'__JOB__': 'jobs[]', '__RETURNED__': 'always'},
}

BEGIN = '# BEGIN job: generated from hacking/job_return.yml by hacking/update_return_docs.py; edit it there.'
END = '# END job'
_BLOCK = re.compile(r'^(?P<indent>[ ]*)' + re.escape(BEGIN) + r'\n.*?^(?P=indent)' + re.escape(END) + r'\n',
                    re.MULTILINE | re.DOTALL)


def read(path):
    with open(os.path.join(ROOT, path)) as handle:
        return handle.read()


def source_text():
    """The source without its leading comment lines."""
    lines = read(SOURCE).splitlines(True)
    while lines and lines[0].startswith('#'):
        lines.pop(0)
    return ''.join(lines)


def render(source, placeholders, indent):
    """The block a module must hold: markers, and the source with its placeholders filled, indented by ``indent``."""
    text = source
    for placeholder, value in placeholders.items():
        text = text.replace(placeholder, value)
    body = ''.join(indent + line if line.strip() else line for line in text.splitlines(True))
    return indent + BEGIN + '\n' + body + indent + END + '\n'


def updated(module_path, module_text, source):
    """``module_text`` with its job block rewritten from ``source``; refuses a file without exactly one block."""
    blocks = list(_BLOCK.finditer(module_text))
    if len(blocks) != 1:
        raise ValueError('%s: expected one "%s" ... "%s" block in RETURN, found %d' % (module_path, BEGIN, END, len(blocks)))
    block = blocks[0]
    fresh = render(source, TARGETS[module_path], block.group('indent'))
    return module_text[:block.start()] + fresh + module_text[block.end():]


def main(argv):
    check = '--check' in argv
    source = source_text()
    stale = []
    for module_path in sorted(TARGETS):
        text = read(module_path)
        new_text = updated(module_path, text, source)
        if new_text == text:
            continue
        stale.append(module_path)
        if not check:
            with open(os.path.join(ROOT, module_path), 'w') as handle:
                handle.write(new_text)
    if check and stale:
        sys.stderr.write('Out of date with %s: %s. Run: python hacking/update_return_docs.py\n' % (SOURCE, ', '.join(stale)))
        return 1
    for module_path in stale:
        print('rewrote the job RETURN block of %s' % module_path)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
