#!/usr/bin/env bash
# The whole test suite, from a fresh machine: builds a venv from PyPI, copies the collection to the
# ansible_collections/entra/provisioning layout ansible-test needs, and runs sanity (newest ansible-core too),
# unit tests, linters and the integration tests against the bundled Graph emulator.
#
# Usage: bash tests/run.sh            (ENTRA_TEST_QUICK=1 skips the sanity runs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ENTRA_TEST_CACHE:-$ROOT/.cache}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"; }

# Python 3.11 runs ansible-core 2.19 (the newest it supports); 3.12 runs the newest core for sanity.
PY311=$(command -v python3.11 || command -v python3)
VENV=$CACHE/venv-py311
step "venv ($($PY311 --version))"
[ -x "$VENV/bin/python" ] || "$PY311" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" 2>&1 | grep -v "is ignored: it is neither" || true
# The Graph emulator, installed as users install it (its console script and pytest plugin come with it).
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$ROOT/emulator"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT/emulator"

# ansible-test needs the collection physically at .../ansible_collections/<namespace>/<name>.
COLL=$WORK/ansible_collections/entra/provisioning
mkdir -p "$COLL"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$COLL")
else
    (cd "$ROOT" && tar --exclude=./.cache --exclude=./.venv --exclude=./tests/output -cf - .) | (cd "$COLL" && tar -xf -)
fi
export ANSIBLE_COLLECTIONS_PATH=$WORK

# ansible-test bootstraps pip by downloading get-pip from a host that may be unreachable: provide it locally.
install_get_pip_shim() {
    local python=$1 home=$2 version
    version=$("$python" - <<'PY'
import os, re, ansible_test
source = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", source).group(1).replace('.', '_'))
PY
)
    mkdir -p "$home/.ansible/test/cache"
    cat > "$home/.ansible/test/cache/get_pip_${version}.py" <<'PY'
import subprocess
import sys
# ensurepip in a subprocess: in-process it hides the machine's pip configuration (index, CA bundle).
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')])
PY
}

AT_HOME=$CACHE/ansible-test-home
install_get_pip_shim "$VENV/bin/python" "$AT_HOME"
export PATH=$VENV/bin:$PATH
cd "$COLL"

if [ -z "${ENTRA_TEST_QUICK:-}" ]; then
    step "ansible-test sanity, ansible-core $(python -c 'import ansible; print(ansible.__version__)')"
    HOME=$AT_HOME ansible-test sanity --python 3.11 --color no

    # The newest ansible-core needs Python 3.12; the machine image carries it through pyenv.
    PY312=
    for candidate in "$(command -v python3.12 || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then
            PY312=$candidate
            break
        fi
    done
    if [ -n "$PY312" ]; then
        VENV_NEW=$CACHE/venv-py312
        [ -x "$VENV_NEW/bin/python" ] || "$PY312" -m venv "$VENV_NEW"
        "$VENV_NEW/bin/python" -m pip install -q --disable-pip-version-check 'ansible-core<2.22' 2>&1 | grep -v "is ignored: it is neither" || true
        install_get_pip_shim "$VENV_NEW/bin/python" "$AT_HOME"
        step "ansible-test sanity, newest ansible-core $("$VENV_NEW/bin/python" -c 'import ansible; print(ansible.__version__)')"
        HOME=$AT_HOME PATH=$VENV_NEW/bin:$PATH "$VENV_NEW/bin/ansible-test" sanity --python 3.12 --color no
    else
        echo "python3.12 not found: sanity on the newest ansible-core skipped" >&2
    fi
fi

step "ansible-test units (the collection's unit tests)"
HOME=$AT_HOME ansible-test units --python 3.11 --color no tests/unit/plugins/

step "antsibull-changelog lint"
antsibull-changelog lint

step "antsibull-docs lint-collection-docs"
antsibull-docs lint-collection-docs --plugin-docs .

if [ -d roles ] && [ -n "$(ls roles 2>/dev/null)" ]; then
    step "ansible-lint (production profile)"
    ansible-lint --nocolor
fi

step "pytest: the Graph emulator's own tests"
python -m pytest emulator/tests -p no:cacheprovider -q

step "pytest: a user's own tests with the emulator's pytest plugin (emulator/examples/user-ci)"
(cd emulator/examples/user-ci && python -m pytest -p no:cacheprovider -q)

# Last, so that its summary line closes the run.
step "pytest: integration tests (real msal and requests against the emulator over HTTPS, real ansible-playbook runs)"
python -m pytest tests/integration -p no:cacheprovider -q
