"""The source directory behind provisioning jobs: users, groups, group members and assignments to applications.

Graph routes (read-only, like a tenant's directory as the provisioning service reads it):

- ``GET /users`` and ``/users/{id | userPrincipalName}`` ([list users]): default properties as Graph
  prints them without ``$select``, ``$select`` of any property below, ``$filter`` on ``id``
  (eq, in), ``userPrincipalName`` (eq, in, startswith), ``displayName`` (eq, startswith), ``mail`` (eq),
  ``accountEnabled`` (eq), ``department`` (eq), ``employeeId`` (eq), paging with ``@odata.nextLink``.
- ``GET /groups``, ``/groups/{id}`` ([list groups]) and ``/groups/{id}/members`` ([list group members]).
- ``GET /servicePrincipals/{id}/appRoleAssignedTo`` ([appRoleAssignedTo]): appRoleAssignment objects.

The control API (``/_emulator/directory/...``, documented in docs/emulator.md) adds, changes and deletes
users and groups, adds and removes group members and assigns principals to an application. Every change
first brings the provisioning jobs up to now (the ``on_directory_changing`` hook), so cycles that fell due
before the change see the directory as it was.

Names in brackets, like [list users], are public pages listed in docs/synchronization.md#sources.
"""

import datetime
import re
import uuid

from .directory import reject_unsupported_options
from .framework import GraphHttpError
from .framework import RouteTable
from .framework import json_response
from .framework import no_content
from .odata import FilterSpec
from .odata import context_url
from .odata import matches
from .odata import paged_collection
from .odata import parse_select
from .permissions import APP_ROLE_ASSIGNMENTS_READ
from .permissions import GROUP_MEMBERS_READ
from .permissions import GROUPS_READ
from .permissions import USERS_READ

ROUTES = RouteTable()

# [list users]: "By default, only a limited set of properties are returned".
USER_DEFAULT_PROPERTIES = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                           "preferredLanguage", "surname", "userPrincipalName", "id")
USER_PROPERTIES = USER_DEFAULT_PROPERTIES + (
    "accountEnabled", "city", "country", "department", "employeeId", "mailNickname", "state", "streetAddress", "postalCode",
    "usageLocation", "userType", "createdDateTime", "physicalDeliveryOfficeName", "telephoneNumber", "facsimileTelephoneNumber",
    "proxyAddresses", "companyName", "onPremisesSyncEnabled")
# [list groups] prints every property without $select; the emulator keeps the ones provisioning reads.
GROUP_PROPERTIES = ("id", "createdDateTime", "description", "displayName", "groupTypes", "mail", "mailEnabled", "mailNickname",
                    "securityEnabled", "visibility", "onPremisesSyncEnabled")
ASSIGNMENT_PROPERTIES = ("id", "deletedDateTime", "appRoleId", "createdDateTime", "principalDisplayName", "principalId", "principalType",
                         "resourceDisplayName", "resourceId")
# "The default role (00000000-0000-0000-0000-000000000000) is used when the application has no app roles" [appRoleAssignedTo].
DEFAULT_APP_ROLE_ID = "00000000-0000-0000-0000-000000000000"

USER_FILTERS = FilterSpec("User", {
    "id": {"eq", "in"}, "userPrincipalName": {"eq", "in", "startswith"}, "displayName": {"eq", "startswith"}, "mail": {"eq"},
    "accountEnabled": {"eq"}, "department": {"eq"}, "employeeId": {"eq"},
})
GROUP_FILTERS = FilterSpec("Group", {"id": {"eq", "in"}, "displayName": {"eq", "startswith"}, "mailNickname": {"eq"}})
ASSIGNMENT_FILTERS = FilterSpec("AppRoleAssignment", {"principalId": {"eq"}, "principalType": {"eq"}})

USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"


def _not_found(object_id):
    return GraphHttpError(404, "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects are not present." % object_id)


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Reading the directory (also used by the provisioning engine)
# ---------------------------------------------------------------------------------------------

def find_user(store, key):
    """A user by id or userPrincipalName (case-insensitive), or None."""
    user = store.users.get(key)
    if user is not None:
        return user
    return store.users.get(store.user_ids_by_upn.get(str(key or "").casefold()))


