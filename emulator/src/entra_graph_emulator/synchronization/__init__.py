"""The synchronization surface of the Graph emulator (the API of [overview]).

Routes live under ``/servicePrincipals/{sp_id}/synchronization`` (documented) and
``/applications/{app_id}/synchronization`` (templates and schema updates are documented there; jobs
are metadata-only, as SDKs generate them). Docs are silent on how the two relate: we chose to resolve
an application to the service principal with the same appId, so both paths share one state.

State per service principal (``store.synchronization[sp_id]``, a ``ServicePrincipalSynchronization``):
its templates (seeded from the application template it was instantiated from), its jobs and its
saved secrets. Jobs run simulated provisioning cycles on the emulator's clock (simulation.py),
evaluated lazily whenever they are read or changed, so reads stay O(1) per job.

The modules, from the bottom up:

- ``datafiles``: the data folder (the expression language, ``..expressions``, and the schema checks,
  ``..schema_validation``, are pure sibling modules);
- ``credentials``: the secret vocabulary and the simulated targets that judge credentials;
- ``template_catalog``: synchronization templates and their schemas, loaded once;
- ``simulation``: a job's provisioning cycles on the emulator's clock;
- ``bodies``: request bodies checked against their documented shapes;
- ``state``: per-service-principal and store-wide state, finding what a request addresses;
- ``jobs``, ``actions`` (start, pause, restart, validateCredentials, provisionOnDemand), ``secrets``,
  ``schema``, ``templates``: the Graph routes;
- ``hooks``: what the emulator's core calls; ``control``: the ``/_emulator/synchronization`` routes.

This file assembles the route tables and names the hooks the core looks up.

Every quirk cites its source. Names in brackets, like [restart] or [quarantine guide], are public pages
(learn.microsoft.com, GitHub) listed once in docs/synchronization.md#sources; "docs are silent: we chose X"
and [our choice] mark our own choices (collected in docs/synchronization.md#choices-where-the-docs-are-silent).
"""

from ..permissions import PARSE_EXPRESSION
from ..permissions import PROVISION_ON_DEMAND
from ..permissions import PROVISIONING_LOGS_READ
from ..permissions import SCHEMA_READ
from ..permissions import SCHEMA_WRITE
from ..permissions import SYNC_READ
from ..permissions import SYNC_WRITE
from ..permissions import VALIDATE_CREDENTIALS
from . import actions
from . import control
from . import jobs
from . import logs
from . import schema
from . import secrets
from . import templates
from .datafiles import DATA_DIR
from .hooks import on_directory_changing
from .hooks import on_reset
from .hooks import on_service_principal_created
from .hooks import on_service_principal_deleted
from .hooks import seed_job
from .state import service

__all__ = [
    "CONTROL_ROUTES", "DATA_DIR", "ROUTES", "on_directory_changing", "on_reset", "on_service_principal_created",
    "on_service_principal_deleted", "seed_job", "service",
]

_SP_ROOT = "/servicePrincipals/{sp_id}/synchronization"
_APP_ROOT = "/applications/{app_id}/synchronization"


def _under(base, table):
    """The routes of ``table`` (method, path below ``base``, handler, permission) at ``base``."""
    return [(method, base + path, handler, permission) for method, path, handler, permission in table]


# Below a schema, a job's or a template's.
_SCHEMA_READ_ROUTES = [
    ("GET", "", schema.get_schema, SCHEMA_READ),
    ("GET", "/filterOperators()", schema.get_filter_operators, SYNC_READ),
    ("GET", "/filterOperators", schema.get_filter_operators, SYNC_READ),
    ("GET", "/functions()", schema.get_functions, SYNC_READ),
    ("GET", "/functions", schema.get_functions, SYNC_READ),
    ("POST", "/parseExpression", schema.parse_expression_action, PARSE_EXPRESSION),
    ("GET", "/directories", schema.list_directories, SYNC_READ),
    ("GET", "/directories/{directory_id}", schema.get_directory, SYNC_READ),
    ("POST", "/directories/{directory_id}/discover", schema.discover_directory, SCHEMA_WRITE),
]
_SCHEMA_WRITE_ROUTES = [
    ("PUT", "", schema.put_schema, SCHEMA_WRITE),
    # The docs use PUT; SDKs generate PATCH [schema update]: accepted unless schemaPatch is "reject".
    ("PATCH", "", schema.put_schema, SCHEMA_WRITE),
    ("DELETE", "", schema.delete_schema, SCHEMA_WRITE),
]

