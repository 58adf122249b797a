"""Synchronization state: per service principal (templates, jobs, secrets) and store-wide (settings,
SCIM targets, rate limits); how a request finds the state it addresses; bringing jobs' cycles up to now.

Names in brackets, like [provisionOnDemand], are public pages listed in docs/synchronization.md#sources.
"""

import time

from . import provisioning
from . import simulation
from .. import people
from ..framework import GraphHttpError
from ..odata import decode_skiptoken
from ..odata import encode_skiptoken
from ..odata import next_link
from ..odata import parse_top
from .credentials import ALWAYS_MASKED_SECRET_KEYS
from .credentials import credential_problem
from .credentials import cycle_failure
from .template_catalog import catalog

# provisionOnDemand: "The rate limit for this API is 5 requests per 10 seconds." [provisionOnDemand]
PROVISION_ON_DEMAND_LIMIT = 5
PROVISION_ON_DEMAND_WINDOW_SECONDS = 10.0
PROVISIONING_LOG_DELAY_SECONDS = 1.0


class SynchronizationJob:
    """A job: identity, inherited settings, its schema (shared with the template until changed), runtime."""

    __slots__ = ("id", "template_id", "entry", "settings", "schema", "schema_version", "runtime", "provisioned_subjects",
                 "target", "escrow", "seen_serial", "force_deletes")

    def __init__(self, job_id, template_id, entry, settings):
        self.id = job_id
        self.template_id = template_id
        self.entry = entry
        self.settings = settings
        # None: the template's schema (copy-on-write; "a default synchronization schema", [create job]).
        self.schema = None
        self.schema_version = entry.schema.get("version")
        self.runtime = simulation.JobRuntime(job_id, _entry_type_keys(entry.schema))
        self.provisioned_subjects = set()
        # The simulated target's objects, by source object id (provisioning.py), the objects whose export failed
        # (retried next cycle: id -> object type), the directory change serial the last cycle saw, and whether
        # a restart with ForceDeletes allowed the staged deletes.
        self.target = {}
        self.escrow = {}
        self.seen_serial = 0
        self.force_deletes = False

    def current_schema(self):
        return self.schema if self.schema is not None else self.entry.schema


def _entry_type_keys(schema):
    """synchronizedEntryCountByType keys: docs are silent on their form; we chose
    "<source object> to <target object>" (lower case) from the enabled user and group mappings."""
    user_key = group_key = None
    for rule in schema.get("synchronizationRules") or []:
        for mapping in rule.get("objectMappings") or []:
            if not mapping.get("enabled"):
                continue
            source = str(mapping.get("sourceObjectName") or "")
            key = ("%s to %s" % (source, mapping.get("targetObjectName") or "")).lower()
            if source.lower() == "user" and user_key is None:
                user_key = key
            elif source.lower() == "group" and group_key is None:
                group_key = key
    return (user_key or "user to user", group_key)


class ServicePrincipalSynchronization:
    """store.synchronization[sp_id]: templates, jobs (in creation order) and saved secrets."""

    __slots__ = ("service_principal_id", "templates", "jobs", "secrets")

    def __init__(self, service_principal_id):
        self.service_principal_id = service_principal_id
        self.templates = {}
        self.jobs = {}
        # key -> value, in the order of the last PUT (PUT replaces the whole set, [Cloud Sync guide]).
        self.secrets = {}

    def masked_keys(self):
        keys = set(ALWAYS_MASKED_SECRET_KEYS)
        for entry in self.templates.values():
            keys |= entry.masked_keys
        return keys


class SynchronizationSettings:
    """Knobs of the synchronization routes (changed through the control API)."""

    def __init__(self):
        # Docs document no paging for jobs or templates ([paging], [our choice]): off by default; set a page
        # size to exercise clients' @odata.nextLink handling.
        self.page_size = None
        # PATCH on a schema: "reject" answers what the service answers (404 UnknownError from syncfabric,
        # https://github.com/microsoftgraph/msgraph-sdk-python/issues/820); "accept" treats it as PUT,
        # for tests of code that cannot avoid the SDKs' generated PATCH.
        self.schema_patch = "reject"
        self.provision_on_demand_limit = PROVISION_ON_DEMAND_LIMIT
        self.provision_on_demand_window_seconds = PROVISION_ON_DEMAND_WINDOW_SECONDS
        # Provisioning logs are eventually consistent; docs are silent on how long an entry takes to appear:
        # we chose 1 emulated second after its activityDateTime (0 shows entries at once).
        self.provisioning_log_delay_seconds = PROVISIONING_LOG_DELAY_SECONDS
        # False: the tenant has no Microsoft Entra ID P1/P2 licence, so provisioning logs answer 403.
        self.premium_license = True

    def to_dict(self):
        return {"page_size": self.page_size, "schema_patch": self.schema_patch,
                "provision_on_demand_limit": self.provision_on_demand_limit,
                "provision_on_demand_window_seconds": self.provision_on_demand_window_seconds,
                "provisioning_log_delay_seconds": self.provisioning_log_delay_seconds, "premium_license": self.premium_license}


