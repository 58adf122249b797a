# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source entra.provisioning.provisioning_health, loaded as ansible-rulebook loads it (runpy): its
arguments, and a failed scan (first poll: the source ends; later: logged, no event, tried again)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import asyncio
import os

import pytest

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))),
                      'extensions', 'eda', 'plugins', 'event_source', 'provisioning_health.py')
SECRET = 'very-secret-value-123'


@pytest.fixture(scope='module')
def source():
    # What runpy.run_path(SOURCE) does, as ansible-rulebook loads a source, but without runpy's path importers: under
    # pytest-ansible, ansible's collection finder claims every path below ansible_collections/, and run_path then looks
    # for a __main__ module inside the file as if it were a directory.
    namespace = {'__name__': '<run_path>', '__file__': SOURCE}
    with open(SOURCE, encoding='utf-8') as handle:
        exec(compile(handle.read(), SOURCE, 'exec'), namespace)  # pylint: disable=exec-used
    return namespace


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    for name in ('AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'ENTRA_ACCESS_TOKEN'):
        monkeypatch.delenv(name, raising=False)


def test_arguments_are_validated_with_the_connection_options_environment(source, monkeypatch):
    monkeypatch.setenv('AZURE_TENANT_ID', 'contoso.onmicrosoft.com')
    params, _no_log = source['source_params']({'interval': '2', 'template_id': 'scim'})
    assert params['interval'] == 2.0 and params['template_id'] == 'scim'
    assert params['tenant_id'] == 'contoso.onmicrosoft.com' and params['stale_after_hours'] == 24.0
    assert params['report_initial_problems'] is True


@pytest.mark.parametrize('args, option', [({'interval': 0}, 'interval'), ({'intervall': 5}, 'intervall'),
                                          ({'batch_concurrency': 'many'}, 'batch_concurrency')])
def test_bad_arguments_name_the_option(source, args, option):
    with pytest.raises(source['SourceError']) as raised:
        source['source_params'](dict(args, client_secret=SECRET))
    assert option in str(raised.value) and SECRET not in str(raised.value)


class Queue:
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def test_a_failed_first_scan_ends_the_source_and_a_later_one_is_retried(source, monkeypatch):
    scans = []
    poller_class = source['HealthPoller']

    def scan(self):
        scans.append(len(scans))
        if len(scans) in (1, 3):
            raise source['SourceError']('scan failed')
        if len(scans) > 4:
            raise RuntimeError('the source should have put an event by now')
        health = 'healthy' if len(scans) == 2 else 'quarantined'
        return [{'id': 'scim.1', 'health': health, 'status': {}, 'service_principal': {'id': 'sp'}}]

    monkeypatch.setattr(poller_class, 'scan', scan)
    queue = Queue()
    with pytest.raises(source['SourceError']):
        asyncio.run(source['main'](queue, {'interval': 0.01}))
    assert scans == [0] and queue.events == []

    async def until_an_event():
        # Bounded by the scans, never by time: the fake scan ends the source after its fourth call.
        task = asyncio.ensure_future(source['main'](queue, {'interval': 0.01}))
        while not queue.events and not task.done():
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(until_an_event())
    # Scan 2 is the baseline, scan 3 fails and is retried, scan 4 finds the quarantine.
    assert len(scans) == 4
    assert [event['type'] for event in queue.events] == ['quarantined']
    assert queue.events[0]['previous_health'] == 'healthy'


def test_the_documentation_describes_the_arguments_the_source_takes(source):
    """antsibull-docs does not render event sources (2.28), so nothing else reads DOCUMENTATION: its options must be
    the source's own, with their types and defaults, and every connection option it names must exist."""
    import re

    import yaml

    from ansible_collections.entra.provisioning.plugins.module_utils._graph_options import GRAPH_ARGUMENT_SPEC

    documented = yaml.safe_load(source['DOCUMENTATION'])['options']
    own = source['SOURCE_SPEC']
    assert set(documented) - {'tenant_id'} == set(own)
    for name, spec in own.items():
        assert documented[name]['type'] == spec['type'], name
        assert documented[name].get('default') == spec.get('default'), name
    named = set(re.findall(r'C\(([a-z_]+)\)', ' '.join(documented['tenant_id']['description'])))
    assert named and named <= set(GRAPH_ARGUMENT_SPEC), named - set(GRAPH_ARGUMENT_SPEC)
    assert yaml.safe_load(source['EXAMPLES'])[0]['sources'][0]['entra.provisioning.provisioning_health']
