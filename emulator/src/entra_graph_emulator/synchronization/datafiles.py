"""The emulator's data folder (``entra_graph_emulator/data``, its README names the sources of each file)."""

import json
import os

# The data folder sits beside this package, in entra_graph_emulator/.
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def load_json(name):
    with open(os.path.join(DATA_DIR, name), encoding="utf-8") as handle:
        return json.load(handle)
