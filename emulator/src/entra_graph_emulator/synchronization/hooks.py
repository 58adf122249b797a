"""Hooks the emulator's core calls: a service principal created or deleted, a reset, and seeding jobs.

server.py looks them up by name on the synchronization package (``EmulatorServer.hook``).

Names in brackets, like [SCIM template notes], are public pages listed in docs/synchronization.md#sources.
"""

from . import simulation
from .credentials import SCIM_INVALID_CREDENTIALS
from .credentials import CredentialProblem
from .credentials import credential_problem
from .credentials import cycle_failure
from .credentials import seed_secrets
from .jobs import create_job_in_state
from .state import SynchronizationService
from .state import advance_jobs
from .state import new_state
from .state import state_for
from .template_catalog import catalog


def on_service_principal_created(store, service_principal, application_template):
    """Seed the SP's synchronization templates from its application template.

    Gallery templates map to their documented sync templates (data/templates.json); the
    non-gallery template gives ``scim`` (default) plus the legacy ``customappsso`` templates
    [SCIM template notes]; an application template without "sync" in
    supportedProvisioningTypes gives none.
    """
    with store.lock:
        store.synchronization[service_principal["id"]] = new_state(service_principal, application_template)


def on_service_principal_deleted(store, sp_id):
    with store.lock:
        state = store.synchronization.pop(sp_id, None)
        if state is not None:
            for job_id in state.jobs:
                store.created_at.pop(job_id, None)


def on_directory_changing(store):
    """Bring every job up to now before a user, group or assignment changes (people.py's control routes):
    cycles that fell due earlier must see the directory as it was."""
    with store.lock:
        now = store.clock.now()
        for state in store.synchronization.values():
            advance_jobs(store, state, now)


def on_reset(store):
    """Forget the synchronization package's store-wide state (settings, SCIM targets, rate-limit counters).

    The emulator's reset clears ``store.synchronization``; this clears the rest.
    """
    with store.lock:
        store.synchronization_service = SynchronizationService()


def _default_template_id(state):
    for template_id, entry in state.templates.items():
        if entry.template.get("default"):
            return template_id
    return next(iter(state.templates), None)


def seed_job(store, sp_id, template_id, state):
    """Create a job on ``sp_id`` whose history ends in ``state`` (simulation.SEED_STATES); returns its id.

    ``template_id`` None means the SP's default template. States other than ``not_configured``
    save valid credentials on the SP when it has none; ``quarantine`` shows the template's
    credential error and keeps failing until started or restarted. Cheap: no schema copies.
    """
    if state not in simulation.SEED_STATES:
        raise ValueError("unknown job state %r; expected one of %s" % (state, ", ".join(simulation.SEED_STATES)))
    with store.lock:
        service_principal = store.service_principals.get(sp_id)
        if service_principal is None:
            raise ValueError("unknown service principal %s" % sp_id)
        sync_state = state_for(store, service_principal)
        template_id = template_id or _default_template_id(sync_state) or "scim"
        if template_id not in sync_state.templates:
            application_id = service_principal.get("applicationTemplateId") or service_principal.get("appId")
            sync_state.templates[template_id] = catalog().entry(template_id, application_id)
        job = create_job_in_state(store, sync_state, template_id)
        # Seeded jobs exist already: no replication window.
        store.created_at.pop(job.id, None)
        kind = job.entry.credential_kind
        if state != "not_configured" and not sync_state.secrets:
            sync_state.secrets = seed_secrets(kind)
        environment = simulation.CycleEnvironment(store.settings.cycle_seconds)
        # A seeded quarantine shows the error the template's target gives for missing credentials.
        problem = credential_problem(kind, {}, {}) or CredentialProblem(SCIM_INVALID_CREDENTIALS, "Please provide a valid tenant URL for your application.")
        simulation.seed_runtime(job.runtime, state, store.clock.now(), environment, failure=cycle_failure(problem))
        return job.id
