# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""After a create: keep exactly one copy when several runs created the same object at once.

Graph offers no idempotency key for creating a synchronization job or instantiating an application template, and a new
object is listed only after a replication delay (docs/graph-behaviour.md §3.5, §3.6). Two runs that look at
the same moment (two playbooks, or one play over several hosts) both find nothing and both create; so does a run
started again at once after a run killed right after its create. Each run then, in ``keep_one``:

1. lists the copies (the objects of the same identity) until its own copy is listed;
2. keeps listing for a settling time, so that a copy created by a concurrent run moments after its own is listed too.
   That run created its copy before it could see ours: at most about one replication delay, plus the time between its
   lookup and its create, after ours. The settling time is the time our own copy took from the create request to the
   listing (a measure of both), and at least ``MIN_SETTLE_SECONDS``;
3. picks the winner with a rule every run computes the same way from the same listing (``rank``: the oldest
   ``createdDateTime`` then the smallest id, or the smallest id where Graph documents no creation time);
4. deletes the copies that are not the winner: its own copy when it lost, and, when it won, the other copies it lists
   (their runs delete them too while they are alive; the copy of a killed run would stay otherwise). A 404 on such a
   delete means another run deleted it first. A delete that fails otherwise fails the task, naming what was left:
   a duplicate is never left silently.

A run that lost adopts the winner and plans again from it (the job module then never sends a second start).

A run that arrives while others settle lists several copies at its first lookup: ``resolved`` lists again until at
most one remains, for a bounded time, before it decides anything (several copies for longer are not a race in
progress, and the modules fail listing them, as before).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
import time

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError, GraphNotFound
from ansible_collections.entra.provisioning.plugins.module_utils._polling import poll
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure

# The least settling time: covers a concurrent run's lookup-to-create time when there is no replication delay.
MIN_SETTLE_SECONDS = 1.0
# How long, after it settles, a run that lost may take to act on the winner (a few requests: deletes, read, start).
ACT_SECONDS = 10.0
# How long a run that arrives during a race waits for the runs that created copies to delete all but one.
RESOLVE_SECONDS = 20.0

_DATETIME = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)?$')


# --- the rules every run computes the same way ------------------------------------------------------------------

def smallest_id(item):
    """Rank by id alone. For synchronization jobs: Graph documents no creation time for them (the synchronizationJob
    resource has only id, templateId, schedule, status and synchronizationJobSettings, docs/graph-behaviour.md §2.1,
    https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationjob), and promises no order for the
    list (§3.5); the id is the one property every run reads the same."""
    return (item.get('id') or '',)


def oldest_then_smallest_id(item):
    """Rank by ``createdDateTime`` (an application's "date and time the application was registered", read-only,
    https://learn.microsoft.com/graph/api/resources/application), then by id for equal times; an object without a
    readable time ranks after those with one. The oldest copy is also the one a killed earlier run left."""
    return (created_order(item.get('createdDateTime')), (item.get('id') or '').lower())


def created_order(value):
    """A sortable form of a Graph DateTimeOffset (``2024-01-02T03:04:05.6789012Z``, any number of decimals, an offset
    or Z); unreadable or missing values sort last."""
    match = _DATETIME.match(value or '')
    if not match:
        return (1, datetime.datetime.max, 0)
    moment = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    zone = match.group(3)
    if zone and zone != 'Z':
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        moment = moment - offset if zone[0] == '+' else moment + offset
    return (0, moment, int((match.group(2) or '').ljust(9, '0')))


# --- keeping one ------------------------------------------------------------------------------------------------

class Copies:
    """What ``keep_one`` is about: the kind of object and where its copies are, for messages.

    ``noun`` ('job'), ``where`` ('of template scim on service principal ...'), ``rule`` (the tie-break in words),
    ``delete_hint`` (``%s`` for an id: how a user deletes a leftover copy by hand).
    """

    def __init__(self, noun, where, rule, delete_hint):
        self.noun = noun
        self.where = where
        self.rule = rule
        self.delete_hint = delete_hint


