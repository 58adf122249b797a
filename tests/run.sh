#!/usr/bin/env bash
# The whole test suite, from a fresh machine: builds its venvs from PyPI, copies the collection to the
# ansible_collections/entra/provisioning layout ansible-test needs, and runs, on the ansible-core versions the
# collection supports (meta/runtime.yml: 2.19 and later, the ansible-core releases not at end of life):
#   - ruff, the docs site check, antsibull-changelog, antsibull-docs (lint, and the docs rendered) and ansible-lint (once);
#   - ansible-test sanity on every supported core (2.19, 2.20, 2.21), side by side;
#   - the unit tests on every core (2.19, 2.20, 2.21);
#   - the Graph emulator's own tests and the user's-CI example (once);
#   - the integration tests (real ansible-playbook runs against the emulator) on the oldest core against this checkout,
#     and on the newest core against the collection built with ansible-galaxy and installed from its tarball.
# ansible-core 2.20 and later need Python 3.12 on the controller; 2.19 runs on Python 3.11. A missing Python
# fails the suite: nothing is skipped silently.
#
# Usage: bash tests/run.sh            (ENTRA_TEST_QUICK=1 skips the sanity runs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ENTRA_TEST_CACHE:-$ROOT/.cache}
WORK=$(mktemp -d)
TIMINGS_PRINTED=
# On a failure too, the timings of the steps that ran are printed.
trap '[ -n "$TIMINGS_PRINTED" ] || [ -z "${STEP_NAME:-}" ] || print_timings >&2; rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"
# Where tests leave artefacts a person looks at (the report's screenshot): kept after the run, unlike $WORK.
export ENTRA_TEST_OUTPUT=${ENTRA_TEST_OUTPUT:-$ROOT/tests/output}

# The supported cores, oldest first, each with the Python its controller runs on. Keep in step with meta/runtime.yml
# (requires_ansible) and the newest ansible-core on PyPI.
# 2.17 and 2.18 reached their end of life in May and November 2026 (the ansible-core support matrix,
# https://docs.ansible.com/ansible/latest/reference_appendices/release_and_maintenance.html): not supported.
CORES=(2.19:3.11 2.20:3.12 2.21:3.12)
DEV_CORE=2.19        # requirements-dev.txt pins it: the linters and the emulator's tests run there
OLDEST=${CORES[0]%%:*}
NEWEST=${CORES[-1]%%:*}

# pytest-xdist workers for the integration tests. Most of a test's time is spent waiting (for the emulator's cycles and
# replication windows), so more workers than cores pays; worksteal balances the long tests (a kill-and-rerun sweep, the
# fault campaign) against the short ones.
INTEGRATION_WORKERS=${ENTRA_TEST_WORKERS:-6}

# Step timings, printed at the end (before the last pytest run repeats its summary line): wall-clock seconds and the
# CPU seconds of the step's processes (user + system), which do not grow when other work loads the machine.
TIMINGS=()
STEP_NAME=
STEP_START=$SECONDS
SUITE_START=$SECONDS
CPU=0
cpu_seconds() {  # CPU=user + system seconds of this shell's finished children (`times` runs in this shell, not a subshell)
    times > "$WORK/times"
    CPU=$(awk 'NR == 2 { total = 0; for (i = 1; i <= 2; i++) { split($i, part, "m"); total += part[1] * 60 + part[2] } printf "%d", total }' "$WORK/times")
}
cpu_seconds
STEP_CPU=$CPU
SUITE_CPU=$CPU
record_step() {
    local cpu
    cpu_seconds
    cpu=$CPU
    TIMINGS+=("$(printf '%5d s %6d s  %s' $((SECONDS - STEP_START)) $((cpu - STEP_CPU)) "$STEP_NAME")")
    STEP_START=$SECONDS
    STEP_CPU=$cpu
}
step() {
    if [ -n "$STEP_NAME" ]; then
        record_step
    fi
    STEP_NAME=$1
    printf '\n=== %s (%s)\n' "$1" "$(date +%H:%M:%S)"
}
print_timings() {
    TIMINGS_PRINTED=1
    record_step
    printf '\n=== Timings (budget: 20 minutes on 2 cores; load average now: %s)\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
    printf '%7s %8s  %s\n' wall CPU step
    printf '%s\n' "${TIMINGS[@]}"
    cpu_seconds
    printf '%5d s %6d s  total\n' $((SECONDS - SUITE_START)) $((CPU - SUITE_CPU))
}

fail() { echo "tests/run.sh: $*" >&2; exit 1; }

