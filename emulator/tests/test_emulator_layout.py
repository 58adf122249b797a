"""The emulator's source layout: no module grows past a size a reader can hold (issue 8: at most 700 lines)."""

import pathlib

SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 700


def test_no_source_file_over_700_lines():
    sources = sorted(SRC.rglob("*.py"))
    # The walk must find the package, or the check below would pass on nothing.
    assert any(path.name == "server.py" for path in sources), SRC
    too_long = {}
    for path in sources:
        with path.open(encoding="utf-8") as handle:
            count = sum(1 for _line in handle)
        if count > MAX_LINES:
            too_long[str(path.relative_to(SRC))] = count
    assert not too_long, "split these modules (at most %d lines each): %s" % (MAX_LINES, too_long)