class Kept:
    """The outcome: ``kept`` (the object to go on with), ``adopted`` (True when it is another run's copy), ``deleted``
    (ids), and ``others_act_by``: the monotonic time by which the run that created ``kept`` has acted on it if it is
    alive (it saw its copy about when we first did, and settles about as long as we do)."""

    def __init__(self, kept, adopted, deleted=(), others_act_by=None):
        self.kept = kept
        self.adopted = adopted
        self.deleted = list(deleted)
        self.others_act_by = others_act_by


def keep_one(created, list_copies, rank, delete, copies, sent_at, timeout, warn, sleep=time.sleep, monotonic=time.monotonic):
    """After this run created ``created``: the copy every run keeps (see the module's docstring).

    ``list_copies()`` returns a fresh list of the objects of the same identity; ``rank(object)`` a sort key (the winner
    is the smallest); ``delete(id)`` deletes one (raising GraphNotFound when it is gone); ``sent_at`` is the monotonic
    time just before the create request; ``timeout`` bounds each of the two listings waits.
    """
    created_id = created.get('id')
    first_seen = {}

    def listing():
        found = list_copies()
        now = monotonic()
        for item in found:
            first_seen.setdefault(item.get('id'), now)
        return found

    listed = poll(listing, lambda found: (any(item.get('id') == created_id for item in found), None), timeout, sleep, monotonic)
    if not listed.reached:
        warn('%s %s was not listed among the %ss %s within %d s, so this run could not check whether another run created '
             'one at the same moment; if a later run reports several, delete the extra one (%s).'
             % (copies.noun, created_id, copies.noun, copies.where, timeout, copies.delete_hint % created_id))
        return Kept(created, False)

    settle = min(max(MIN_SETTLE_SECONDS, monotonic() - sent_at), timeout)
    final = poll(listing, lambda found: (False, None), settle, sleep, monotonic).last
    candidates = dict((item.get('id'), item) for item in final)
    candidates.setdefault(created_id, created)
    winner = min(candidates.values(), key=rank)
    winner_id = winner.get('id')
    if winner_id == created_id:
        losers = sorted(item_id for item_id in candidates if item_id != created_id)
    else:
        losers = [created_id]
    if not losers:
        return Kept(created, False)

    others = [item_id for item_id in sorted(candidates) if item_id != created_id]
    warn('%s %s %s appeared while this run created %s %s: another run created it at the same moment, or an earlier run '
         'was interrupted right after creating it. Every run keeps the same copy (%s): kept %s, deleted %s%s.'
         % (_plural(copies.noun, others), ', '.join(others), copies.where, copies.noun, created_id, copies.rule, winner_id,
            ', '.join(losers), ', which this run had just created' if winner_id != created_id else ''))
    failures = []
    for item_id in losers:
        try:
            delete(item_id)
        except GraphNotFound:
            pass  # another run deleted it first
        except GraphError as error:
            failures.append((item_id, error))
    if failures:
        left = ', '.join(item_id for item_id, dummy in failures)
        raise TaskFailure('%s %s: deleting %s %s failed (%s), so %s left besides %s %s, which is kept. Delete %s (%s), then '
                          'run again.' % (copies.noun, copies.where, _plural(copies.noun, failures), left,
                                          '; '.join(str(error) for dummy, error in failures),
                                          'it is' if len(failures) == 1 else 'they are', copies.noun, winner_id, left,
                                          '; '.join(copies.delete_hint % item_id for item_id, dummy in failures)),
                          error=failures[0][1].to_result(), left=[item_id for item_id, dummy in failures], kept=winner_id)
    adopted = winner_id != created_id
    others_act_by = first_seen.get(winner_id, monotonic()) + settle + ACT_SECONDS if adopted else None
    return Kept(winner, adopted, losers, others_act_by)


def _plural(noun, items):
    return noun if len(items) == 1 else noun + 's'


def resolved(list_copies, first, timeout, sleep=time.sleep, monotonic=time.monotonic):
    """``first`` (a lookup's copies) when it holds at most one; else the copies listed again until at most one remains,
    for at most ``timeout`` seconds (the last listing then): runs that created copies at the same moment are deleting
    all but one (see the module's docstring)."""
    if len(first) <= 1:
        return first
    return poll(list_copies, lambda found: (len(found) <= 1, None), timeout, sleep, monotonic, first=first).last
