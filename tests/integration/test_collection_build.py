# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: the tarball ``ansible-galaxy collection build`` makes (galaxy.yml build_ignore),
installed into a clean collections path.

What ships is decided here once, as a list of what users need (SHIPPED); the tarball must hold exactly the source
files under it, nothing else (no caches, test output, development tooling or keys) and nothing less. The integration
tests then run against the installed copy (tests/run.sh, ENTRA_TEST_COLLECTION), which catches a file the build
leaves out that a role, example or plugin needs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

from collection_under_test import SOURCE_ROOT

BIN = os.path.dirname(sys.executable)
# What a user of the collection gets: the content Ansible loads, its docs and examples, the AWX credential type, and
# the Graph emulator's package (pip install <collection>/emulator) without its own tests.
SHIPPED = ('README.md', 'COPYING', 'requirements.txt', 'meta/', 'plugins/', 'roles/', 'extensions/', 'playbooks/',
           'examples/', 'awx/', 'docs/', 'changelogs/changelog.yaml', 'changelogs/config.yaml', 'emulator/')
# The demo script runs the checkout (requirements-dev.txt, its own venv): users of the installed collection run the
# example playbooks themselves.
NOT_SHIPPED = ('emulator/tests/', 'examples/run-demo.sh')
# Files a build must never carry, whatever the list above says (caches, build output, environments).
JUNK = re.compile(r'(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|\.cache|\.venv|\.nox|\.git|\.emulator|build|[^/]*\.egg-info)(/|$)'
                  r'|\.py[cod]$|\.tar\.gz$')
PRIVATE_KEY = re.compile(br'-----BEGIN [A-Z ]*PRIVATE KEY-----')


def source_files():
    """The files of the checkout, as git knows them (tracked, or new and not ignored); without git (tests/run.sh's
    copy), every file that is not junk."""
    if os.path.isdir(os.path.join(SOURCE_ROOT, '.git')):
        listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=SOURCE_ROOT, stdout=subprocess.PIPE,
                                universal_newlines=True, check=True).stdout.splitlines()
        return {path for path in listed if os.path.isfile(os.path.join(SOURCE_ROOT, path))}
    found = set()
    for directory, dirs, files in os.walk(SOURCE_ROOT):
        dirs[:] = [name for name in dirs if not JUNK.search(name + '/')]
        found.update(os.path.relpath(os.path.join(directory, name), SOURCE_ROOT) for name in files)
    return {path for path in found if not JUNK.search(path) and not path.startswith('tests/output/')}


def ships(path):
    return path.startswith(SHIPPED) and not path.startswith(NOT_SHIPPED)


@pytest.fixture(scope='module')
def members(collection_tarball):
    with tarfile.open(collection_tarball) as archive:
        return {member.name: archive.extractfile(member).read() for member in archive.getmembers() if member.isfile()}


def test_the_tarball_holds_exactly_what_users_need(members):
    shipped = set(members) - {'MANIFEST.json', 'FILES.json'}
    expected = {path for path in source_files() if ships(path)}
    assert not sorted(shipped - expected), 'shipped but not meant to: %s' % sorted(shipped - expected)
    assert not sorted(expected - shipped), 'missing from the build: %s' % sorted(expected - shipped)
    assert not [path for path in shipped if JUNK.search(path)]
    # The pieces each kind of user starts from.
    for path in ('plugins/modules/synchronization_job.py', 'roles/application_provisioning/tasks/main.yml', 'meta/runtime.yml',
                 'extensions/eda/plugins/event_source/provisioning_health.py', 'awx/credential_type_entra.yml',
                 'docs/docsite/extra-docs.yml', 'emulator/pyproject.toml', 'COPYING'):
        assert path in shipped, path


def test_no_private_key_ships(members):
    # The emulator writes its TLS key pair under .emulator/; a key committed by mistake would ship to every user.
    assert not [name for name, data in members.items() if PRIVATE_KEY.search(data)]


def test_the_manifest_names_the_collection_and_its_python_requirements(members):
    manifest = json.loads(members['MANIFEST.json'])['collection_info']
    assert (manifest['namespace'], manifest['name']) == ('entra', 'provisioning')
    files = {entry['name'] for entry in json.loads(members['FILES.json'])['files'] if entry['ftype'] == 'file'}
    assert files == set(members) - {'MANIFEST.json', 'FILES.json'}


class Installed:
    """The tarball installed into a clean collections path, the only one Ansible looks at (no sys.path scan either)."""

    def __init__(self, scratch, tarball):
        self.scratch = scratch
        self.collections = os.path.join(scratch, 'collections')
        self.root = os.path.join(self.collections, 'ansible_collections', 'entra', 'provisioning')
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='False',
                        ANSIBLE_NOCOLOR='1')
        self.env.pop('PYTHONPATH', None)
        self.run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', self.collections, tarball)

    def run(self, *command, **env):
        completed = subprocess.run(command, env=dict(self.env, **env), cwd=self.scratch, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True, timeout=600, check=False)
        assert completed.returncode == 0, '%s failed:\n%s' % (' '.join(command), completed.stdout[-4000:])
        return completed.stdout


@pytest.fixture(scope='module')
def installed(collection_tarball, tmp_path_factory):
    return Installed(str(tmp_path_factory.mktemp('installed')), collection_tarball)


def test_the_installed_copy_documents_every_plugin(installed):
    """Every module, inventory plugin and role of the checkout is in the installed copy, and ansible-doc renders each
    module (its doc fragments shipped too)."""
    ansible_doc = os.path.join(BIN, 'ansible-doc')
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(SOURCE_ROOT, 'plugins', 'modules')) if name.endswith('.py'))
    listed = json.loads(installed.run(ansible_doc, '--list', '--json', 'entra.provisioning'))
    assert sorted(name.split('.')[-1] for name in listed) == modules
    documented = json.loads(installed.run(ansible_doc, '--json', *['entra.provisioning.' + name for name in modules]))
    for name in modules:
        assert documented['entra.provisioning.' + name]['doc']['options'], name
    inventory = json.loads(installed.run(ansible_doc, '-t', 'inventory', '--json', 'entra.provisioning.synchronization'))
    assert inventory['entra.provisioning.synchronization']['doc']['options']['plugin']
    roles = sorted(os.listdir(os.path.join(SOURCE_ROOT, 'roles')))
    listed_roles = installed.run(ansible_doc, '-t', 'role', '--list', 'entra.provisioning')
    assert [name for name in roles if 'entra.provisioning.' + name not in listed_roles] == []


def test_the_shipped_emulator_package_installs_from_the_installed_collection(installed):
    """docs/emulator-in-ci.md: pip install <installed collection>/emulator gives the emulator matching the collection."""
    target = os.path.join(installed.scratch, 'site')
    installed.run(sys.executable, '-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-deps', '--target', target,
                  os.path.join(installed.root, 'emulator'))
    shown = installed.run(sys.executable, '-c', 'import entra_graph_emulator, sys; sys.stdout.write(entra_graph_emulator.__file__)',
                          PYTHONPATH=target)
    assert shown.startswith(target), shown
    assert os.path.isfile(os.path.join(target, 'entra_graph_emulator', 'synchronization', '__init__.py'))
