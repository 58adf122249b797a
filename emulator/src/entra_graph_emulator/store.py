"""The emulator's state: directory objects, application templates and synchronization state.

Everything is guarded by ``store.lock`` (re-entrant). Objects are Graph-shaped dicts
(camelCase). ``synchronization`` (service principal id -> state) belongs to
the synchronization package; the directory code never reads inside it.

Names in brackets, like [schedule], are public pages listed in docs/synchronization.md#sources.
"""

import datetime
import threading

from .odata import PageSnapshots


class StoreSettings:
    """Settings route modules read at run time (changed by the CLI and the control API)."""

    def __init__(self, tenant_id, cycle_seconds=2400.0):
        self.tenant_id = tenant_id
        # Length of one simulated provisioning cycle in emulated seconds (Azure2Azure and
        # gallery jobs show PT40M, [schedule]).
        self.cycle_seconds = float(cycle_seconds)
        # Seconds after creation during which a new object answers 404 (replication delay,
        # [instantiate guide]); set from the fault configuration.
        self.replication_delay_seconds = 0.0


class Store:
    """Directory state shared by all route modules."""

    def __init__(self, clock, tenant_id, cycle_seconds=2400.0):
        self.lock = threading.RLock()
        self.clock = clock
        self.settings = StoreSettings(tenant_id, cycle_seconds)
        self.applications = {}
        self.service_principals = {}
        self.application_templates = {}
        # object id -> clock time (datetime) of creation; seeded objects get a time far in the past.
        self.created_at = {}
        # service principal id -> whatever the synchronization package keeps (jobs, secrets, templates).
        self.synchronization = {}
        # The source directory behind provisioning jobs (people.py): users and groups (Graph-shaped),
        # group id -> member ids, and service principal id -> {principal id: appRoleAssignment}.
        # A service principal appears in app_role_assignments once anything was assigned to it.
        self.users = {}
        # casefolded userPrincipalName -> user id (lookups by UPN stay O(1) with 20,000 users)
        self.user_ids_by_upn = {}
        self.groups = {}
        self.group_members = {}
        self.app_role_assignments = {}
        # Change serials: object id -> the serial of its last change (incremental cycles read what changed).
        self.directory_serial = 0
        self.directory_changes = {}
        # Indexes kept by add_/remove_ helpers so lookups stay O(1) with 20,000 objects.
        self.service_principal_ids_by_app_id = {}
        self.application_ids_by_app_id = {}
        # Id lists of running paged scans (odata.paged_collection).
        self.page_snapshots = PageSnapshots()

    @property
    def tenant_id(self):
        return self.settings.tenant_id

    # -- creation times and replication -------------------------------------------------

    def mark_created(self, object_id, when=None):
        """Record that ``object_id`` (any object, e.g. a job id) was created now."""
        self.created_at[object_id] = when or self.clock.now()

    def seconds_since_created(self, object_id):
        """Emulated seconds since ``object_id`` was created, or None if unknown."""
        created = self.created_at.get(object_id)
        if created is None:
            return None
        return (self.clock.now() - created).total_seconds()

    def is_replicating(self, object_id):
        """True while a new object must still look absent (404), [instantiate guide]."""
        delay = self.settings.replication_delay_seconds
        if delay <= 0:
            return False
        age = self.seconds_since_created(object_id)
        return age is not None and age < delay

    # -- directory objects ------------------------------------------------------------

    def add_application(self, application, created=None):
        with self.lock:
            self.applications[application["id"]] = application
            self.application_ids_by_app_id[application["appId"].lower()] = application["id"]
            self.created_at[application["id"]] = created or self.clock.now()

    def add_service_principal(self, service_principal, created=None):
        with self.lock:
            self.service_principals[service_principal["id"]] = service_principal
            self.service_principal_ids_by_app_id[service_principal["appId"].lower()] = service_principal["id"]
            self.created_at[service_principal["id"]] = created or self.clock.now()

    def remove_service_principal(self, sp_id):
        """Remove a service principal; returns it (or None). Sync state is removed by the caller's hook."""
        with self.lock:
            service_principal = self.service_principals.pop(sp_id, None)
            if service_principal is None:
                return None
            app_key = service_principal["appId"].lower()
            if self.service_principal_ids_by_app_id.get(app_key) == sp_id:
                del self.service_principal_ids_by_app_id[app_key]
            self.created_at.pop(sp_id, None)
            self.synchronization.pop(sp_id, None)
            return service_principal

    def remove_application(self, app_object_id):
        with self.lock:
            application = self.applications.pop(app_object_id, None)
            if application is None:
                return None
            app_key = application["appId"].lower()
            if self.application_ids_by_app_id.get(app_key) == app_object_id:
                del self.application_ids_by_app_id[app_key]
            self.created_at.pop(app_object_id, None)
            return application

    def service_principal_by_app_id(self, app_id):
        sp_id = self.service_principal_ids_by_app_id.get(app_id.lower())
        return self.service_principals.get(sp_id) if sp_id else None

    def application_by_app_id(self, app_id):
        app_object_id = self.application_ids_by_app_id.get(app_id.lower())
        return self.applications.get(app_object_id) if app_object_id else None

    def clear_directory(self):
        """Forget every application, service principal and their synchronization state."""
        with self.lock:
            self.applications.clear()
            self.service_principals.clear()
            self.created_at.clear()
            self.synchronization.clear()
            self.service_principal_ids_by_app_id.clear()
            self.application_ids_by_app_id.clear()
            self.users.clear()
            self.user_ids_by_upn.clear()
            self.groups.clear()
            self.group_members.clear()
            self.app_role_assignments.clear()
            self.directory_changes.clear()

    def directory_changed(self, object_id):
        """Record a change to a user, a group or an assignment (read by incremental provisioning cycles)."""
        with self.lock:
            self.directory_serial += 1
            self.directory_changes[object_id] = self.directory_serial


SEEDED_LONG_AGO = datetime.timedelta(days=1)