def put_user(store, user, old_upn=None):
    if old_upn is not None:
        store.user_ids_by_upn.pop(str(old_upn).casefold(), None)
    store.users[user["id"]] = user
    store.user_ids_by_upn[str(user["userPrincipalName"]).casefold()] = user["id"]


def assignments(store, sp_id):
    """principal id -> appRoleAssignment for ``sp_id`` (empty when nothing was ever assigned)."""
    return store.app_role_assignments.get(sp_id, {})


def is_directory_backed(store, sp_id):
    """True once anything was assigned to ``sp_id``: its jobs then provision the simulated directory."""
    return sp_id in store.app_role_assignments


def assigned_user_ids(store, sp_id):
    """Users assigned directly or through a directly assigned group (nested groups are not expanded:
    "group-based assignment doesn't support nested groups", [scoping filters])."""
    result = {}
    for principal_id, assignment in assignments(store, sp_id).items():
        if assignment["principalType"] == "User" and principal_id in store.users:
            result[principal_id] = True
        elif assignment["principalType"] == "Group":
            for member_id in store.group_members.get(principal_id, []):
                if member_id in store.users:
                    result[member_id] = True
    return list(result)


def assigned_group_ids(store, sp_id):
    return [principal_id for principal_id, assignment in assignments(store, sp_id).items()
            if assignment["principalType"] == "Group" and principal_id in store.groups]


def source_attributes(store, object_type, obj):
    """The object's attributes as the provisioning service reads them (mapping sources: objectId, IsSoftDeleted, members...)."""
    attributes = {key: value for key, value in obj.items() if not key.startswith("@")}
    attributes["objectId"] = obj["id"]
    attributes["IsSoftDeleted"] = "False" if obj.get("accountEnabled", True) else "True"
    if object_type == "group":
        attributes["members"] = list(store.group_members.get(obj["id"], []))
    return attributes


# ---------------------------------------------------------------------------------------------
# Graph routes
# ---------------------------------------------------------------------------------------------

def _list(request, collection, objects, filters, properties, type_name, defaults=None):
    store = request.store
    reject_unsupported_options(request, type_name)
    selected = parse_select(request.query, properties, type_name) or defaults
    raw_filter = request.query.get("$filter")
    clauses = filters.parse(raw_filter) if raw_filter else []

    def compute_ids():
        with store.lock:
            return [object_id for object_id, obj in objects().items() if not clauses or matches(obj, clauses)]

    def fetch(object_id):
        return objects().get(object_id)

    path = request.path if request.path.startswith("/") else "/" + request.path
    return json_response(paged_collection(request, collection, path, compute_ids, fetch, store.page_snapshots, selected))


def _entity(request, collection, obj, properties, type_name, defaults=None):
    selected = parse_select(request.query, properties, type_name) or defaults
    body = {"@odata.context": context_url(request, collection, selected) + "/$entity"}
    body.update({name: obj.get(name) for name in selected} if selected else obj)
    return json_response(body)


@ROUTES.route("GET", "/users", permission=USERS_READ)
def list_users(request):
    return _list(request, "users", lambda: request.store.users, USER_FILTERS, USER_PROPERTIES, "microsoft.graph.user",
                 list(USER_DEFAULT_PROPERTIES))


@ROUTES.route("GET", "/users/{user_id}", permission=USERS_READ)
def get_user(request):
    user = find_user(request.store, request.params["user_id"])
    if user is None:
        raise _not_found(request.params["user_id"])
    return _entity(request, "users", user, USER_PROPERTIES, "microsoft.graph.user", list(USER_DEFAULT_PROPERTIES))


@ROUTES.route("GET", "/groups", permission=GROUPS_READ)
def list_groups(request):
    return _list(request, "groups", lambda: request.store.groups, GROUP_FILTERS, GROUP_PROPERTIES, "microsoft.graph.group")


@ROUTES.route("GET", "/groups/{group_id}", permission=GROUPS_READ)
def get_group(request):
    group = request.store.groups.get(request.params["group_id"])
    if group is None:
        raise _not_found(request.params["group_id"])
    return _entity(request, "groups", group, GROUP_PROPERTIES, "microsoft.graph.group")


