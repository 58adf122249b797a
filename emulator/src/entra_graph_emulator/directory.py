"""Directory routes: servicePrincipals and applications (list, get, get by appId, delete).

Lists page with ``@odata.nextLink`` (default 100, ``$top`` up to 999), support ``$select``,
``$count`` (with ConsistencyLevel: eventual) and these ``$filter`` forms joined by ``and``:
``appId eq``, ``displayName eq``, ``startswith(displayName,…)``, ``id in (…)``, ``appId in (…)``,
``tags/any(t:t eq …)``, ``servicePrincipalType eq``, ``applicationTemplateId eq``,
``accountEnabled eq true|false`` ([paging], [advanced queries]). Anything else answers
400 ``Request_UnsupportedQuery``. New objects answer 404 while replicating [instantiate guide].

Names in brackets, like [paging], are public pages listed in docs/synchronization.md#sources.
"""

import collections

from .framework import GraphHttpError
from .framework import RouteTable
from .framework import json_response
from .framework import no_content
from .objects import APPLICATION_PROPERTIES
from .objects import SERVICE_PRINCIPAL_PROPERTIES
from .odata import FilterSpec
from .odata import check_count
from .odata import context_url
from .odata import matches
from .odata import paged_collection
from .odata import parse_select
from .permissions import DIRECTORY_READ
from .permissions import DIRECTORY_WRITE

ROUTES = RouteTable()

SERVICE_PRINCIPAL_TYPE = "microsoft.graph.servicePrincipal"
APPLICATION_TYPE = "microsoft.graph.application"

SERVICE_PRINCIPAL_FILTERS = FilterSpec("ServicePrincipal", {
    "id": {"eq", "in"}, "appId": {"eq", "in"}, "displayName": {"eq", "startswith"}, "tags": {"any"},
    "servicePrincipalType": {"eq"}, "applicationTemplateId": {"eq"}, "accountEnabled": {"eq"},
})
APPLICATION_FILTERS = FilterSpec("Application", {
    "id": {"eq", "in"}, "appId": {"eq", "in"}, "displayName": {"eq", "startswith"}, "tags": {"any"},
    "applicationTemplateId": {"eq"},
})

_UNSUPPORTED_OPTIONS = ("$orderby", "$search", "$skip", "$expand")


# A directory collection: its URL segment, the store's attributes holding it, its appId index and its lookup by appId,
# and what its queries may name.
_Collection = collections.namedtuple("_Collection", "name objects index_by_app_id by_app_id filters properties type_name")


SERVICE_PRINCIPALS = _Collection("servicePrincipals", "service_principals", "service_principal_ids_by_app_id", "service_principal_by_app_id",
                                 SERVICE_PRINCIPAL_FILTERS, SERVICE_PRINCIPAL_PROPERTIES, SERVICE_PRINCIPAL_TYPE)
APPLICATIONS = _Collection("applications", "applications", "application_ids_by_app_id", "application_by_app_id",
                           APPLICATION_FILTERS, APPLICATION_PROPERTIES, APPLICATION_TYPE)


def not_found(object_id):
    return GraphHttpError(404, "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects are not present." % object_id)


def reject_unsupported_options(request, type_name):
    for option in _UNSUPPORTED_OPTIONS:
        if option in request.query:
            # docs are silent on which options an emulator must honour: we serve the ones
            # Graph's docs use for these collections ([paging], [advanced queries] in docs/synchronization.md#sources)
            # and refuse the rest loudly rather than ignore them.
            raise GraphHttpError(400, "Request_UnsupportedQuery", "The query option '%s' is not supported by the emulator on %s." % (option, type_name))


def _candidate_ids(store, objects, index_by_app_id, clauses):
    """Narrow the scan with the indexes (appId eq / id in) before filtering."""
    for name, operator, value in clauses:
        if name == "id" and operator in ("eq", "in"):
            values = [value] if operator == "eq" else value
            return [item for item in dict.fromkeys(values) if item in objects]
        if name == "appId" and operator in ("eq", "in"):
            values = [value] if operator == "eq" else value
            found = [index_by_app_id.get(str(item).lower()) for item in dict.fromkeys(values)]
            return [item for item in found if item]
    del store
    return list(objects)


