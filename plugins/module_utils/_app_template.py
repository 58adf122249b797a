# -*- coding: utf-8 -*-
# Copyright (c) entra.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the entra.provisioning collection: may change in any release without notice.

"""An application (and its service principal) instantiated from an application template.

Identity: the application made from ``template_id`` whose display name is ``display_name``. Graph offers no
idempotency key for ``instantiate`` (docs/graph-behaviour.md §3.5), so the application is looked up before anything is
created, and again after an instantiate that failed in a way that may still have created it (the "404, but created
anyway" trap that Terraform's azuread provider documents, docs/graph-behaviour.md §3.6), for as long as replication
can explain its absence (``instantiate``). We never instantiate under a temporary name and rename afterwards: a run
killed between the two would leave an application a re-run cannot find.

The new service principal is not readable at once (docs/graph-behaviour.md §3.6): we poll for it with backoff.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.entra.provisioning.plugins.module_utils._converge import (
    RESOLVE_SECONDS,
    Copies,
    keep_one,
    oldest_then_smallest_id,
    resolved,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_errors import (
    GraphAuthError,
    GraphError,
    GraphNotFound,
)
from ansible_collections.entra.provisioning.plugins.module_utils._graph_client import RetryPolicy
from ansible_collections.entra.provisioning.plugins.module_utils._polling import CONFIRM_WINDOW, look_for, poll
from ansible_collections.entra.provisioning.plugins.module_utils._task import TaskFailure, module_spec
from ansible_collections.entra.provisioning.plugins.module_utils._validate import (  # noqa: F401 pylint: disable=unused-import
    NON_GALLERY_TEMPLATE_ID,  # the non-gallery ("custom") application's template, used here and by the tests
    check_identity,
    graph_path,
    object_id,
)

MODULE_SPEC = module_spec(
    dict(
        template_id=dict(type='str'),
        template_name=dict(type='str'),
        display_name=dict(type='str', required=True),
        service_management_reference=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        wait_timeout=dict(type='int', default=300),
    ),
    mutually_exclusive=[('template_id', 'template_name')],
    required_one_of=[('template_id', 'template_name')],
)

# Fields read from the directory: enough to identify and report the objects, small on the wire.
_APPLICATION_SELECT = 'id,appId,displayName,applicationTemplateId,createdDateTime'
_SERVICE_PRINCIPAL_SELECT = 'id,appId,displayName,applicationTemplateId'


# ---------------------------------------------------------------------------------------------------------------
# Pure functions: options, selection, planning, results.
# ---------------------------------------------------------------------------------------------------------------

def check_options(params):
    """Fail on options no Graph call can fix, before any request: names the option and the fix."""
    display_name = params.get('display_name')
    if display_name is None or not display_name.strip():
        raise TaskFailure('display_name must not be empty: give the name the application shows in the portal.')
    if display_name != display_name.strip():
        raise TaskFailure('display_name %r has leading or trailing spaces, which Entra keeps and matches literally; '
                          'remove them.' % display_name)
    if params.get('template_id') is not None:
        object_id('template_id', params['template_id'], 'application_template')
    template_name = params.get('template_name')
    if template_name is not None and not template_name.strip():
        raise TaskFailure('template_name must not be empty: give the gallery name exactly, for example '
                          '"AWS Single-Account Access", or use template_id.')
    if params.get('wait_timeout') is not None and params['wait_timeout'] < 1:
        raise TaskFailure('wait_timeout must be at least 1 second (default 300).')


def odata_string(value):
    """``value`` as an OData string literal: single quotes doubled (OData ABNF ``SQUOTE-in-string``)."""
    return "'%s'" % value.replace("'", "''")


def select_template(candidates, name):
    """The one application template named ``name`` among ``candidates`` (Graph objects), or raise listing them.

    Graph compares display names case-insensitively; an exact-case match wins when it is unique.
    """
    same = [item for item in candidates if (item.get('displayName') or '').lower() == name.lower()]
    exact = [item for item in same if item.get('displayName') == name]
    if len(exact) == 1:
        return exact[0]
    if len(same) == 1:
        return same[0]
    if not same:
        if candidates:
            raise TaskFailure('No application template is named %r. Templates with similar names: %s. Give one of '
                              'these names exactly, or its id as template_id.'
                              % (name, describe_templates(candidates)))
        raise TaskFailure('No application template is named %r, and none has a similar name. Check the spelling in '
                          'the Entra gallery, or give the id as template_id (%s for a non-gallery application).'
                          % (name, NON_GALLERY_TEMPLATE_ID))
    raise TaskFailure('%d application templates are named %r: %s. Give the one you mean as template_id.'
                      % (len(same), name, describe_templates(same)))


def describe_templates(templates, limit=20):
    """``"Name" (id, publisher)`` for each template, for failure messages."""
    described = []
    for item in templates[:limit]:
        extra = item.get('id')
        if item.get('publisher'):
            extra = '%s, %s' % (extra, item['publisher'])
        described.append('"%s" (%s)' % (item.get('displayName'), extra))
    text = '; '.join(described)
    if len(templates) > limit:
        text += '; and %d more' % (len(templates) - limit)
    return text


def matching_applications(applications, template_id, display_name):
    """The applications made from ``template_id`` that are named ``display_name`` (case-insensitive, like Graph)."""
    template_id = template_id.lower()
    name = display_name.lower()
    return [app for app in applications
            if (app.get('applicationTemplateId') or '').lower() == template_id
            and (app.get('displayName') or '').lower() == name]


def single_application(matches, template_id, display_name):
    """The one match, None for none, or raise listing them: Entra allows duplicates, we never pick one at random."""
    if not matches:
        return None
    if len(matches) == 1:
        return matches[0]
    listed = ', '.join('%s (app_id %s, created %s)' % (app.get('id'), app.get('appId'), app.get('createdDateTime') or 'unknown')
                       for app in matches)
    raise TaskFailure('%d applications named %r were instantiated from template %s: %s. Delete the extra ones (or '
                      'rename them) so that exactly one remains, then run again.'
                      % (len(matches), display_name, template_id, listed))


def plan_application_actions(current, state):
    """The writes that take the tenant from ``current`` (an application or None) to ``state``."""
    if state == 'present':
        return [] if current else ['instantiate']
    return ['delete'] if current else []


def instantiate_may_have_created(error):
    """Whether a failed instantiate may still have created the application, so we must look before retrying.

    A clear refusal (400, 401, 403, 409, 429) created nothing. 404 is the documented "404, but created anyway"
    case; 5xx, 408 and a lost connection (no status) leave the outcome unknown (``RetryPolicy.outcome_unknown``).
    """
    if isinstance(error, GraphAuthError):
        return False
    return error.status == 404 or RetryPolicy.outcome_unknown(error)


def default_synchronization_template(templates):
    """The id of the synchronization template a job should use by default: the one marked default, or the only one."""
    defaults = [item for item in templates if item.get('default')]
    if len(defaults) == 1:
        return defaults[0].get('id')
    if len(templates) == 1:
        return templates[0].get('id')
    return None


def application_result(app):
    if not app:
        return None
    return dict(id=app.get('id') or app.get('objectId'), app_id=app.get('appId'), display_name=app.get('displayName'),
                application_template_id=app.get('applicationTemplateId'))


def service_principal_result(sp):
    if not sp:
        return None
    return dict(id=sp.get('id') or sp.get('objectId'), app_id=sp.get('appId'), display_name=sp.get('displayName'))


def synchronization_template_result(template):
    return dict(id=template.get('id'), default=bool(template.get('default')), factory_tag=template.get('factoryTag'),
                description=template.get('description'))


def predicted_application(template_id, display_name):
    """What check mode reports for an application that a real run would instantiate: ids are not known yet."""
    return dict(id=None, app_id=None, display_name=display_name, application_template_id=template_id)


def predicted_service_principal(display_name):
    return dict(id=None, app_id=None, display_name=display_name)


def diff_view(application, service_principal):
    """The before/after shape of diff mode: what exists, not the Graph payload."""
    if not application:
        return dict(state='absent')
    return dict(state='present', application=application, service_principal=service_principal)


# ---------------------------------------------------------------------------------------------------------------
# Reading and writing through the client.
# ---------------------------------------------------------------------------------------------------------------

def until_found(fetch, timeout):
    """Call ``fetch()`` with backoff until it returns something truthy or ``timeout`` seconds pass; the last value."""
    return poll(fetch, lambda value: (bool(value), None), timeout).last


def resolve_template(client, params):
    """``(template_id, template)``: ``template`` is the Graph object when it had to be read, else None."""
    if params.get('template_id'):
        return params['template_id'].strip().lower(), None
    name = params['template_name']
    found = client.list_all('/applicationTemplates', params={'$filter': 'displayName eq %s' % odata_string(name)})
    if not [item for item in found if (item.get('displayName') or '').lower() == name.lower()]:
        # Offer near names: Graph supports contains() on displayName here (docs/graph-behaviour.md §1.4).
        words = [word for word in re.split(r'\s+', name.strip()) if len(word) > 2] or [name.strip()]
        longest = max(words, key=len)
        found = client.list_all('/applicationTemplates',
                                params={'$filter': 'contains(displayName,%s)' % odata_string(longest), '$top': '20'})
    template = select_template(found, name)
    return template['id'].lower(), template


def read_template(client, template_id):
    """The application template ``template_id``, or a failure that says how to find the right id."""
    template = client.get_or_none(graph_path('/applicationTemplates/%s', template_id))
    check_identity('template_id', template_id, template, 'application template')
    if template is None:
        raise TaskFailure('template_id %s is not an application template of this cloud. Find the id in the Entra gallery '
                          'or with template_name; the non-gallery application is %s in the global service.'
                          % (template_id, NON_GALLERY_TEMPLATE_ID))
    return template


def find_applications(client, template_id, display_name):
    """Applications made from the template with that name. Filtered on the name only: every Graph version supports it."""
    found = client.list_all('/applications', params={'$filter': 'displayName eq %s' % odata_string(display_name),
                                                     '$select': _APPLICATION_SELECT})
    return matching_applications(found, template_id, display_name)


def find_service_principal(client, app_id):
    found = client.list_all('/servicePrincipals', params={'$filter': 'appId eq %s' % odata_string(app_id),
                                                          '$select': _SERVICE_PRINCIPAL_SELECT})
    return found[0] if found else None


def wait_for_service_principal(client, application, timeout):
    """The application's service principal, polled through replication delay; fail clearly if it never appears."""
    sp = until_found(lambda: find_service_principal(client, application['appId']), timeout)
    if sp is None:
        raise TaskFailure('The application %s (app_id %s) has no readable service principal after %d s. If it was just '
                          'created, run again later (or raise wait_timeout); if its service principal was deleted, '
                          'delete the application with state=absent and run again.'
                          % (application.get('id'), application['appId'], timeout))
    return sp


