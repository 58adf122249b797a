# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's main() in-process, as Ansible would run it directly."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import functools
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19: set basic._ANSIBLE_ARGS, as https://docs.ansible.com/ansible/latest/dev_guide/testing_units_modules.html did
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

# Connection options that pass validation. Nothing is ever sent: the cases that use them fail before the first
# request, and the endpoints point at a closed port, so a request would fail with a different message.
CONNECTION = dict(tenant_id='00000000-0000-0000-0000-000000000000', client_id='11111111-1111-1111-1111-111111111111',
                  client_secret='not-a-real-secret', graph_endpoint='https://127.0.0.1:9', authority_host='https://127.0.0.1:9')


@pytest.fixture
def run_main(capsys):
    """``run_main(module, **args)``: the JSON result a module's main() prints for these args (plus valid connection options)."""
    def run(module, **args):
        with patch_module_args(dict(CONNECTION, **args)):
            with pytest.raises(SystemExit):
                module.main()
        return json.loads(capsys.readouterr().out)
    return run


@pytest.fixture
def run(run_main, request):
    """``run(**args)``: ``run_main`` for the module the test file names in its ``MODULE``."""
    return functools.partial(run_main, request.module.MODULE)
