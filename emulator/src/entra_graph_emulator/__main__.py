"""``python -m entra_graph_emulator``: the same as the ``entra-graph-emulator`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