@ROUTES.route("GET", "/groups/{group_id}/members", permission=GROUP_MEMBERS_READ)
def list_group_members(request):
    store = request.store
    group_id = request.params["group_id"]
    if group_id not in store.groups:
        raise _not_found(group_id)

    def members():
        found = {}
        for member_id in store.group_members.get(group_id, []):
            member = store.users.get(member_id) or store.groups.get(member_id)
            if member is not None:
                # directoryObject collections carry each member's @odata.type [list group members].
                found[member_id] = dict(member, **{"@odata.type": USER_TYPE if member_id in store.users else GROUP_TYPE})
        return found

    return _list(request, "directoryObjects", members, FilterSpec("DirectoryObject", {"id": {"eq", "in"}}), USER_PROPERTIES + GROUP_PROPERTIES,
                 "microsoft.graph.directoryObject")


@ROUTES.route("GET", "/servicePrincipals/{sp_id}/appRoleAssignedTo", permission=APP_ROLE_ASSIGNMENTS_READ)
def list_app_role_assigned_to(request):
    store = request.store
    sp_id = request.params["sp_id"]
    if sp_id not in store.service_principals or store.is_replicating(sp_id):
        raise _not_found(sp_id)
    return _list(request, "servicePrincipals('%s')/appRoleAssignedTo" % sp_id, lambda: assignments(store, sp_id), ASSIGNMENT_FILTERS,
                 ASSIGNMENT_PROPERTIES, "microsoft.graph.appRoleAssignment")


# ---------------------------------------------------------------------------------------------
# Control routes (/_emulator/directory/...)
# ---------------------------------------------------------------------------------------------

def _body(request):
    body = request.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GraphHttpError(400, "BadRequest", "The body must be a JSON object.")
    return body


def _changing(request):
    """Bring every job up to now before the directory changes (cycles already due see the old directory)."""
    hook = request.emulator.hook("on_directory_changing")
    if hook is not None:
        hook(request.store)