# python3.X from PATH or pyenv; a missing one fails the suite.
find_python() {
    local version=$1 candidate
    for candidate in "$(command -v "python$version" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# pip, without the machine's harmless "Location ... is ignored" lines; its failure fails the suite.
quiet_pip() {
    local output status=0
    output=$("$@" 2>&1) || status=$?
    printf '%s\n' "$output" | grep -v -e "is ignored: it is neither" -e '^$' || true
    return "$status"
}

core_python() { local entry; for entry in "${CORES[@]}"; do [ "${entry%%:*}" = "$1" ] && echo "${entry##*:}"; done; }
core_venv() { if [ "$1" = "$DEV_CORE" ]; then echo "$CACHE/venv-py311"; else echo "$CACHE/venv-core$1"; fi; }

# The report test opens the HTML report in a real headless browser: Debian's chromium (CI runs as root).
if ! command -v chromium >/dev/null 2>&1; then
    step "chromium (Debian package) for the report test"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        fail "chromium is not installed: as root, apt-get install chromium (the report test needs it)"
    fi
fi

step "venvs: ansible-core ${CORES[*]%%:*}"
declare -A PYTHONS
for entry in "${CORES[@]}"; do
    version=${entry##*:}
    if [ -z "${PYTHONS[$version]:-}" ]; then
        PYTHONS[$version]=$(find_python "$version") \
            || fail "python$version not found (on PATH or in pyenv): ansible-core ${entry%%:*} needs it. Install it, e.g. 'pyenv install $version'."
    fi
done
# The development venv: ansible-core $DEV_CORE and every tool of requirements-dev.txt, and the Graph emulator,
# installed as users install it (its console script and pytest plugin come with it).
VENV=$(core_venv "$DEV_CORE")
[ -x "$VENV/bin/python" ] || "${PYTHONS[$(core_python "$DEV_CORE")]}" -m venv "$VENV"
quiet_pip "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
quiet_pip "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$ROOT/emulator"
quiet_pip "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT/emulator"
# One venv per other core: the collection's requirements and pytest; the emulator too where integration runs.
for entry in "${CORES[@]}"; do
    core=${entry%%:*}
    [ "$core" = "$DEV_CORE" ] && continue
    venv=$(core_venv "$core")
    [ -x "$venv/bin/python" ] || "${PYTHONS[${entry##*:}]}" -m venv "$venv"
    extra=()
    if [ "$core" = "$OLDEST" ] || [ "$core" = "$NEWEST" ]; then
        extra=("$ROOT/emulator" 'ansible-runner>=2.4' 'ansible-rulebook>=1.1' 'ansible-builder>=3.1')
    fi
    quiet_pip "$venv/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$core.*" -r "$ROOT/requirements.txt" \
        'pytest>=8' 'pytest-xdist>=3.5' "${extra[@]}"
    if [ ${#extra[@]} -gt 0 ]; then
        quiet_pip "$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT/emulator"
    fi
    echo "ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)') on $("$venv/bin/python" --version)"
done

# ansible-test needs the collection physically at .../ansible_collections/<namespace>/<name>.
COLL=$WORK/ansible_collections/entra/provisioning
mkdir -p "$COLL"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$COLL")
else
    (cd "$ROOT" && tar --exclude=./.cache --exclude=./.venv --exclude=./.nox --exclude=./tests/output -cf - .) | (cd "$COLL" && tar -xf -)
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
# The README's demo (tests/integration/test_readme_demo.py) reuses the development venv instead of building its own.
export ENTRA_DEMO_VENV=$VENV
export PATH=$VENV/bin:$PATH
cd "$COLL"

step "ruff check"
ruff check --no-cache .

step "docs site: docs/docsite/ generated from docs/*.md"
python tests/docs_rst.py --check

step "antsibull-changelog lint"
antsibull-changelog lint

step "antsibull-docs lint-collection-docs (plugin docs and the extra docs of docs/docsite/)"
antsibull-docs lint-collection-docs --plugin-docs .

step "antsibull-docs collection: the collection's docs rendered (a page per module, inventory plugin, role and guide)"
# antsibull-docs wants a destination only its owner can write to.
mkdir -m 755 "$WORK/rendered-docs"
antsibull-docs collection --use-current --squash-hierarchy --dest-dir "$WORK/rendered-docs" entra.provisioning
python tests/docs_rst.py --rendered "$WORK/rendered-docs"

if [ -d roles ] && [ -n "$(ls roles 2>/dev/null)" ]; then
    step "ansible-lint (production profile)"
    ansible-lint --nocolor
fi

if [ -z "${ENTRA_TEST_QUICK:-}" ]; then
    # Full sanity, no ignore files, on every supported core: each brings its own sanity tests, pylint and
    # pycodestyle. The runs are CPU-bound and independent: they run side by side, each into its own log, printed when
    # all are done.
    SANITY_CORES=("${CORES[@]%%:*}")
    step "ansible-test sanity, ansible-core ${SANITY_CORES[*]} (side by side)"
    pids=()
    for core in "${SANITY_CORES[@]}"; do
        venv=$(core_venv "$core")
        # A home per core: ansible-test keeps its sanity venvs under ~/.ansible/test/venv/sanity/<python>/, and two
        # cores on the same Python creating them at once collide.
        home=$AT_HOME-$core
        install_get_pip_shim "$venv/bin/python" "$home"
        (
            started=$SECONDS
            echo "--- ansible-test sanity, ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)') (Python $(core_python "$core"))"
            status=0
            HOME=$home PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --python "$(core_python "$core")" --color no || status=$?
            echo "--- ansible-core $core sanity: exit $status after $((SECONDS - started)) s"
            exit "$status"
        ) > "$WORK/sanity-$core.log" 2>&1 &
        pids+=($!)
    done
    failed=()
    for index in "${!SANITY_CORES[@]}"; do
        wait "${pids[$index]}" || failed+=("${SANITY_CORES[$index]}")
    done
    for core in "${SANITY_CORES[@]}"; do
        cat "$WORK/sanity-$core.log"
        TIMINGS+=("$(tail -n 1 "$WORK/sanity-$core.log" | sed -E 's/.*after ([0-9]+) s/\1/' | xargs printf '%5d s %8s')  ansible-core $core sanity, wall time within the side-by-side step")
    done
    [ ${#failed[@]} -eq 0 ] || fail "ansible-test sanity failed on ansible-core ${failed[*]}"
fi

# The unit tests import the collection from $WORK (ansible_collections/entra/provisioning), as ansible-test does.
for entry in "${CORES[@]}"; do
    core=${entry%%:*}
    venv=$(core_venv "$core")
    step "unit tests, ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)') (Python ${entry##*:})"
    PYTHONPATH=$WORK "$venv/bin/python" -m pytest tests/unit/plugins tests/unit/extensions -p no:cacheprovider -q
done

step "pytest: the Graph emulator's own tests"
python -m pytest emulator/tests -p no:cacheprovider -q

step "pytest: a user's own tests with the emulator's pytest plugin (emulator/examples/user-ci)"
(cd emulator/examples/user-ci && python -m pytest -p no:cacheprovider -q)

# The integration tests on the oldest core, then on the newest; the last run's summary line closes the output.
# Some tests import the collection's client directly: from $WORK, as the unit tests.
step "pytest: integration tests, ansible-core $OLDEST (real msal and requests against the emulator over HTTPS, real ansible-playbook runs)"
PYTHONPATH=$WORK "$(core_venv "$OLDEST")/bin/python" -m pytest tests/integration -p no:cacheprovider -q -n "$INTEGRATION_WORKERS" --dist worksteal

# The collection as users get it: the tarball built from the checkout (galaxy.yml build_ignore), installed into a clean
# collections path. The newest core's integration run tests that installed copy, not the checkout: a file the build
# leaves out fails the tests that use it (tests/integration/collection_under_test.py).
step "ansible-galaxy collection build, and the tarball installed into a clean path"
NEWEST_BIN=$(core_venv "$NEWEST")/bin
"$NEWEST_BIN/ansible-galaxy" collection build --output-path "$WORK/dist" "$ROOT"
TARBALL=$(ls "$WORK"/dist/entra-provisioning-*.tar.gz)
INSTALLED=$WORK/installed
ANSIBLE_COLLECTIONS_PATH=$INSTALLED "$NEWEST_BIN/ansible-galaxy" collection install --offline -p "$INSTALLED" "$TARBALL"

step "pytest: integration tests, ansible-core $NEWEST, against the collection installed from the tarball"
LAST_LOG=$WORK/integration-newest.log
set +e
ENTRA_TEST_COLLECTION=$INSTALLED/ansible_collections/entra/provisioning ENTRA_TEST_COLLECTION_TARBALL=$TARBALL \
    ANSIBLE_COLLECTIONS_PATH=$INSTALLED PYTHONPATH=$INSTALLED \
    "$NEWEST_BIN/python" -m pytest tests/integration -p no:cacheprovider -q -n "$INTEGRATION_WORKERS" --dist worksteal 2>&1 | tee "$LAST_LOG"
status=${PIPESTATUS[0]}
set -e
print_timings
# pytest's summary line last, as CI reads it.
echo
grep -E '^=*\s*[0-9]+ (passed|failed)|^[0-9]+ (passed|failed)|no tests ran' "$LAST_LOG" | tail -n 1
exit "$status"