def list_synchronization_templates(client, sp_id, timeout, fresh):
    """The service principal's synchronization templates (an empty list: the application does not provision).

    A service principal created moments ago may answer 404 here for a while (docs/graph-behaviour.md §3.6): ``fresh`` ones are
    polled. For one that exists since earlier, a 404 means it has no synchronization at all.
    """
    path = graph_path('/servicePrincipals/%s/synchronization/templates', sp_id)
    if not fresh:
        try:
            return client.list_all(path)
        except GraphNotFound:
            return []

    def fetch():
        try:
            return ('ok', client.list_all(path))
        except GraphNotFound:
            return None

    outcome = until_found(fetch, timeout)
    if outcome is None:
        raise TaskFailure('The synchronization templates of service principal %s were still not readable after %d s; '
                          'run again later or raise wait_timeout.' % (sp_id, timeout))
    return outcome[1]


def instantiate(client, task, template_id, display_name, timeout):
    """POST instantiate; after an error that may have created the application, look for it before sending it again.

    The application is looked for only as long as replication can explain its absence (``CONFIRM_WINDOW``, at most
    ``timeout``), not for the whole ``timeout``: an instantiate refused by a gateway created nothing, and waiting 300 s
    for it helps no one. Nothing found, instantiate is sent again within the client's retry budget; should the first
    one show up late after all, ``keep_one_application`` keeps one. Terraform's azuread provider instead creates under
    a unique temporary name (TERRAFORM_UPDATE_<uuid>) that it can find without doubt, then renames; we do not, because
    a run killed between the two leaves an application that no later run finds by its name
    (https://github.com/hashicorp/terraform-provider-azuread/blob/main/internal/services/applications/application_registration_resource.go).

    Returns the Graph ``application`` object (the service principal is read separately).
    """
    body = dict(displayName=display_name)
    if task.params.get('service_management_reference'):
        body['serviceManagementReference'] = task.params['service_management_reference']
    path = graph_path('/applicationTemplates/%s/instantiate', template_id)

    def created_anyway():
        return look_for(lambda: find_applications(client, template_id, display_name), min(CONFIRM_WINDOW, timeout))

    created, found = client.write_confirmed('POST', path, created_anyway, body=body, may_have_processed=instantiate_may_have_created)
    if found:
        return single_application(found, template_id, display_name)
    application = (created or {}).get('application')
    if not application or not (application.get('id') or application.get('objectId')):
        # A 2xx without the documented body: re-read rather than guess.
        found = until_found(lambda: find_applications(client, template_id, display_name), timeout)
        if not found:
            raise TaskFailure('instantiate of template %s succeeded without returning the application, and no '
                              'application named %r appeared within %d s.' % (template_id, display_name, timeout))
        return single_application(found, template_id, display_name)
    application.setdefault('id', application.get('objectId'))
    return application