def new_user(store, body, tenant_domain):
    """A Graph-shaped user from a control body (camelCase Graph properties; ``displayName`` or ``userPrincipalName`` required)."""
    unknown = sorted(set(body) - set(USER_PROPERTIES))
    if unknown:
        raise GraphHttpError(400, "BadRequest", "Unknown user properties: %s (known: %s)." % (", ".join(unknown), ", ".join(USER_PROPERTIES)))
    name = body.get("displayName") or str(body.get("userPrincipalName") or "").split("@", maxsplit=1)[0]
    if not name:
        raise GraphHttpError(400, "BadRequest", "A user needs displayName or userPrincipalName.")
    nickname = body.get("mailNickname") or re.sub(r"[^A-Za-z0-9]", "", name) or "user"
    upn = body.get("userPrincipalName") or "%s@%s" % (nickname.lower(), tenant_domain)
    if find_user(store, upn) is not None:
        raise GraphHttpError(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")
    user = {name_: None for name_ in USER_PROPERTIES}
    user.update({"businessPhones": [], "proxyAddresses": [], "accountEnabled": True, "userType": "Member", "mail": upn,
                 "mailNickname": nickname, "createdDateTime": _iso(store.clock.now())})
    user.update(body)
    user.update({"id": body.get("id") or str(uuid.uuid4()), "displayName": name, "userPrincipalName": upn})
    return user


def new_group(store, body):
    unknown = sorted(set(body) - set(GROUP_PROPERTIES) - {"members"})
    if unknown:
        raise GraphHttpError(400, "BadRequest", "Unknown group properties: %s (known: %s)." % (", ".join(unknown), ", ".join(GROUP_PROPERTIES)))
    if not body.get("displayName"):
        raise GraphHttpError(400, "BadRequest", "A group needs displayName.")
    group = {"id": body.get("id") or str(uuid.uuid4()), "createdDateTime": _iso(store.clock.now()), "description": None,
             "displayName": body["displayName"], "groupTypes": [], "mail": None, "mailEnabled": False,
             "mailNickname": re.sub(r"[^A-Za-z0-9]", "", body["displayName"]) or "group", "securityEnabled": True, "visibility": None,
             "onPremisesSyncEnabled": None}
    group.update({key: value for key, value in body.items() if key != "members"})
    return group


def control_add_user(request):
    body = _body(request)
    store = request.store
    with store.lock:
        _changing(request)
        user = new_user(store, body, request.emulator.tenant_domain)
        put_user(store, user)
        store.directory_changed(user["id"])
    return json_response(user, status=201)


def control_change_user(request):
    body = _body(request)
    store = request.store
    with store.lock:
        user = find_user(store, request.params["user_id"])
        if user is None:
            raise _not_found(request.params["user_id"])
        unknown = sorted(set(body) - set(USER_PROPERTIES) - {"id"})
        if unknown or body.get("id", user["id"]) != user["id"]:
            raise GraphHttpError(400, "BadRequest", "Unknown or read-only user properties: %s." % ", ".join(unknown or ["id"]))
        upn = body.get("userPrincipalName")
        if upn is not None and find_user(store, upn) not in (None, user):
            raise GraphHttpError(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists.")
        _changing(request)
        old_upn = user["userPrincipalName"]
        user.update(body)
        put_user(store, user, old_upn)
        store.directory_changed(user["id"])
    return json_response(user)


def _forget_principal(store, object_id):
    for group_id, members in store.group_members.items():
        if object_id in members:
            members.remove(object_id)
            store.directory_changed(group_id)
    for assigned in store.app_role_assignments.values():
        assigned.pop(object_id, None)


def control_delete_user(request):
    store = request.store
    with store.lock:
        user = find_user(store, request.params["user_id"])
        if user is None:
            raise _not_found(request.params["user_id"])
        _changing(request)
        del store.users[user["id"]]
        store.user_ids_by_upn.pop(str(user["userPrincipalName"]).casefold(), None)
        _forget_principal(store, user["id"])
        store.directory_changed(user["id"])
    return no_content()


def control_add_group(request):
    body = _body(request)
    store = request.store
    with store.lock:
        _changing(request)
        group = new_group(store, body)
        members = list(body.get("members") or [])
        missing = [member for member in members if member not in store.users and member not in store.groups]
        if missing:
            raise GraphHttpError(400, "BadRequest", "Unknown members: %s." % ", ".join(missing))
        store.groups[group["id"]] = group
        store.group_members[group["id"]] = list(dict.fromkeys(members))
        store.directory_changed(group["id"])
        for member in members:
            store.directory_changed(member)
    return json_response(dict(group, members=store.group_members[group["id"]]), status=201)


def control_change_group(request):
    body = _body(request)
    store = request.store
    with store.lock:
        group = store.groups.get(request.params["group_id"])
        if group is None:
            raise _not_found(request.params["group_id"])
        unknown = sorted(set(body) - set(GROUP_PROPERTIES) - {"id"})
        if unknown:
            raise GraphHttpError(400, "BadRequest", "Unknown group properties: %s." % ", ".join(unknown))
        _changing(request)
        group.update({key: value for key, value in body.items() if key != "id"})
        store.directory_changed(group["id"])
    return json_response(group)


def control_delete_group(request):
    store = request.store
    with store.lock:
        group_id = request.params["group_id"]
        if group_id not in store.groups:
            raise _not_found(group_id)
        _changing(request)
        for member in store.group_members.pop(group_id, []):
            store.directory_changed(member)
        del store.groups[group_id]
        _forget_principal(store, group_id)
        store.directory_changed(group_id)
    return no_content()


def control_add_member(request):
    body = _body(request)
    store = request.store
    with store.lock:
        group_id = request.params["group_id"]
        member = find_user(store, body.get("id") or "") or store.groups.get(body.get("id") or "")
        if group_id not in store.groups or member is None:
            raise _not_found(group_id if group_id not in store.groups else body.get("id"))
        _changing(request)
        members = store.group_members.setdefault(group_id, [])
        if member["id"] not in members:
            members.append(member["id"])
        store.directory_changed(member["id"])
        store.directory_changed(group_id)
    return no_content()


def control_remove_member(request):
    store = request.store
    with store.lock:
        group_id = request.params["group_id"]
        members = store.group_members.get(group_id, [])
        if request.params["member_id"] not in members:
            raise _not_found(request.params["member_id"])
        _changing(request)
        members.remove(request.params["member_id"])
        store.directory_changed(request.params["member_id"])
        store.directory_changed(group_id)
    return no_content()


def assign(store, sp_id, principal_id, app_role_id=None):
    """Assign a user or group to ``sp_id``; returns the appRoleAssignment ([appRoleAssignedTo] shape)."""
    service_principal = store.service_principals.get(sp_id)
    principal = store.users.get(principal_id) or store.groups.get(principal_id)
    if service_principal is None or principal is None:
        raise _not_found(sp_id if service_principal is None else principal_id)
    roles = [role["id"] for role in service_principal.get("appRoles") or [] if role.get("isEnabled", True)]
    role_id = app_role_id or (roles[0] if roles else DEFAULT_APP_ROLE_ID)
    assigned = store.app_role_assignments.setdefault(sp_id, {})
    assignment = {
        # An assignment's id is its own (Graph derives it from the principal; docs are silent on the form: we chose a GUID-like key).
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "%s/%s" % (sp_id, principal_id))),
        "deletedDateTime": None,
        "appRoleId": role_id,
        "createdDateTime": _iso(store.clock.now()),
        "principalDisplayName": principal.get("displayName"),
        "principalId": principal_id,
        "principalType": "User" if principal_id in store.users else "Group",
        "resourceDisplayName": service_principal.get("displayName"),
        "resourceId": sp_id,
    }
    assigned[principal_id] = assignment
    store.directory_changed(principal_id)
    for member in store.group_members.get(principal_id, []):
        store.directory_changed(member)
    return assignment