# Below /servicePrincipals/{sp_id}/synchronization and /applications/{app_id}/synchronization.
_SYNCHRONIZATION_ROUTES = [
    ("GET", "/jobs", jobs.list_jobs, SYNC_READ),
    ("GET", "/jobs/$count", jobs.count_jobs, SYNC_READ),
    ("POST", "/jobs", jobs.create_job, SYNC_WRITE),
    ("POST", "/jobs/validateCredentials", actions.validate_credentials, VALIDATE_CREDENTIALS),
    ("GET", "/jobs/{job_id}", jobs.get_job, SYNC_READ),
    ("DELETE", "/jobs/{job_id}", jobs.delete_job, SYNC_WRITE),
    ("POST", "/jobs/{job_id}/start", actions.start_job, SYNC_WRITE),
    ("POST", "/jobs/{job_id}/pause", actions.pause_job, SYNC_WRITE),
    ("POST", "/jobs/{job_id}/restart", actions.restart_job, SYNC_WRITE),
    ("POST", "/jobs/{job_id}/validateCredentials", actions.validate_job_credentials, VALIDATE_CREDENTIALS),
    ("POST", "/jobs/{job_id}/provisionOnDemand", actions.provision_on_demand, PROVISION_ON_DEMAND),
    ("GET", "/templates", templates.list_templates, SYNC_READ),
    ("GET", "/templates/{template_id}", templates.get_template, SYNC_READ),
    ("GET", "/secrets", secrets.get_secrets, SYNC_READ),
    ("PUT", "/secrets", secrets.put_secrets, SYNC_WRITE),
    ("POST", "/acquireAccessToken", secrets.acquire_access_token, SYNC_WRITE),
]


def _routes():
    routes = []
    for root in (_SP_ROOT, _APP_ROOT):
        routes += _under(root, _SYNCHRONIZATION_ROUTES)
        routes += _under(root + "/jobs/{job_id}/schema", _SCHEMA_READ_ROUTES + _SCHEMA_WRITE_ROUTES)
        # Template schemas are updated on the application only ([schema update]).
        template_schema = _SCHEMA_READ_ROUTES + (_SCHEMA_WRITE_ROUTES if root == _APP_ROOT else [])
        routes += _under(root + "/templates/{template_id}/schema", template_schema)
    routes += _under(_APP_ROOT, [
        ("POST", "/templates", templates.create_template, SYNC_WRITE),
        # The reference's request line says PATCH, its example PUT [template update]: both.
        ("PUT", "/templates/{template_id}", templates.update_template, SYNC_WRITE),
        ("PATCH", "/templates/{template_id}", templates.update_template, SYNC_WRITE),
    ])
    # The tenant's provisioning log [list provisioning logs].
    routes.append(("GET", "/auditLogs/provisioning", logs.list_provisioning_logs, PROVISIONING_LOGS_READ))
    return routes


ROUTES = _routes()

CONTROL_ROUTES = [
    ("GET", "/synchronization/settings", control.control_get_settings),
    ("PATCH", "/synchronization/settings", control.control_patch_settings),
    ("GET", "/synchronization/scimTargets", control.control_list_scim_targets),
    ("POST", "/synchronization/scimTargets", control.control_add_scim_target),
    ("DELETE", "/synchronization/scimTargets", control.control_clear_scim_targets),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs", control.control_seed_job),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs/{job_id}/quarantine", control.control_quarantine_job),
    ("POST", "/synchronization/servicePrincipals/{sp_id}/jobs/{job_id}/escrows", control.control_set_escrows),
    ("GET", "/synchronization/servicePrincipals/{sp_id}/jobs/{job_id}/target", control.control_target_objects),
    ("GET", "/synchronization/target", control.control_get_target),
    ("PUT", "/synchronization/target", control.control_put_target),
]