def failure_after_write(error, actions, application):
    """A failure once the application exists: the task still reports the change it made and what it created."""
    made = dict(changed=True, actions=actions, application=application_result(application))
    if isinstance(error, TaskFailure):
        return TaskFailure(error.msg, **dict(error.result, **made))
    return TaskFailure(str(error), error=error.to_result(), **made)


def keep_one_application(client, created, template_id, display_name, timeout, sent_at, warn):
    """After instantiate: one application of the template with that name (``_converge.keep_one``), the oldest.

    Several runs that instantiate at the same moment, or a run started again at once after a run killed right after its
    instantiate (an application created moments ago is not listed yet, docs/graph-behaviour.md §3.6), each create one.
    Every run keeps the one with the oldest ``createdDateTime`` (then the smallest id) and deletes the others with their
    service principals.
    """
    copies = Copies('application', 'named %r from template %s' % (display_name, template_id),
                    'the oldest createdDateTime, then the smallest id',
                    'in the Microsoft Entra admin center under App registrations, or with DELETE /applications/%s')

    return keep_one(created, lambda: find_applications(client, template_id, display_name), oldest_then_smallest_id,
                    lambda app_id: client.write('DELETE', graph_path('/applications/%s', app_id)), copies, sent_at, timeout,
                    warn).kept