def control_assign(request):
    body = _body(request)
    store = request.store
    with store.lock:
        _changing(request)
        principal = find_user(store, body.get("principal_id") or body.get("principalId") or "")
        principal_id = principal["id"] if principal else (body.get("principal_id") or body.get("principalId"))
        assignment = assign(store, request.params["sp_id"], principal_id, body.get("app_role_id") or body.get("appRoleId"))
    return json_response(assignment, status=201)


def control_unassign(request):
    store = request.store
    with store.lock:
        assigned = store.app_role_assignments.get(request.params["sp_id"], {})
        principal_id = request.params["principal_id"]
        if principal_id not in assigned:
            raise _not_found(principal_id)
        _changing(request)
        del assigned[principal_id]
        store.directory_changed(principal_id)
        for member in store.group_members.get(principal_id, []):
            store.directory_changed(member)
    return no_content()


def control_list(request):
    store = request.store
    with store.lock:
        return json_response({"users": list(store.users.values()),
                              "groups": [dict(group, members=store.group_members.get(group["id"], [])) for group in store.groups.values()],
                              "assignments": {sp_id: list(assigned.values()) for sp_id, assigned in store.app_role_assignments.items()}})


CONTROL_ROUTES = [
    ("GET", "/directory", control_list),
    ("POST", "/directory/users", control_add_user),
    ("PATCH", "/directory/users/{user_id}", control_change_user),
    ("DELETE", "/directory/users/{user_id}", control_delete_user),
    ("POST", "/directory/groups", control_add_group),
    ("PATCH", "/directory/groups/{group_id}", control_change_group),
    ("DELETE", "/directory/groups/{group_id}", control_delete_group),
    ("POST", "/directory/groups/{group_id}/members", control_add_member),
    ("DELETE", "/directory/groups/{group_id}/members/{member_id}", control_remove_member),
    ("POST", "/directory/servicePrincipals/{sp_id}/assignments", control_assign),
    ("DELETE", "/directory/servicePrincipals/{sp_id}/assignments/{principal_id}", control_unassign),
]


def seed_people(store, tenant_domain, users=0, groups=0):
    """Seed ``users`` users (user1..N) and ``groups`` groups (group1..M, members spread round-robin) with deterministic ids."""
    created_users = []
    for index in range(1, users + 1):
        body = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "emulator-user-%d" % index)), "displayName": "User %d" % index,
                "givenName": "User", "surname": str(index), "mailNickname": "user%d" % index, "department": ("Sales", "Engineering")[index % 2],
                "jobTitle": "Employee", "employeeId": "E%04d" % index}
        user = new_user(store, body, tenant_domain)
        put_user(store, user)
        created_users.append(user["id"])
    for index in range(1, groups + 1):
        group = new_group(store, {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "emulator-group-%d" % index)), "displayName": "Group %d" % index})
        store.groups[group["id"]] = group
        store.group_members[group["id"]] = created_users[index - 1::groups]
