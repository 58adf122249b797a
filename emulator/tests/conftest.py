"""Fixtures: one in-process emulator per test module, HTTPS clients that trust its CA."""

import pytest
import requests

from entra_graph_emulator.server import EmulatorServer


class VerifyingSession(requests.Session):
    """A Session that passes ``verify=<ca>`` per request (beats REQUESTS_CA_BUNDLE, the collection's docs/graph-behaviour.md §7.1)."""

    def __init__(self, ca_path):
        super().__init__()
        self.ca_path = ca_path

    def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
        kwargs.setdefault("verify", self.ca_path)
        kwargs.setdefault("timeout", 60)
        return super().request(method, url, *args, **kwargs)


class GraphClient:
    """A tiny test client: token from the emulator (client secret), then Graph calls."""

    def __init__(self, emulator, client_id, client_secret, api_version="v1.0"):
        self.emulator = emulator
        self.session = VerifyingSession(emulator.ca_path)
        self.base = "%s/%s" % (emulator.url, api_version)
        self.token = None
        if client_id:
            response = self.session.post(
                "%s/%s/oauth2/v2.0/token" % (emulator.url, emulator.tenant_id),
                data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
                      "scope": "https://graph.microsoft.com/.default"})
            response.raise_for_status()
            self.token = response.json()["access_token"]

    def call(self, method, path, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers.setdefault("Authorization", "Bearer " + self.token)
        url = path if path.startswith("https://") else self.base + path
        return self.session.request(method, url, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)


def start_emulator(tmp_path_factory, **settings):
    state_dir = str(tmp_path_factory.mktemp("emulator"))
    emulator = EmulatorServer(state_dir=state_dir, **settings)
    emulator.start()
    return emulator


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    server = start_emulator(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_between_tests(request):
    """Tests that use the shared emulator start from the seed state with no faults."""
    if "emulator" in request.fixturenames:
        server = request.getfixturevalue("emulator")
        server.reset()
    yield


@pytest.fixture()
def session(emulator):
    with VerifyingSession(emulator.ca_path) as verifying_session:
        yield verifying_session


@pytest.fixture()
def demo_client(emulator):
    info = emulator.info
    return GraphClient(emulator, info["client_id"], info["client_secret"])


@pytest.fixture()
def read_only_client(emulator):
    app = emulator.info["apps"]["read_only"]
    return GraphClient(emulator, app["client_id"], app["client_secret"])


@pytest.fixture()
def no_roles_client(emulator):
    app = emulator.info["apps"]["no_roles"]
    return GraphClient(emulator, app["client_id"], app["client_secret"])


@pytest.fixture()
def anonymous_client(emulator):
    return GraphClient(emulator, None, None)


@pytest.fixture()
def graph(tmp_path):
    """An in-process emulator driven through its real router (synchronization_world.Graph)."""
    from synchronization_world import Graph  # pylint: disable=import-outside-toplevel
    return Graph(str(tmp_path))
