# The following metadata allows Python runners and nox to install the required
# dependencies for running this Python script:
#
# /// script
# dependencies = ["nox>=2025.02.09", "antsibull-nox>=1.10", "ansible-core>=2.17"]
# ///
"""nox sessions of the collection, defined by antsibull-nox from antsibull-nox.toml.

``pip install nox antsibull-nox ansible-core && nox --list`` (antsibull-nox calls ``ansible-galaxy``).
Without containers: ``nox -e lint docs-check extra-checks`` (tests/run.sh runs the same tools itself, on every
supported ansible-core). The ansible-test sessions (``ansible-test-sanity-*``,
``ansible-test-units-*``) run ansible-test with ``--docker`` and need Docker or Podman.
"""

import sys

import nox

try:
    import antsibull_nox
except ImportError:
    print("You need to install antsibull-nox in the same Python environment as nox.")
    sys.exit(1)


antsibull_nox.load_antsibull_nox_toml()


# Allow to run the noxfile with `python noxfile.py`, `pipx run noxfile.py`, or similar.
# Requires nox >= 2025.02.09
if __name__ == "__main__":
    nox.main()
