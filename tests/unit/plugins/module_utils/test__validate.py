# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure
from ansible_collections.entra.provisioning.plugins.module_utils._validate import (
    check_identity,
    graph_path,
    id_segment,
    object_id,
    type_name,
)

SP_ID = '5f0f4f2c-6a3e-4d0b-9a61-7b1e0c2d3e4f'


@pytest.mark.parametrize('kind, fix', [
    ('service_principal', 'give the object id of the service principal (Enterprise applications > Object ID), not its '
                          'application (client) id.'),
    ('application', 'give the object id of the application registration (App registrations > Object ID), not its '
                    'application (client) id.'),
    ('application_template', 'or use template_name to find a gallery application by its name.'),
])
def test_one_message_per_kind_of_object_id(kind, fix):
    with pytest.raises(TaskFailure) as raised:
        object_id('some_option', 'contoso-scim', kind)
    assert raised.value.msg.startswith("some_option: 'contoso-scim' is not a GUID; ")
    assert raised.value.msg.endswith(fix)


def test_object_id_strips_and_refuses_what_is_not_a_string():
    assert object_id('service_principal_id', ' %s ' % SP_ID, 'service_principal') == SP_ID
    with pytest.raises(TaskFailure, match=r'^service_principal_id: null is not a GUID'):
        object_id('service_principal_id', None, 'service_principal')
    with pytest.raises(TaskFailure, match=r'^service_principal_id: a list is not a GUID'):
        object_id('service_principal_id', [SP_ID], 'service_principal')


@pytest.mark.parametrize('value', ['.', '..', ' .. ', '', 'scim/abc', 'a b', 'x?y', 'x#y', '50%', 'a\\b'])
def test_id_segment_refuses_what_cannot_be_one_path_segment(value):
    with pytest.raises(TaskFailure, match=r'^job_id: .* is not an id .*; give a job id\.$'):
        id_segment('job_id', value, 'give a job id')


def test_id_segment_keeps_opaque_ids_with_dots():
    assert id_segment('job_id', ' scim.4a1b2c.3d4e ', 'fix') == 'scim.4a1b2c.3d4e'
    assert id_segment('job_id', None, 'fix') is None


def test_graph_path_encodes_every_id_and_refuses_dot_segments():
    assert graph_path('/servicePrincipals/%s/synchronization/jobs/%s', SP_ID, 'scim.a b/c') == \
        '/servicePrincipals/%s/synchronization/jobs/scim.a%%20b%%2Fc' % SP_ID
    for value in ('.', '..', ''):
        with pytest.raises(ValueError):
            graph_path('/jobs/%s', value)


def test_check_identity_refuses_another_object():
    job = {'id': 'scim.abc'}
    assert check_identity('job_id', 'SCIM.ABC', job, 'job') is job  # Graph compares keys case-insensitively
    assert check_identity('job_id', 'scim.abc', None, 'job') is None
    with pytest.raises(TaskFailure, match=r'^job_id: reading job scim.abc returned an object without an id'):
        # What GET .../jobs/. answers once the client has removed the dot segment: the list of jobs.
        check_identity('job_id', 'scim.abc', {'value': [job]}, 'job')
    with pytest.raises(TaskFailure, match=r'returned an object with id other'):
        check_identity('job_id', 'scim.abc', {'id': 'other'}, 'job')


class _AnsibleTaggedDict(dict):
    """Stands for ansible-core 2.19's class of the same name: templated values reach modules as such subclasses."""


class _AnsibleTaggedList(list):
    pass


def test_type_names_are_yaml_words_also_for_ansible_tagged_values():
    assert [type_name(value) for value in (_AnsibleTaggedList([1]), _AnsibleTaggedDict(c=1), 'x', 1, 1.5, True, None)] == [
        'a list', 'a dict', 'a string', 'a number', 'a number', 'a boolean', 'null']