def _list(request, kind):
    store = request.store
    collection, objects, index_by_app_id = kind.name, getattr(store, kind.objects), getattr(store, kind.index_by_app_id)
    filters, properties, type_name = kind.filters, kind.properties, kind.type_name
    reject_unsupported_options(request, type_name)
    selected = parse_select(request.query, properties, type_name)
    count = check_count(request)
    raw_filter = request.query.get("$filter")
    clauses = filters.parse(raw_filter) if raw_filter else []

    def compute_ids():
        with store.lock:
            candidates = _candidate_ids(store, objects, index_by_app_id, clauses)
            checking_replication = store.settings.replication_delay_seconds > 0
            result = []
            for object_id in candidates:
                obj = objects.get(object_id)
                if obj is None or (clauses and not matches(obj, clauses)):
                    continue
                if checking_replication and store.is_replicating(object_id):
                    continue
                result.append(object_id)
            return result

    def fetch(object_id):
        return objects.get(object_id)

    body = paged_collection(request, collection, "/" + collection, compute_ids, fetch, store.page_snapshots, selected, count)
    return json_response(body)


def _get(request, kind, object_id):
    store = request.store
    obj = getattr(store, kind.objects).get(object_id)
    if obj is None or store.is_replicating(object_id):
        raise not_found(object_id)
    selected = parse_select(request.query, kind.properties, kind.type_name)
    body = {"@odata.context": context_url(request, kind.name, selected) + "/$entity"}
    body.update({name: obj.get(name) for name in selected} if selected else obj)
    return json_response(body)


def _get_by_app_id(request, kind):
    """The alternate-key GET returns one entity ([overview], [advanced queries])."""
    obj = getattr(request.store, kind.by_app_id)(request.params["app_id"])
    if obj is None:
        raise not_found(request.params["app_id"])
    return _get(request, kind, obj["id"])


def delete_service_principal_and_state(request, sp_id):
    """Remove a service principal, letting the synchronization package drop its state first."""
    hook = request.emulator.hook("on_service_principal_deleted")
    with request.store.lock:
        if sp_id not in request.store.service_principals:
            return False
        if hook is not None:
            hook(request.store, sp_id)
        request.store.remove_service_principal(sp_id)
    return True


# -- servicePrincipals ------------------------------------------------------------------

@ROUTES.route("GET", "/servicePrincipals", permission=DIRECTORY_READ)
def list_service_principals(request):
    return _list(request, SERVICE_PRINCIPALS)


@ROUTES.route("GET", "/servicePrincipals/{sp_id}", permission=DIRECTORY_READ)
def get_service_principal(request):
    return _get(request, SERVICE_PRINCIPALS, request.params["sp_id"])


@ROUTES.route("GET", "/servicePrincipals(appId='{app_id}')", permission=DIRECTORY_READ)
def get_service_principal_by_app_id(request):
    return _get_by_app_id(request, SERVICE_PRINCIPALS)


@ROUTES.route("DELETE", "/servicePrincipals/{sp_id}", permission=DIRECTORY_WRITE)
def delete_service_principal(request):
    if not delete_service_principal_and_state(request, request.params["sp_id"]):
        raise not_found(request.params["sp_id"])
    return no_content()


# -- applications -----------------------------------------------------------------------

@ROUTES.route("GET", "/applications", permission=DIRECTORY_READ)
def list_applications(request):
    return _list(request, APPLICATIONS)


@ROUTES.route("GET", "/applications/{application_id}", permission=DIRECTORY_READ)
def get_application(request):
    return _get(request, APPLICATIONS, request.params["application_id"])


@ROUTES.route("GET", "/applications(appId='{app_id}')", permission=DIRECTORY_READ)
def get_application_by_app_id(request):
    return _get_by_app_id(request, APPLICATIONS)


@ROUTES.route("DELETE", "/applications/{application_id}", permission=DIRECTORY_WRITE)
def delete_application(request):
    """Deleting an application deletes its service principal too (and its synchronization state)."""
    store = request.store
    with store.lock:
        application = store.remove_application(request.params["application_id"])
        if application is None:
            raise not_found(request.params["application_id"])
        service_principal = store.service_principal_by_app_id(application["appId"])
        if service_principal is not None:
            delete_service_principal_and_state(request, service_principal["id"])
    return no_content()
