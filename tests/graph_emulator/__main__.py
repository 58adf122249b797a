"""``python tests/graph_emulator`` and ``python -m graph_emulator`` (with tests/ on sys.path)."""

import importlib
import os
import sys


def _cli_main():
    if __package__:
        return importlib.import_module(__package__ + ".cli").main
    # Run as a directory: sys.path[0] is this package's own folder, where our module names
    # (clock, store, ...) could shadow others. Import the package from its parent instead.
    package_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != package_dir]
    sys.path.insert(0, os.path.dirname(package_dir))
    return importlib.import_module(os.path.basename(package_dir) + ".cli").main


if __name__ == "__main__":
    sys.exit(_cli_main()())
