# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment example (examples/execution-environment/): the real ansible-builder creates its build
context, and the context's own steps, run here without a container, install the collection and find its Python
dependencies (docs/execution-environment.md). Building the image needs a container runtime and is not tested here."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shutil
import subprocess
import sys

import pytest

from collection_under_test import COLLECTION_ROOT

BIN = os.path.dirname(sys.executable)
BUILDER = os.path.join(BIN, 'ansible-builder')
EXAMPLE = os.path.join(COLLECTION_ROOT, 'examples', 'execution-environment')


@pytest.fixture(autouse=True)
def builder():
    # A missing tool fails the test, never skips it.
    if not os.path.exists(BUILDER):
        pytest.fail('this test needs ansible-builder (pip install ansible-builder, in requirements-dev.txt)')


def run(command, cwd, env=None):
    completed = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=300, check=False)
    assert completed.returncode == 0, '%s failed:\n%s' % (' '.join(command), completed.stdout[-4000:])
    return completed.stdout


def requirement_names(lines):
    names = set()
    for line in lines:
        line = line.split('#', 1)[0].strip()
        if line and not line.startswith('-'):
            names.add(re.split(r'[<>=!~;\[ ]', line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope='module')
def context(tmp_path_factory, collection_tarball):
    """The example's build context, made as the docs say: the collection tarball next to the definition, then
    ansible-builder create."""
    scratch = str(tmp_path_factory.mktemp('execution-environment'))
    definition = os.path.join(scratch, 'definition')
    shutil.copytree(EXAMPLE, definition)
    shutil.copy(collection_tarball, os.path.join(definition, 'entra-provisioning.tar.gz'))
    context_dir = os.path.join(scratch, 'context')
    run([BUILDER, 'create', '--file', 'execution-environment.yml', '--context', context_dir], definition)
    return context_dir


def containerfile(context):
    name, = [name for name in ('Containerfile', 'Dockerfile') if os.path.exists(os.path.join(context, name))]
    with open(os.path.join(context, name)) as handle:
        return handle.read()


def test_the_context_installs_ansible_core_and_the_collection(context):
    text = containerfile(context)
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4"' in text
    assert re.search(r'RUN .*ansible-galaxy collection install .*-r requirements\.yml', text)
    assert re.search(r'RUN .*introspect\.py introspect .*--write-pip=/tmp/src/requirements\.txt', text)
    assert os.path.isfile(os.path.join(context, '_build', 'collections', 'entra-provisioning.tar.gz'))


def test_the_context_s_own_steps_install_the_collection_and_its_python_dependencies(context, tmp_path):
    # The galaxy stage, as the Containerfile runs it (WORKDIR /build = _build), into a scratch collections path that
    # is the only one configured, as /usr/share/ansible/collections is in the image.
    collections = str(tmp_path / 'collections')
    build = os.path.join(context, '_build')
    # Nothing else may count as installed: not the collection under test on PYTHONPATH (ansible scans sys.path).
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False')
    env.pop('PYTHONPATH', None)
    output = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-r', 'requirements.yml', '--collections-path', collections],
                 build, env=env)
    installed = os.path.join(collections, 'ansible_collections', 'entra', 'provisioning')
    assert os.path.isfile(os.path.join(installed, 'plugins', 'modules', 'synchronization_job.py')), output
    assert os.path.isfile(os.path.join(installed, 'extensions', 'eda', 'plugins', 'event_source', 'provisioning_health.py'))

    # The builder stage: the context's introspect script finds the Python requirements the collection declares
    # (meta/execution-environment.yml), which the final image then installs.
    written = str(tmp_path / 'requirements.txt')
    run([sys.executable, os.path.join(build, 'scripts', 'introspect.py'), 'introspect', '--write-pip=%s' % written, collections], build)
    with open(written) as handle:
        introspected = requirement_names(handle)
    with open(os.path.join(COLLECTION_ROOT, 'requirements.txt')) as handle:
        runtime = requirement_names(handle)
    assert runtime == {'msal', 'requests'}
    assert runtime <= introspected, introspected