# ---------------------------------------------------------------------------------------------------------------
# The module's entry point.
# ---------------------------------------------------------------------------------------------------------------

def run_application_from_template(task):
    params = task.params
    check_options(params)
    client = task.client()
    state = params['state']
    display_name = params['display_name']
    timeout = params['wait_timeout']

    template_id, template = resolve_template(client, params)
    # Several: runs that instantiated at the same moment may be deleting all but one (_converge).
    found = resolved(lambda: find_applications(client, template_id, display_name),
                     find_applications(client, template_id, display_name), min(timeout, RESOLVE_SECONDS))
    current = single_application(found, template_id, display_name)
    actions = plan_application_actions(current, state)

    current_sp = None
    if current and state == 'present':
        current_sp = wait_for_service_principal(client, current, timeout)
    elif current:
        # Only reported: deleting the application deletes its service principal, if it has one.
        current_sp = find_service_principal(client, current['appId'])
    before = diff_view(application_result(current), service_principal_result(current_sp))
    result = dict(changed=bool(actions), actions=actions, template_id=template_id)

    if state == 'absent':
        result.update(application=application_result(current), service_principal=service_principal_result(current_sp))
        if actions and not task.check_mode:
            try:
                client.write('DELETE', graph_path('/applications/%s', current['id']))
            except GraphNotFound:
                # Deleted by someone else between our read and our write: the desired state holds.
                result.update(changed=False, actions=[])
        result['diff'] = dict(before=before, after=diff_view(None, None))
        return result

    application, sp = current, current_sp
    if actions:
        if template is None:
            template = read_template(client, template_id)  # an unknown id must fail here, not look like the 404 trap
        if task.check_mode:
            predicted_app = predicted_application(template_id, display_name)
            predicted_sp = predicted_service_principal(display_name)
            result.update(application=predicted_app, service_principal=predicted_sp, synchronization_templates=[],
                          default_synchronization_template_id=None)
            result['diff'] = dict(before=before, after=diff_view(predicted_app, predicted_sp))
            return result
        sent_at = time.monotonic()
        application = instantiate(client, task, template_id, display_name, timeout)
        try:
            application = keep_one_application(client, application, template_id, display_name, timeout, sent_at, task.warn)
            sp = wait_for_service_principal(client, application, timeout)
            templates = list_synchronization_templates(client, sp['id'], timeout, fresh=True)
        except (TaskFailure, GraphError) as error:
            raise failure_after_write(error, actions, application)
    else:
        templates = list_synchronization_templates(client, sp['id'], timeout, fresh=False)

    result.update(
        application=application_result(application),
        service_principal=service_principal_result(sp),
        synchronization_templates=[synchronization_template_result(item) for item in templates],
        default_synchronization_template_id=default_synchronization_template(templates),
    )
    result['diff'] = dict(before=before, after=diff_view(result['application'], result['service_principal']))
    return result
