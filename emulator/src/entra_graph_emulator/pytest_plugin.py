"""pytest plugin: a running Graph emulator for your own tests.

Installed with the package (entry point ``pytest11``), so ``pip install entra-graph-emulator`` is all a
test suite needs. Fixtures:

``graph_emulator``
    The emulator (an :class:`~entra_graph_emulator.testing.EmulatorProcess`), reset to its start-up state
    before the test: no applications or service principals apart from the application template catalog, the
    seeded users and groups (``--seed-users``, ``--seed-groups``; none assigned), no faults, an empty request log,
    the demo app registrations. One process serves the whole test session.
``graph_emulator_env``
    ``graph_emulator.connection_env()``: the ``AZURE_*`` / ``ENTRA_*`` variables that point a client (the
    entra.provisioning collection, msal, azure-identity) at the emulator and trust its CA.

Options (command line or ini file):

``--graph-emulator-arg=ARG`` / ini ``graph_emulator_args``
    Extra command-line arguments of ``entra-graph-emulator`` (for example ``--cycle-seconds=5``).
``--graph-emulator-keep`` / ini ``graph_emulator_keep = true``
    Keep the emulator's state directory (logs, CA) after the session and print where it is.
"""

import shlex
import shutil

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("entra-graph-emulator")
    group.addoption("--graph-emulator-arg", action="append", default=[], dest="graph_emulator_arg",
                    help="extra argument for the Graph emulator (repeatable), for example --graph-emulator-arg=--cycle-seconds=5")
    group.addoption("--graph-emulator-keep", action="store_true", default=False, dest="graph_emulator_keep",
                    help="keep the Graph emulator's state directory (logs, CA) after the session")
    parser.addini("graph_emulator_args", "extra arguments for the Graph emulator (shell words)", default="")
    parser.addini("graph_emulator_keep", "keep the Graph emulator's state directory after the session", type="bool", default=False)


def _emulator_args(config):
    return shlex.split(config.getini("graph_emulator_args") or "") + list(config.getoption("graph_emulator_arg"))


@pytest.fixture(scope="session")
def graph_emulator_process(tmp_path_factory, request):
    """One emulator process for the test session (use ``graph_emulator`` in tests: it resets it first)."""
    from .testing import EmulatorProcess  # pylint: disable=import-outside-toplevel

    state_dir = tmp_path_factory.mktemp("graph-emulator")
    keep = request.config.getoption("graph_emulator_keep") or request.config.getini("graph_emulator_keep")
    with EmulatorProcess(state_dir, extra_args=_emulator_args(request.config)) as emulator:
        yield emulator
    if keep:
        print("\nGraph emulator state kept in %s" % state_dir)
    else:
        shutil.rmtree(str(state_dir), ignore_errors=True)


@pytest.fixture
def graph_emulator(graph_emulator_process):
    """The session's emulator, back in its start-up state (directory, settings, faults, apps, request log)."""
    graph_emulator_process.reset()
    return graph_emulator_process


@pytest.fixture
def graph_emulator_env(graph_emulator):
    """Environment variables that point a Graph client at ``graph_emulator`` (credentials of its demo app)."""
    return graph_emulator.connection_env()
