# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RETURN blocks several modules share are one text each, and the documented ``job`` is what the modules return.

hacking/*_return.yml are the texts (the ``job``, a service principal's identity, ``object_mapping``);
hacking/update_return_docs.py copies them into the RETURN of each module that documents them (RETURN must stay literal
YAML in the module file). These tests fail when a copy is out of date, and when the documented keys (recursively) and
what ``_convert.job_to_result()`` makes of a full Graph job drift apart.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import importlib.util
import os

import pytest
import yaml

from ansible_collections.entra.provisioning.plugins.module_utils._convert import job_to_result
from ansible_collections.entra.provisioning.plugins.module_utils._sync_job_info import HEALTH_VERDICTS, job_entry
from ansible_collections.entra.provisioning.plugins.modules import synchronization_job, synchronization_job_info

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def _load_generator():
    spec = importlib.util.spec_from_file_location('update_return_docs', os.path.join(ROOT, 'hacking', 'update_return_docs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _load_generator()

# A full Graph synchronizationJob: the quarantined AWS Single Sign-on job Microsoft's provisioning tutorial prints
# (microsoftgraph/microsoft-graph-docs, concepts/application-provisioning-configure-api.md, step 6; see
# docs/graph-behaviour.md §2), with the properties that example leaves null or empty filled in the shapes of the
# resource pages (https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationstatus and the
# pages it links), so that every documented key has a value to compare.
EXECUTION = {
    'activityIdentifier': 'c3173f7b-9e67-4759-828c-cb499967be57', 'countEntitled': 0, 'countEntitledForProvisioning': 0,
    'countEscrowed': 0, 'countEscrowedRaw': 0, 'countExported': 0, 'countExports': 0, 'countImported': 0,
    'countImportedDeltas': 0, 'countImportedReferenceDeltas': 0, 'state': 'Failed',
    'timeBegan': '2021-05-24T21:45:53.6330529Z', 'timeEnded': '2021-05-24T21:45:54.5581273Z',
    'error': {'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
              'message': 'Please provide a valid tenant URL for your application.', 'tenantActionable': True},
}
FULL_JOB = {
    '@odata.context': "https://graph.microsoft.com/beta/$metadata#servicePrincipals('29f68db3-1000-46bf-a940-f5ea3ecc39e7')"
                      "/synchronization/jobs/$entity",
    'id': 'aWSSingleSignon.ff8bf889e03141ac8f7baedb059892ee.bfc8712e-0986-4d47-896b-6872713598c6',
    'templateId': 'aWSSingleSignon',
    'schedule': {'expiration': '2021-06-24T21:45:54Z', 'interval': 'PT40M', 'state': 'Active'},
    'status': {
        'countSuccessiveCompleteFailures': 1,
        'escrowsPruned': False,
        'code': 'Quarantine',
        'lastExecution': EXECUTION,
        'lastSuccessfulExecution': dict(EXECUTION, state='Succeeded', error={'code': 'None', 'message': '', 'tenantActionable': False}),
        'lastSuccessfulExecutionWithExports': dict(EXECUTION, state='Succeeded', countExported=3, countExports=3,
                                                   error={'code': 'None', 'message': '', 'tenantActionable': False}),
        'steadyStateFirstAchievedTime': '2021-05-20T08:00:00Z',
        'steadyStateLastAchievedTime': '2021-05-24T21:00:00Z',
        'troubleshootingUrl': 'https://aka.ms/ProvisioningTroubleshooting',
        'progress': [{'completedUnits': 50, 'totalUnits': 120, 'units': 'Users',
                      'progressObservationDateTime': '2021-05-24T21:45:54Z'}],
        'quarantine': {
            'currentBegan': '2021-05-24T21:45:54.4981365Z', 'nextAttempt': '2021-05-24T21:50:54.4981365Z',
            'reason': 'EncounteredQuarantineException', 'seriesBegan': '2021-05-24T21:45:54.4981365Z', 'seriesCount': 1,
            'error': {'code': 'SystemForCrossDomainIdentityManagementInvalidCredentials',
                      'message': 'Please provide a valid tenant URL for your application.', 'tenantActionable': True},
        },
        'synchronizedEntryCountByType': [{'key': 'user to user', 'value': 118}],
    },
    'synchronizationJobSettings': [{'name': 'AzureIngestionAttributeOptimization', 'value': 'False'}],
}
SERVICE_PRINCIPAL = {'id': '29f68db3-1000-46bf-a940-f5ea3ecc39e7', 'appId': 'bfc8712e-0986-4d47-896b-6872713598c6',
                     'displayName': 'AWS Contoso'}

# Dicts whose keys are data (setting names, mapping names), so they are documented without ``contains``.
DATA_KEYED = {'job.status.synchronized_entry_count_by_type', 'job.synchronization_job_settings'}
PYTHON_TYPES = {'str': str, 'int': int, 'bool': bool, 'dict': dict, 'list': list}


def documented_job(module):
    """The ``contains`` of the module's documented job, and the job result it documents."""
    documented = yaml.safe_load(module.RETURN)
    if 'job' in documented:
        return documented['job']['contains'], job_to_result(FULL_JOB)
    now = datetime.datetime(2021, 5, 25, tzinfo=datetime.timezone.utc)
    return documented['jobs']['contains'], job_entry(FULL_JOB, SERVICE_PRINCIPAL, now=now, stale_after_hours=24.0)


def drift(contains, value, path='job'):
    """Where the documented keys (``contains``) and a returned dict differ, recursively; [] when they agree."""
    problems = []
    for key in sorted(set(value) - set(contains)):
        problems.append('%s.%s is returned but not documented' % (path, key))
    for key in sorted(set(contains) - set(value)):
        if not str(contains[key].get('returned', '')).startswith('when'):
            problems.append('%s.%s is documented but not returned' % (path, key))
    for key in sorted(set(contains) & set(value)):
        problems.extend(_drift_of(contains[key], value[key], '%s.%s' % (path, key)))
    return problems


def _drift_of(doc, value, path):
    if value is None:
        return ['%s is null for a full job: cannot check it (fill FULL_JOB)' % path]
    if not isinstance(value, PYTHON_TYPES[doc['type']]):
        return ['%s is documented as %s but is %s' % (path, doc['type'], type(value).__name__)]
    if 'contains' in doc:
        items = value if doc['type'] == 'list' else [value]
        if not items:
            return ['%s is empty for a full job: cannot check it (fill FULL_JOB)' % path]
        return [problem for item in items for problem in drift(doc['contains'], item, path)]
    if doc['type'] == 'dict' and path not in DATA_KEYED:
        return ['%s is a dict documented without contains' % path]
    return []


JOB_MODULES = [synchronization_job, synchronization_job_info]


@pytest.mark.parametrize('block, module_path', GENERATOR.targets(), ids=os.path.basename)
def test_each_module_holds_the_current_text_of_each_shared_block(block, module_path):
    text = GENERATOR.read(module_path)

    assert GENERATOR.updated(block, module_path, text, GENERATOR.source_text(block)) == text, (
        '%s is out of date with %s: run python hacking/update_return_docs.py' % (module_path, GENERATOR.BLOCKS[block]['source']))


def test_the_generator_refuses_a_module_without_its_markers():
    with pytest.raises(ValueError, match='expected 1 '):
        GENERATOR.updated('job', 'plugins/modules/synchronization_job.py', 'RETURN = r"""\njob:\n  contains:\n"""\n', 'id: {}\n')


def test_the_generator_refuses_a_module_with_one_copy_too_few():
    module_path = os.path.join('plugins', 'modules', 'synchronization_job_info.py')
    text = GENERATOR.read(module_path)
    first = text.index(GENERATOR.begin_marker('service_principal'))
    last = text.index(GENERATOR.end_marker('service_principal'), first) + len(GENERATOR.end_marker('service_principal'))

    with pytest.raises(ValueError, match='expected 2 .* found 1'):
        GENERATOR.updated('service_principal', module_path, text[:first] + text[last:], GENERATOR.source_text('service_principal'))


@pytest.mark.parametrize('module', JOB_MODULES, ids=lambda module: module.__name__.rsplit('.', 1)[-1])
def test_documented_job_keys_are_what_job_to_result_returns(module):
    contains, result = documented_job(module)

    assert drift(contains, result) == []


def test_the_comparison_sees_a_key_documented_but_not_returned_and_the_reverse():
    contains, result = documented_job(synchronization_job)
    result = copy.deepcopy(result)
    result['status']['last_successful_execution']['count_exports_extra'] = 1
    del result['status']['quarantine']['error']['tenant_actionable']

    assert drift(contains, result) == [
        'job.status.last_successful_execution.count_exports_extra is returned but not documented',
        'job.status.quarantine.error.tenant_actionable is documented but not returned',
    ]


def test_the_health_verdicts_are_documented_in_the_order_the_rules_try_them():
    description = ' '.join(yaml.safe_load(synchronization_job_info.RETURN)['jobs']['contains']['health']['description'])
    positions = [description.find('V(%s)' % verdict) for verdict in HEALTH_VERDICTS]

    assert -1 not in positions, 'a verdict is not documented under jobs[].health'
    assert positions == sorted(positions)
