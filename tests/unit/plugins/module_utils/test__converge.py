# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.entra.provisioning.plugins.module_utils._converge import (
    ACT_SECONDS,
    MIN_SETTLE_SECONDS,
    Copies,
    created_order,
    keep_one,
    oldest_then_smallest_id,
    resolved,
    smallest_id,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, GraphNotFound
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

from ansible_collections.entra.provisioning.tests.unit.plugins.module_utils.fake_clock import FakeClock

COPIES = Copies('job', 'of template scim on service_principal_id sp', 'the smallest id', 'delete %s by hand')
OURS = {'id': 'scim.b'}
SMALLER = {'id': 'scim.a'}
LARGER = {'id': 'scim.c'}


class World(FakeClock):
    """A fake clock, and listings that change with it: ``timeline`` is ``[(from second, [objects listed])]``."""

    def __init__(self, timeline, delete_errors=None):
        super(World, self).__init__(100.0)
        self.start = self.now
        self.timeline = timeline
        self.listings = 0
        self.deleted = []
        self.delete_errors = delete_errors or {}

    def list_copies(self):
        self.listings += 1
        elapsed = self.now - self.start
        current = [objects for since, objects in self.timeline if since <= elapsed][-1]
        return [dict(item) for item in current if item['id'] not in self.deleted]

    def delete(self, item_id):
        if item_id in self.delete_errors:
            raise self.delete_errors[item_id]
        self.deleted.append(item_id)

    def keep_one(self, created=None, rank=smallest_id, timeout=60.0, sent_at=None):
        warnings = []
        kept = keep_one(created or OURS, self.list_copies, rank, self.delete, COPIES, self.start if sent_at is None else sent_at,
                        timeout, warnings.append, self.sleep, self.monotonic)
        return kept, warnings


def test_alone_it_keeps_its_own_copy_after_settling_without_a_warning():
    world = World([(0, [OURS])])

    kept, warnings = world.keep_one()

    assert kept.kept['id'] == OURS['id'] and not kept.adopted and kept.deleted == []
    assert world.deleted == [] and warnings == []
    # Listed at once; then it keeps listing for the least settling time, the last listing at its end.
    assert sum(world.sleeps) == pytest.approx(MIN_SETTLE_SECONDS)


def test_a_run_that_lost_deletes_only_its_own_copy_and_adopts_the_winner():
    world = World([(0, [LARGER, OURS, SMALLER])])

    kept, warnings = world.keep_one()

    assert kept.kept['id'] == SMALLER['id'] and kept.adopted
    assert world.deleted == [OURS['id']] and kept.deleted == [OURS['id']]
    assert len(warnings) == 1
    assert 'kept scim.a, deleted scim.b, which this run had just created' in warnings[0]
    assert 'jobs scim.a, scim.c of template scim' in warnings[0] and 'the smallest id' in warnings[0]
    # Its run saw the winner when this one did, settles as long, then acts within ACT_SECONDS.
    assert kept.others_act_by == pytest.approx(world.start + MIN_SETTLE_SECONDS + ACT_SECONDS)


def test_the_winner_deletes_the_other_copies_it_lists():
    # Their runs delete them too while alive; a killed run's copy would stay otherwise.
    world = World([(0, [LARGER, OURS])])

    kept, warnings = world.keep_one()

    assert kept.kept['id'] == OURS['id'] and not kept.adopted
    assert world.deleted == [LARGER['id']]
    assert len(warnings) == 1 and 'kept scim.b, deleted scim.c.' in warnings[0]


def test_a_copy_listed_only_while_settling_is_taken_into_account():
    # Both runs created at once; the other copy is listed 0.8 s after ours. Deciding at the first listing kept ours,
    # while the other run, which sees both, kept its own: two copies left.
    world = World([(0, [OURS]), (0.8, [OURS, SMALLER])])

    kept, dummy = world.keep_one()

    assert kept.kept['id'] == SMALLER['id'] and world.deleted == [OURS['id']]


def test_it_settles_as_long_as_its_own_copy_took_to_be_listed():
    # Our copy is listed 3 s after the create request: a copy created by another run just before it could see ours
    # takes about as long. It is listed 5 s after our request: still seen.
    world = World([(0, []), (3, [OURS]), (5, [OURS, SMALLER])])

    kept, dummy = world.keep_one()

    assert kept.kept['id'] == SMALLER['id']
    assert world.now - world.start >= 3 + 3


