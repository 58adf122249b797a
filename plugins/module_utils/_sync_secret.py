# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""The provisioning credentials of a service principal (``{sp}/synchronization/secrets``).

Three facts shape this code (docs/graph-behaviour.md §4):

- ``PUT .../synchronization/secrets`` replaces the whole set, so the module reads the set, changes the keys the task
  names and sends everything back; keys the task does not name are kept.
- Graph reads sensitive values back masked as ``*``. They cannot be compared (hence ``update_secrets``), and they
  cannot be sent back either: a change that would drop a masked key the task does not name fails and names the key.
- Keys are members of the ``synchronizationSecret`` enum; others are refused by Graph with a 500.

``plan_secret_changes`` is pure (current pairs + desired -> PUT body or None, and the key lists), unit-tested.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import json
import re

from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import GraphError
from ansible_collections.entra.provisioning.plugins.module_utils._polling import poll
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import graph_path, object_id, type_name

MASKED = '*'

# synchronizationSecret (docs/graph-behaviour.md §4.1): the only keys Graph accepts, in its spelling, in the order of
# https://learn.microsoft.com/graph/api/resources/synchronization-synchronizationsecretkeystringvaluepair. The emulator
# keeps its own copy (it imports nothing from here); tests/unit/plugins/module_utils/test__sync_secret_keys.py fails
# when the two differ.
SECRET_KEYS = (
    'None', 'UserName', 'Password', 'SecretToken', 'AppKey', 'BaseAddress', 'ClientIdentifier', 'ClientSecret',
    'SingleSignOnType', 'Sandbox', 'Url', 'Domain', 'ConsumerKey', 'ConsumerSecret', 'TokenKey', 'TokenExpiration',
    'Oauth2AccessToken', 'Oauth2AccessTokenCreationTime', 'Oauth2RefreshToken', 'SyncAll', 'InstanceName',
    'Oauth2ClientId', 'Oauth2ClientSecret', 'CompanyId', 'UpdateKeyOnSoftDelete', 'SynchronizationSchedule',
    'SystemOfRecord', 'SandboxName', 'EnforceDomain', 'SyncNotificationSettings', 'SkipOutOfScopeDeletions',
    'Oauth2AuthorizationCode', 'Oauth2RedirectUri', 'ApplicationTemplateIdentifier', 'Oauth2TokenExchangeUri',
    'Oauth2AuthorizationUri', 'AuthenticationType', 'Server', 'PerformInboundEntitlementGrants', 'HardDeletesEnabled',
    'SyncAgentCompatibilityKey', 'SyncAgentADContainer', 'ValidateDomain', 'TestReferences', 'ConnectionString',
)
_CANONICAL_KEYS = dict((key.lower(), key) for key in SECRET_KEYS)

# Keys whose values are credentials even when Graph happens to return them in clear: masked in any output.
SENSITIVE_KEYS = frozenset((
    'Password', 'SecretToken', 'ClientSecret', 'ConsumerSecret', 'TokenKey', 'Oauth2AccessToken', 'Oauth2RefreshToken',
    'Oauth2ClientSecret', 'Oauth2AuthorizationCode', 'AppKey', 'ConnectionString',
))

NOTIFICATION_SETTINGS = 'SyncNotificationSettings'
# Keeps accounts that leave the scope in the target application (not disabled or deleted); the documented values are
# the strings True and False (https://learn.microsoft.com/entra/identity/app-provisioning/skip-out-of-scope-deletions).
SKIP_OUT_OF_SCOPE_DELETIONS = 'SkipOutOfScopeDeletions'
# What the Entra portal sends when nothing else is said: notifications off, the accidental-deletion threshold on at 500
# (docs/graph-behaviour.md §4.4).
DEFAULT_NOTIFICATION_SETTINGS = {'Enabled': False, 'DeleteThresholdEnabled': True, 'DeleteThresholdValue': 500}

_EMAIL = re.compile(r'^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$')

# The keys whose value is a JSON document (docs/graph-behaviour.md §4.4): a dict given for them is sent as compact JSON.
JSON_DOCUMENT_KEYS = frozenset((NOTIFICATION_SETTINGS, 'AppKey'))

# Seconds to wait for a new service principal, and for a PUT to show in a GET (replication, docs/graph-behaviour.md §3.6, §4.3).
REPLICATION_TIMEOUT = 60.0

