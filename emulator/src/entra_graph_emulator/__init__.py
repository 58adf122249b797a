"""A local, stateful emulator of Microsoft Graph and the Entra token service.

Start it with the ``entra-graph-emulator`` console script (or ``python -m entra_graph_emulator``).
Tests use the pytest plugin's ``graph_emulator`` fixture, ``entra_graph_emulator.testing.EmulatorProcess``
or, in-process, ``entra_graph_emulator.server.EmulatorServer``. See the package's README.
"""

__version__ = "0.2.0"