def test_settling_is_bounded_by_the_timeout():
    world = World([(0, []), (8, [OURS])])

    kept, dummy = world.keep_one(timeout=10)

    assert kept.kept['id'] == OURS['id'] and world.now - world.start <= 8 + 2 + 10


def test_a_copy_already_deleted_by_another_run_is_not_an_error():
    world = World([(0, [OURS, SMALLER])], delete_errors={OURS['id']: GraphNotFound(404, 'Request_ResourceNotFound', 'gone')})

    kept, dummy = world.keep_one()

    assert kept.kept['id'] == SMALLER['id'] and kept.adopted


def test_a_delete_that_fails_fails_naming_what_was_left_after_trying_every_delete():
    error = GraphError(500, 'InternalServerError', 'boom', method='DELETE', path='/jobs/scim.c')
    world = World([(0, [OURS, LARGER, {'id': 'scim.d'}])], delete_errors={'scim.c': error})

    with pytest.raises(TaskFailure) as failure:
        world.keep_one()

    assert world.deleted == ['scim.d']
    assert failure.value.result['left'] == ['scim.c'] and failure.value.result['kept'] == OURS['id']
    assert 'deleting job scim.c failed' in failure.value.msg and 'delete scim.c by hand' in failure.value.msg
    assert failure.value.result['error']['status'] == 500


def test_when_its_copy_is_never_listed_it_keeps_it_and_warns():
    world = World([(0, [])])

    kept, warnings = world.keep_one(timeout=20)

    assert kept.kept['id'] == OURS['id'] and not kept.adopted and world.deleted == []
    assert len(warnings) == 1 and 'could not check' in warnings[0] and 'delete scim.b by hand' in warnings[0]
    assert sum(world.sleeps) == pytest.approx(20)


def test_its_own_copy_deleted_by_the_winner_before_it_settled_is_still_a_loss():
    # The winner's run decided first and deleted our copy: the last listing shows only the winner.
    world = World([(0, [OURS, SMALLER]), (0.7, [SMALLER])])

    kept, dummy = world.keep_one()

    assert kept.kept['id'] == SMALLER['id'] and kept.adopted and world.deleted == [OURS['id']]


def test_applications_rank_by_creation_time_then_id():
    older = {'id': 'ffff', 'createdDateTime': '2024-05-01T10:00:00Z'}
    newer = {'id': '0000', 'createdDateTime': '2024-05-01T10:00:00.5Z'}
    same_time = {'id': 'AAAA', 'createdDateTime': '2024-05-01T10:00:00.000Z'}
    no_time = {'id': '0'}

    ranked = sorted([no_time, newer, older, same_time], key=oldest_then_smallest_id)

    assert [item['id'] for item in ranked] == ['AAAA', 'ffff', '0000', '0']


def test_creation_times_compare_across_precisions_and_offsets():
    assert created_order('2024-05-01T12:00:00+02:00') == created_order('2024-05-01T10:00:00Z')
    assert created_order('2024-05-01T10:00:00.1234567Z') < created_order('2024-05-01T10:00:00.124Z')
    assert created_order('2024-05-01T09:59:59.9999999Z') < created_order('2024-05-01T10:00:00Z')
    assert created_order(None) > created_order('9999-01-01T00:00:00Z')
    assert created_order('yesterday') == created_order(None)


def test_jobs_rank_by_id():
    assert sorted([LARGER, OURS, SMALLER], key=smallest_id) == [SMALLER, OURS, LARGER]


def test_a_lookup_that_lists_several_copies_lists_again_until_one_remains():
    world = World([(0, [OURS, SMALLER]), (3, [SMALLER])])

    found = resolved(world.list_copies, world.list_copies(), 20, world.sleep, world.monotonic)

    assert found == [SMALLER] and world.now - world.start <= 3 + 2


def test_several_copies_for_longer_than_the_timeout_are_returned_as_they_are():
    world = World([(0, [OURS, SMALLER])])

    found = resolved(world.list_copies, world.list_copies(), 20, world.sleep, world.monotonic)

    assert len(found) == 2 and sum(world.sleeps) == pytest.approx(20)


def test_a_lookup_with_one_copy_lists_nothing_more():
    world = World([(0, [OURS])])

    assert resolved(world.list_copies, [OURS], 20, world.sleep, world.monotonic) == [OURS] and world.listings == 0
