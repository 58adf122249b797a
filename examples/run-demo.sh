#!/usr/bin/env bash
# The main job, in one command: provision a non-gallery SCIM application end to end with the role
# entra.provisioning.application_provisioning, against the bundled Graph emulator, then run the same playbook again
# to show that a second run changes nothing.
#
#   bash examples/run-demo.sh
#
# What it does: creates (or reuses) a Python 3.11 virtual environment with the collection's requirements, starts the
# Graph emulator on loopback, exports its connection settings, runs examples/provision_scim_app.yml twice with this
# checkout as the collection entra.provisioning, prints the job's first cycle and the requests each run sent, and
# stops the emulator on exit.
#
# Against a real tenant instead: export AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or another
# credential, see docs/authentication.md), SCIM_TOKEN (the SCIM endpoint's bearer token) and SCIM_BASE_ADDRESS; the
# emulator is then not started and the playbook runs once.
#
# Environment: ENTRA_DEMO_VENV (default .cache/venv-py311, shared with tests/run.sh), ENTRA_DEMO_KEEP=1 keeps the
# emulator's state directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${ENTRA_DEMO_VENV:-$ROOT/.cache/venv-py311}
WORK=$(mktemp -d)
EMULATOR_PID=

cleanup() {
    if [ -n "$EMULATOR_PID" ] && kill -0 "$EMULATOR_PID" 2>/dev/null; then
        kill "$EMULATOR_PID" 2>/dev/null || true
        wait "$EMULATOR_PID" 2>/dev/null || true
        echo "Graph emulator stopped."
    fi
    if [ -z "${ENTRA_DEMO_KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "Kept $WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n=== %s\n' "$1"; }

# --- environment ------------------------------------------------------------------------------------------------
PYTHON=$(command -v python3.11 || command -v python3)
step "Python environment: $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# requirements.txt: what the modules need (msal, requests); requirements-dev.txt adds ansible-core and what the
# emulator needs. pip does nothing when they are already installed.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt" 2>&1 \
    | grep -v "is ignored: it is neither" || true
# The Graph emulator is a Python package of its own (emulator/): installed, it is the entra-graph-emulator command.
# Installed only when missing or of another version: pip reinstalls a local directory every time, which would pull the
# package from under anything else using this venv meanwhile (tests/run.sh runs this demo beside other tests).
checkout_version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/emulator/src/entra_graph_emulator/__init__.py")
installed_version=$("$VENV/bin/python" -c 'import entra_graph_emulator; print(entra_graph_emulator.__version__)' 2>/dev/null || true)
if [ "$installed_version" != "$checkout_version" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$ROOT/emulator" 2>&1 | grep -v "is ignored: it is neither" || true
fi
export PATH="$VENV/bin:$PATH"

# This checkout as the collection entra.provisioning, without installing it.
mkdir -p "$WORK/collections/ansible_collections/entra"
ln -s "$ROOT" "$WORK/collections/ansible_collections/entra/provisioning"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False
export ANSIBLE_PYTHON_INTERPRETER="$VENV/bin/python"

# --- the emulator, unless a real tenant is configured -----------------------------------------------------------
if [ -n "${AZURE_TENANT_ID:-}" ]; then
    step "AZURE_TENANT_ID is set: running against the real tenant $AZURE_TENANT_ID (no emulator)"
    if [ -z "${SCIM_TOKEN:-}" ] || [ -z "${SCIM_BASE_ADDRESS:-}" ]; then
        echo "Export SCIM_BASE_ADDRESS (your SCIM endpoint) and SCIM_TOKEN (its bearer token) first." >&2
        exit 2
    fi
    ansible-playbook "$ROOT/examples/provision_scim_app.yml" -e "scim_base_address=$SCIM_BASE_ADDRESS"
    exit 0
fi

step "Starting the Graph emulator"
# A provisioning cycle of 10 emulated seconds instead of 40 minutes, so that the first cycle ends during the demo.
"$VENV/bin/entra-graph-emulator" --state-dir "$WORK/emulator" --info-file "$WORK/emulator/info.json" \
    --cycle-seconds 10 > "$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 150); do
    [ -s "$WORK/emulator/info.json" ] && break
    if ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
        cat "$WORK/emulator.log" >&2
        echo "The Graph emulator did not start." >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "$WORK/emulator/info.json" ] || { cat "$WORK/emulator.log" >&2; echo "The Graph emulator did not start in 15 s." >&2; exit 1; }

# The emulator's connection settings (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST,
# ENTRA_GRAPH_ENDPOINT, ENTRA_CA_PATH), exactly as the modules read them from a real tenant's environment.
eval "$("$VENV/bin/python" - "$WORK/emulator/info.json" <<'PY'
import json
import shlex
import sys

info = json.load(open(sys.argv[1]))
env = {
    'AZURE_TENANT_ID': info['tenant_id'], 'AZURE_CLIENT_ID': info['client_id'],
    'AZURE_CLIENT_SECRET': info['client_secret'], 'AZURE_AUTHORITY_HOST': info['authority_host'],
    'ENTRA_GRAPH_ENDPOINT': info['graph_endpoint'], 'ENTRA_CA_PATH': info['ca_path'],
    'ENTRA_DEMO_CONTROL_URL': info['control_url'],
}
for name, value in env.items():
    print('export %s=%s' % (name, shlex.quote(str(value))))
PY
)"
export ENTRA_TOKEN_CACHE_PATH="$WORK/token_cache.json"
echo "Graph: $ENTRA_GRAPH_ENDPOINT/v1.0   tenant: $AZURE_TENANT_ID   CA: $ENTRA_CA_PATH"

# A SCIM endpoint and a bearer token made up for this run (the emulator plays the SCIM application too).
export SCIM_TOKEN
SCIM_TOKEN=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))')

# The requests the emulator received since the last call, one line each, reads and writes counted.
show_requests() {
    "$VENV/bin/python" - "$ENTRA_DEMO_CONTROL_URL" "$ENTRA_CA_PATH" <<'PY'
import sys

import requests

control, ca = sys.argv[1], sys.argv[2]
entries = requests.get(control + '/requests', verify=ca, timeout=30).json()['requests']
requests.delete(control + '/requests', verify=ca, timeout=30)
graph = [entry for entry in entries if entry.get('kind') in ('graph', 'batch')]
for entry in graph:
    print('  %-6s %s -> %s' % (entry['method'], entry['path'], entry['status']))
writes = sum(1 for entry in graph if entry.get('write'))
print('  %d Graph requests: %d reads, %d writes' % (len(graph), len(graph) - writes, writes))
PY
}
show_requests > /dev/null  # start from an empty log

step "Run 1: provision the application, its credentials and its job, and wait for the first cycle"
ansible-playbook "$ROOT/examples/provision_scim_app.yml" -e scim_base_address=https://scim.example.com/scim
step "Requests sent by run 1"
show_requests

step "Run 2: the same playbook again (nothing to change)"
ansible-playbook "$ROOT/examples/provision_scim_app.yml" -e scim_base_address=https://scim.example.com/scim
step "Requests sent by run 2"
show_requests