MODULE_SPEC = module_spec(
    dict(
        service_principal_id=dict(type='str', required=True),
        secrets=dict(type='dict', no_log=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        update_secrets=dict(type='str', default='always', choices=['always', 'on_create'], no_log=False),
        notification_email=dict(type='str'),
        deletion_threshold=dict(type='int'),
        skip_out_of_scope_deletions=dict(type='bool'),
    ),
    required_one_of=[('secrets', 'notification_email', 'deletion_threshold', 'skip_out_of_scope_deletions')],
)


class SecretPlan:
    """What a task does to the set: the body to PUT (None: nothing to send) and the key names by fate."""

    def __init__(self, body, added, updated, removed, kept):
        self.body = body
        self.added = added
        self.updated = updated
        self.removed = removed
        self.kept = kept

    @property
    def changed(self):
        return self.body is not None

    @property
    def keys_after(self):
        return sorted(set(self.added) | set(self.updated) | set(self.kept))


# --- input --------------------------------------------------------------------------------------------------------

def canonical_key(key):
    """Graph's spelling of a secret key; fails naming the closest known key."""
    canonical = _CANONICAL_KEYS.get(str(key).strip().lower())
    if canonical is None:
        close = difflib.get_close_matches(str(key), SECRET_KEYS, n=1)
        hint = ' Did you mean %s?' % close[0] if close else ''
        raise TaskFailure('secrets: %s is not a synchronization secret key.%s Graph accepts only the members of '
                          'synchronizationSecret: %s.' % (key, hint, ', '.join(SECRET_KEYS)))
    return canonical


def secret_value(key, value):
    """A value as Graph stores it: a string; booleans as ``true``/``false``; a dict as compact JSON for the keys that
    hold a JSON document. Anything else (a list, a dict for another key) is refused naming the key, never the value:
    Graph would store its Python text as the credential."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, dict) and key in JSON_DOCUMENT_KEYS:
        return json.dumps(value, separators=(',', ':'), sort_keys=True)
    if value is None:
        return ''
    if not isinstance(value, (str, int, float)):
        raise TaskFailure('secrets: %s must be a string (or a number or boolean), got %s; give the value itself%s.'
                          % (key, type_name(value), ', not a list' if isinstance(value, (list, tuple)) else
                             (' (a dict is taken only for %s, which hold a JSON document)' % ' and '.join(sorted(JSON_DOCUMENT_KEYS))
                              if isinstance(value, dict) else '')))
    return str(value)


def desired_secrets(params):
    """The task's keys (canonical) -> string values, including SyncNotificationSettings built from the typed options
    later (see ``notification_settings``). Validates everything before any request."""
    secrets = params.get('secrets') or {}
    state = params.get('state') or 'present'
    result = {}
    for key, value in secrets.items():
        canonical = canonical_key(key)
        if canonical in result:
            raise TaskFailure('secrets: %s is given twice (keys are not case-sensitive); keep one.' % canonical)
        result[canonical] = secret_value(canonical, value)
        if state == 'present' and result[canonical] == '':
            raise TaskFailure('secrets: %s has an empty value; to remove the key use state=absent.' % canonical)
    typed = [option for option in ('notification_email', 'deletion_threshold') if params.get(option) is not None]
    skip = params.get('skip_out_of_scope_deletions')
    if (typed or skip is not None) and state == 'absent':
        raise TaskFailure('%s applies to state=present only; to remove the key, name %s in secrets with state=absent.'
                          % (' and '.join(typed + (['skip_out_of_scope_deletions'] if skip is not None else [])),
                             NOTIFICATION_SETTINGS if typed else SKIP_OUT_OF_SCOPE_DELETIONS))
    if typed and NOTIFICATION_SETTINGS in result:
        raise TaskFailure('%s and secrets.%s set the same key: use the typed options, or the raw key, not both.'
                          % (' and '.join(typed), NOTIFICATION_SETTINGS))
    if skip is not None:
        if SKIP_OUT_OF_SCOPE_DELETIONS in result:
            raise TaskFailure('skip_out_of_scope_deletions and secrets.%s set the same key: use the typed option, or the '
                              'raw key, not both.' % SKIP_OUT_OF_SCOPE_DELETIONS)
        result[SKIP_OUT_OF_SCOPE_DELETIONS] = 'True' if skip else 'False'
    if state == 'absent' and not result:
        raise TaskFailure('state=absent removes the keys named in secrets: name at least one key.')
    email = params.get('notification_email')
    if email is not None and email != '' and not _EMAIL.match(email.strip()):
        raise TaskFailure('notification_email: %r is not an e-mail address; give one address (for example '
                          'provisioning-alerts@contoso.com), or an empty string to turn notifications off.' % email)
    threshold = params.get('deletion_threshold')
    if threshold is not None and threshold < 0:
        raise TaskFailure('deletion_threshold must be 0 (turns accidental-deletion prevention off) or a positive number '
                          'of deletions, got %d.' % threshold)
    return result


def notification_settings(current_value, email, threshold):
    """The SyncNotificationSettings JSON for the typed options, merged into the current document (other fields kept).

    Returns ``(value, same)``: the string to send and whether it means the same as the current one.
    """
    current = None
    if current_value not in (None, '', MASKED):
        try:
            current = json.loads(current_value)
        except ValueError:
            current = None
    document = dict(current) if isinstance(current, dict) else dict(DEFAULT_NOTIFICATION_SETTINGS)
    if email is not None:
        email = email.strip()
        document['Enabled'] = bool(email)
        document['Recipients'] = email
    if threshold is not None:
        document['DeleteThresholdEnabled'] = threshold > 0
        if threshold > 0:
            document['DeleteThresholdValue'] = threshold
    return json.dumps(document, separators=(',', ':')), document == current


# --- planning (pure) --------------------------------------------------------------------------------------------------

def plan_secret_changes(current, desired, state='present', update_secrets='always', typed=None):
    """Plan one PUT from the current pairs (``[{key, value}]`` as Graph returns them) and the task's keys.

    ``typed`` is ``(notification_email, deletion_threshold)`` or None. Fails, before any write, when the PUT would
    drop a masked key the task does not name.
    """
    current_values = {}
    for pair in current or []:
        if isinstance(pair, dict) and pair.get('key'):
            current_values[pair['key']] = pair.get('value')
    desired = dict(desired)
    if typed is not None and any(option is not None for option in typed):
        value, same = notification_settings(current_values.get(NOTIFICATION_SETTINGS), typed[0], typed[1])
        if not same:
            desired[NOTIFICATION_SETTINGS] = value

    added, updated, removed = [], [], []
    if state == 'absent':
        removed = sorted(key for key in desired if key in current_values)
        final = dict((key, value) for key, value in current_values.items() if key not in desired)
    else:
        final = dict(current_values)
        for key, value in sorted(desired.items()):
            if key not in current_values:
                added.append(key)
            elif current_values[key] == MASKED:
                if update_secrets == 'always':
                    updated.append(key)
            elif not _same_value(current_values[key], value):
                updated.append(key)
            final[key] = value

    if not (added or updated or removed):
        return SecretPlan(None, [], [], [], sorted(current_values))

    # The PUT replaces the set: every key must be sent with its real value, and a masked one's value is unknown.
    unknown = sorted(key for key, value in final.items() if value == MASKED and key not in desired)
    if unknown:
        change = 'removing %s' % ', '.join(removed) if removed else 'setting %s' % ', '.join(added + updated)
        raise TaskFailure(
            '%s means sending the whole set of secrets back (Graph replaces it on every PUT), but Graph returns %s masked '
            '("*"), so %s cannot be sent back and would be lost. %s' % (
                change, ', '.join(unknown), 'its value' if len(unknown) == 1 else 'their values',
                'Name %s in secrets too (with state=absent, to remove %s as well, then set %s again with state=present).'
                % (', '.join(unknown), 'it' if len(unknown) == 1 else 'them', 'it' if len(unknown) == 1 else 'them')
                if state == 'absent' else 'Name %s in secrets too, with %s.' % (
                    ', '.join(unknown), 'its value' if len(unknown) == 1 else 'their values')),
            masked_keys=unknown)
    # A masked key the task names is sent with the task's value, the only one known: with on_create it may change.
    for key in sorted(desired):
        if state != 'absent' and current_values.get(key) == MASKED and key not in updated:
            updated.append(key)
    body = dict(value=[dict(key=key, value=value) for key, value in sorted(final.items())])
    kept = sorted(key for key in final if key not in added and key not in updated)
    return SecretPlan(body, sorted(added), sorted(updated), removed, kept)


def _same_value(current, desired):
    if current is None:
        return False
    if current.lower() in ('true', 'false') and desired.lower() in ('true', 'false'):
        return current.lower() == desired.lower()
    if current.startswith('{') and desired.startswith('{'):
        try:
            return json.loads(current) == json.loads(desired)
        except ValueError:
            pass
    return current == desired


def secrets_diff(current_keys, plan):
    """Before/after by key name; values never appear, only whether a key is set or sent with a new value."""
    before = dict((key, '(set)') for key in current_keys)
    after = dict((key, '(set)') for key in plan.kept)
    after.update((key, '(new value)') for key in plan.updated)
    after.update((key, '(set)') for key in plan.added)
    return dict(before=before, after=after)


# --- acting ---------------------------------------------------------------------------------------------------------

def run_synchronization_secret(task):
    params = task.params
    # In check mode a null service_principal_id stands for the one an earlier task would create (check mode of
    # application_from_template returns it with id null): the change is planned for a service principal without secrets.
    # (Ansible passes a null given for a required string option as an empty string.)
    planned_parent = task.check_mode and params.get('service_principal_id') in (None, '')
    sp_id = None if planned_parent else object_id('service_principal_id', params.get('service_principal_id'), 'service_principal')
    state = params.get('state') or 'present'
    desired = desired_secrets(params)
    for value in desired.values():
        # The raw values are masked already (no_log); these are their normalised forms. true/false are not worth
        # masking everywhere in the output (ansible/ansible#19278).
        if value.lower() not in ('true', 'false'):
            task.add_secret(value)
    typed = (params.get('notification_email'), params.get('deletion_threshold'))

    if planned_parent:
        client, path, current = None, None, []
    else:
        client = task.client()
        path = graph_path('/servicePrincipals/%s/synchronization/secrets', sp_id)
        current = read_secrets(client, path, sp_id, patient=state == 'present')
    for pair in current:
        if pair.get('key') in SENSITIVE_KEYS and pair.get('value') not in (None, MASKED):
            task.add_secret(pair.get('value'))
    current_keys = sorted(pair['key'] for pair in current if pair.get('key'))

    plan = plan_secret_changes(current, desired, state=state, update_secrets=params.get('update_secrets') or 'always',
                               typed=typed if state == 'present' else None)
    for pair in (plan.body or {}).get('value', []):
        if pair['key'] in SENSITIVE_KEYS:
            task.add_secret(pair['value'])

    result = dict(changed=plan.changed, added_keys=plan.added, updated_keys=plan.updated, removed_keys=plan.removed,
                  secret_keys=plan.keys_after, diff=secrets_diff(current_keys, plan))
    if plan.changed and not task.check_mode:
        client.write('PUT', path, body=plan.body)
        stored = confirm_stored(client, path, plan.keys_after)
        if stored != plan.keys_after:
            raise TaskFailure('Graph accepted the secrets but does not show the expected keys after %d s: expected %s, '
                              'found %s. Run the task again; if it persists, check the service principal in the Entra '
                              'portal (Provisioning > Admin credentials).'
                              % (REPLICATION_TIMEOUT, ', '.join(plan.keys_after), ', '.join(stored) or 'none'),
                              changed=True, secret_keys=stored)
        result['secret_keys'] = stored
    return result


def read_secrets(client, path, sp_id, patient):
    """The current pairs. A service principal created moments ago may answer 404/403 for a while (replication)."""
    try:
        page = client.get_eventually(path, within=REPLICATION_TIMEOUT) if patient else client.get(path)
    except GraphError as error:
        if error.status == 404:
            raise TaskFailure('service_principal_id %s was not found (Graph answered 404 for %s%s): give the object id of an '
                              'existing service principal.' % (sp_id, path, ', also after waiting %d s for replication'
                                                               % REPLICATION_TIMEOUT if patient else ''),
                              error=error.to_result())
        raise
    return [pair for pair in (page or {}).get('value') or [] if isinstance(pair, dict)]


def confirm_stored(client, path, expected, sleep=None, monotonic=None):
    """Read the keys back until they match what was sent (writes replicate too), for a bounded time."""
    kwargs = {}
    if sleep is not None:
        kwargs.update(sleep=sleep, monotonic=monotonic)
    outcome = poll(lambda: sorted(pair.get('key') for pair in (client.get(path) or {}).get('value') or []),
                   lambda keys: (keys == expected, None), REPLICATION_TIMEOUT, **kwargs)
    return outcome.last
