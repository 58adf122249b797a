"""Start the emulator from tests (ours and users' own pytest suites).

    from entra_graph_emulator.testing import EmulatorProcess

    with EmulatorProcess(tmp_path / "emu") as emulator:
        env = emulator.connection_env()           # AZURE_* / ENTRA_* variables
        emulator.set_faults({"latency_ms": 50})
        ...
        writes = [e for e in emulator.requests_log() if e["write"]]

Control calls pass ``verify=<ca_path>`` per request: a machine-wide REQUESTS_CA_BUNDLE would
otherwise override a Session's verify (https://github.com/psf/requests/issues/3829).
"""

import json
import os
import subprocess
import sys
import time

import requests


class EmulatorStartError(RuntimeError):
    """The emulator process died or did not write its info file in time."""


class EmulatorProcess:
    """The emulator CLI as a subprocess of the current interpreter."""

    def __init__(self, state_dir, port=0, faults=None, extra_args=(), start_timeout=15.0):
        self.state_dir = os.path.abspath(str(state_dir))
        self.port = port
        self.faults = faults
        self.extra_args = [str(arg) for arg in extra_args]
        self.start_timeout = start_timeout
        self.info = None
        self.process = None
        self._session = requests.Session()
        self._stdout = None
        self._stderr = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        info_file = os.path.join(self.state_dir, "info.json")
        if os.path.exists(info_file):
            os.remove(info_file)
        command = [sys.executable, "-m", __package__, "--port", str(self.port), "--state-dir", self.state_dir, "--info-file", info_file]
        if self.faults is not None:
            faults_file = os.path.join(self.state_dir, "faults.json")
            with open(faults_file, "w", encoding="utf-8") as handle:
                json.dump(self.faults, handle)
            command += ["--faults", faults_file]
        command += self.extra_args
        self._stdout = open(os.path.join(self.state_dir, "stdout.log"), "wb")  # pylint: disable=consider-using-with
        self._stderr = open(os.path.join(self.state_dir, "stderr.log"), "wb")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(command, stdout=self._stdout, stderr=self._stderr)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorStartError("the emulator exited with %s:\n%s" % (self.process.returncode, self.stderr_text()))
            if os.path.exists(info_file):
                with open(info_file, encoding="utf-8") as handle:
                    self.info = json.load(handle)
                return self
            time.sleep(0.05)
        self.stop()
        raise EmulatorStartError("the emulator did not start within %.0f s:\n%s" % (self.start_timeout, self.stderr_text()))

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for handle in (self._stdout, self._stderr):
            if handle is not None:
                handle.close()
        self._stdout = self._stderr = None
        self._session.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def stderr_text(self):
        path = os.path.join(self.state_dir, "stderr.log")
        if not os.path.exists(path):
            return ""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    # -- facts ----------------------------------------------------------------------

    @property
    def url(self):
        return self.info["url"]

    @property
    def ca_path(self):
        return self.info["ca_path"]

    @property
    def tenant_id(self):
        return self.info["tenant_id"]

    def connection_env(self):
        """Environment variables for our modules (the demo app's credentials)."""
        return connection_env(self.info)

    # -- control API ----------------------------------------------------------------

    def control(self, method, path, json_body=None, params=None, expected=(200, 201, 204)):
        """Call ``/_emulator{path}``; returns the parsed JSON (or None for 204)."""
        response = self._session.request(method, "%s/_emulator%s" % (self.url, path), json=json_body, params=params,
                                         verify=self.ca_path, timeout=120)
        if response.status_code not in expected:
            raise RuntimeError("%s /_emulator%s answered %s: %s" % (method, path, response.status_code, response.text))
        return response.json() if response.content else None

    def requests_log(self, since=0):
        return self.control("GET", "/requests", params={"since": since})["requests"]

    def writes(self, since=0):
        """The logged requests that changed something (POST, PUT, PATCH, DELETE; not token requests nor $batch of reads)."""
        return [entry for entry in self.requests_log(since) if entry["write"]]

    def graph_requests(self, since=0):
        """The logged Graph requests ($batch containers included, their items and token requests not)."""
        return [entry for entry in self.requests_log(since) if entry["kind"] in ("graph", "batch")]

    def clear_log(self):
        self.control("DELETE", "/requests")

    def set_faults(self, config):
        return self.control("PUT", "/faults", config)

    def faults_state(self):
        return self.control("GET", "/faults")

    def reset(self, **options):
        return self.control("POST", "/reset", options)

    def register_app(self, client_id=None, client_secret=None, roles=(), certificate_pem=None, federated_credentials=None,
                     managed_identity=None, **extra):
        spec = dict(extra, roles=list(roles))
        for key, value in (("client_id", client_id), ("client_secret", client_secret), ("certificate_pem", certificate_pem),
                           ("federated_credentials", federated_credentials), ("managed_identity", managed_identity)):
            if value is not None:
                spec[key] = value
        return self.control("POST", "/apps", spec)

    def seed(self, service_principals, with_jobs=0, **options):
        return self.control("POST", "/seed", dict(options, service_principals=service_principals, with_jobs=with_jobs))

    def advance_clock(self, seconds):
        return self.control("POST", "/clock", {"advance_seconds": seconds})

    # -- the directory behind provisioning jobs (docs/emulator.md "Directory") ------------

    def directory(self):
        """``{"users": [...], "groups": [... with "members"], "assignments": {sp id: [...]}}``."""
        return self.control("GET", "/directory")

    def add_user(self, display_name=None, **properties):
        """Create a user (Graph property names, e.g. ``userPrincipalName``, ``department``); returns it."""
        if display_name is not None:
            properties["displayName"] = display_name
        return self.control("POST", "/directory/users", properties)

    def change_user(self, user, **properties):
        """Change a user (by id or userPrincipalName)."""
        return self.control("PATCH", "/directory/users/%s" % user, properties)

    def delete_user(self, user):
        self.control("DELETE", "/directory/users/%s" % user)

    def add_group(self, display_name, members=(), **properties):
        return self.control("POST", "/directory/groups", dict(properties, displayName=display_name, members=list(members)))

    def change_group(self, group_id, **properties):
        return self.control("PATCH", "/directory/groups/%s" % group_id, properties)

    def delete_group(self, group_id):
        self.control("DELETE", "/directory/groups/%s" % group_id)

    def add_member(self, group_id, member_id):
        self.control("POST", "/directory/groups/%s/members" % group_id, {"id": member_id})

    def remove_member(self, group_id, member_id):
        self.control("DELETE", "/directory/groups/%s/members/%s" % (group_id, member_id))

    def assign(self, service_principal_id, principal_id, app_role_id=None):
        """Assign a user or group to the application (appRoleAssignedTo); its jobs then provision the directory."""
        body = {"principal_id": principal_id}
        if app_role_id:
            body["app_role_id"] = app_role_id
        return self.control("POST", "/directory/servicePrincipals/%s/assignments" % service_principal_id, body)

    def unassign(self, service_principal_id, principal_id):
        self.control("DELETE", "/directory/servicePrincipals/%s/assignments/%s" % (service_principal_id, principal_id))

    def set_target(self, mode="accept", objects=None):
        """How the simulated target answers exports: ``mode`` for all objects, ``objects`` {id or UPN: behaviour}
        (accept, conflict, invalid_value, unauthorized, unreachable)."""
        return self.control("PUT", "/synchronization/target", {"mode": mode, "objects": dict(objects or {})})

    def target_objects(self, service_principal_id, job_id):
        """What the simulated target holds for a job: [{source_id, id, object_type, attributes, disabled}]."""
        return self.control("GET", "/synchronization/servicePrincipals/%s/jobs/%s/target" % (service_principal_id, job_id))["value"]

    def sync_settings(self, **settings):
        """Change the synchronization settings (page_size, provision_on_demand_limit, provisioning_log_delay_seconds,
        premium_license, ...); returns them all."""
        return self.control("PATCH", "/synchronization/settings", settings)


def connection_env(info):
    """AZURE_* / ENTRA_* variables for an emulator's info dict."""
    return {
        "AZURE_TENANT_ID": info["tenant_id"],
        "AZURE_CLIENT_ID": info["client_id"],
        "AZURE_CLIENT_SECRET": info["client_secret"],
        "AZURE_AUTHORITY_HOST": info["authority_host"],
        "ENTRA_GRAPH_ENDPOINT": info["graph_endpoint"],
        "ENTRA_CA_PATH": info["ca_path"],
    }