class SynchronizationService:
    """Store-wide state of the synchronization routes: settings, simulated SCIM targets, the provisionOnDemand limiter."""

    def __init__(self):
        self.settings = SynchronizationSettings()
        # normalised base address -> frozenset of accepted secret tokens
        self.scim_targets = {}
        self.provision_on_demand_calls = {}
        # How the simulated target answers exports, and the tenant's provisioning log (oldest first).
        self.target_behaviour = provisioning.TargetBehaviour()
        self.provisioning_logs = []
        self.log_index = {}
        # Rate limits are measured in real time (the limit protects a real service from real clients).
        self.monotonic = time.monotonic

    def add_log_entries(self, entries):
        self.provisioning_logs.extend(entries)
        self.log_index.update((entry["id"], entry) for entry in entries)


def service(store):
    """The synchronization routes' store-wide state, kept on the store (created on first use)."""
    found = getattr(store, "synchronization_service", None)
    if found is None:
        with store.lock:
            found = getattr(store, "synchronization_service", None)
            if found is None:
                found = SynchronizationService()
                store.synchronization_service = found
    return found


# ---------------------------------------------------------------------------------------------
# Looking things up
# ---------------------------------------------------------------------------------------------

def not_found(object_id):
    return GraphHttpError(404, "Request_ResourceNotFound",
                          "Resource '%s' does not exist or one of its queried reference-property objects are not present." % object_id)


class _Root:
    """The synchronization a request addresses: a service principal's, reached directly or via its application."""

    __slots__ = ("state", "service_principal", "odata_path")

    def __init__(self, state, service_principal, odata_path):
        self.state = state
        self.service_principal = service_principal
        self.odata_path = odata_path


def new_state(service_principal, application_template):
    state = ServicePrincipalSynchronization(service_principal["id"])
    if application_template:
        application_id = application_template.get("id")
        for template_id in catalog().template_ids_for(application_template):
            state.templates[template_id] = catalog().entry(template_id, application_id)
    return state


def state_for(store, service_principal):
    """The SP's synchronization state; created (templates seeded) for SPs the hook never saw."""
    sp_id = service_principal["id"]
    state = store.synchronization.get(sp_id)
    if state is None:
        template = store.application_templates.get(service_principal.get("applicationTemplateId") or "")
        state = new_state(service_principal, template)
        store.synchronization[sp_id] = state
    return state


def find_root(request):
    store = request.store
    params = request.params
    if "sp_id" in params:
        sp_id = params["sp_id"]
        service_principal = store.service_principals.get(sp_id)
        if service_principal is None or store.is_replicating(sp_id):
            raise not_found(sp_id)
        return _Root(state_for(store, service_principal), service_principal, "servicePrincipals('%s')" % sp_id)
    app_id = params["app_id"]
    application = store.applications.get(app_id)
    if application is None or store.is_replicating(app_id):
        raise not_found(app_id)
    service_principal = store.service_principal_by_app_id(application["appId"])
    if service_principal is None:
        # Docs are silent: application routes share the service principal's state, so an
        # application without one has no synchronization.
        raise GraphHttpError(404, "Request_ResourceNotFound",
                             "The application '%s' has no service principal in this tenant, so it has no synchronization." % app_id)
    return _Root(state_for(store, service_principal), service_principal, "applications('%s')" % app_id)


def find_job(root, request):
    job_id = request.params["job_id"]
    job = root.state.jobs.get(job_id)
    if job is None or request.store.is_replicating(job_id):
        # Docs are silent on the code for an unknown job: we chose Graph's usual not-found error.
        raise not_found(job_id)
    return job


def find_template(root, template_id):
    entry = root.state.templates.get(template_id)
    if entry is None:
        raise not_found(template_id)
    return entry


def odata_context(request, root, suffix):
    return "%s/$metadata#%s/synchronization/%s" % (request.base_url, root.odata_path, suffix)


# ---------------------------------------------------------------------------------------------
# Jobs' cycles and collections
# ---------------------------------------------------------------------------------------------

def cycle_environment(store, state, job):
    targets = service(store).scim_targets

    def check():
        problem = credential_problem(job.entry.credential_kind, state.secrets, targets)
        return cycle_failure(problem) if problem else None

    directory_cycle = None
    if people.is_directory_backed(store, state.service_principal_id):
        def directory_cycle(at, full, serial):
            return provisioning.run_cycle(store, state, job, service(store), at, full, serial)

    return simulation.CycleEnvironment(store.settings.cycle_seconds, check, directory_cycle)


def advance_job(store, state, job, now):
    job.runtime.advance(now, cycle_environment(store, state, job))


def advance_jobs(store, state, now):
    """Bring every job up to now before changing what its cycles depend on."""
    for job in state.jobs.values():
        advance_job(store, state, job, now)


def paged(request, items, context):
    """A collection page: all of it, or pages of ``$top`` / the configured page size with @odata.nextLink [paging].

    Docs document no paging for jobs or templates [our choice], so nothing is paged unless asked. The token and
    link forms are the directory collections' (odata.py).
    """
    size = service(request.store).settings.page_size
    top = parse_top(request.query, default=None)
    if top is not None:
        size = min(size, top) if size else top
    token = request.query.get("$skiptoken")
    offset = decode_skiptoken(token)[1] if token else 0
    body = {"@odata.context": context}
    if not size:
        body["value"] = items[offset:]
        return body
    body["value"] = items[offset:offset + size]
    if offset + size < len(items):
        body["@odata.nextLink"] = next_link(request, request.path, encode_skiptoken("offset", offset + size))
    return body
