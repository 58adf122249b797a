"""A local, stateful emulator of Microsoft Graph and the Entra token service.

Start it with ``python tests/graph_emulator`` (see docs/emulator.md). Tests use
``graph_emulator.testing.EmulatorProcess`` or ``graph_emulator.server.EmulatorServer``.
"""
