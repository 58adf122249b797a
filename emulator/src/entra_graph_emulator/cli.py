"""Command line: ``entra-graph-emulator [options]`` or ``python -m entra_graph_emulator``."""

import argparse
import json
import logging
import signal
import sys
import threading

from .server import DEFAULT_TENANT_ID
from .server import EmulatorConfig
from .server import EmulatorServer
from .server import write_info_file


def build_parser():
    parser = argparse.ArgumentParser(prog="entra-graph-emulator", description="Local emulator of Microsoft Graph (synchronization API) and Entra ID tokens.")
    parser.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0 = any free port; default 0)")
    parser.add_argument("--msi-port", type=int, default=0, help="plain-HTTP port for the managed identity endpoints (default: any free port)")
    parser.add_argument("--state-dir", default=".emulator", help="where ca.pem and the server certificate are written (default ./.emulator)")
    parser.add_argument("--info-file", help="write the info JSON (endpoints, CA path, credentials) here once listening")
    parser.add_argument("--faults", metavar="FILE.json", help="fault injection configuration (see the package docs: docs/emulator.md)")
    parser.add_argument("--tenant-id", default=DEFAULT_TENANT_ID, help="tenant id (default %(default)s)")
    parser.add_argument("--token-lifetime", type=int, default=3599, help="access token lifetime in seconds (default 3599)")
    parser.add_argument("--cycle-seconds", type=float, default=2400, help="simulated provisioning cycle, emulated seconds (default 2400 = PT40M)")
    parser.add_argument("--clock-acceleration", type=float, default=1.0, help="emulated seconds per real second (default 1)")
    parser.add_argument("--seed-service-principals", type=int, default=0, metavar="N", help="seed N service principals at start")
    parser.add_argument("--seed-with-jobs", type=int, default=0, metavar="M", help="give M of them a job, cycling through every job state")
    parser.add_argument("--seed-users", type=int, default=10, metavar="N", help="seed N users in the directory (default 10; none assigned)")
    parser.add_argument("--seed-groups", type=int, default=2, metavar="N", help="seed N groups, the users spread among them (default 2)")
    parser.add_argument("--seed", default="1", help="seed for generated ids and fault probabilities (default 1)")
    parser.add_argument("--identity-header", help="secret for X-IDENTITY-HEADER (default: random)")
    parser.add_argument("--log-level", default="WARNING", help="Python logging level on stderr (default WARNING)")
    return parser


def banner(info, env):
    lines = [
        "Graph emulator listening",
        "  Graph:        %s/v1.0  (and /beta)" % info["graph_endpoint"],
        "  Authority:    %s" % info["authority"],
        "  Token:        %s" % info["token_endpoint"],
        "  Control API:  %s" % info["control_url"],
        "  MSI:          %s  (header X-IDENTITY-HEADER: %s)" % (info["managed_identity"]["endpoint"], info["managed_identity"]["header"]),
        "  CA:           %s" % info["ca_path"],
        "  Tenant:       %s" % info["tenant_id"],
        "  Demo client:  %s / %s" % (info["client_id"], info["client_secret"]),
        "",
        "# for your shell:",
    ]
    lines.extend("export %s=%s" % (name, value) for name, value in env.items())
    lines.append("export IDENTITY_ENDPOINT=%s" % info["managed_identity"]["endpoint"])
    lines.append("export IDENTITY_HEADER=%s" % info["managed_identity"]["header"])
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.WARNING), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faults = {}
    if args.faults:
        with open(args.faults, encoding="utf-8") as handle:
            faults = json.load(handle)
    config = EmulatorConfig(port=args.port, msi_port=args.msi_port, state_dir=args.state_dir, tenant_id=args.tenant_id,
                            token_lifetime=args.token_lifetime, cycle_seconds=args.cycle_seconds,
                            clock_acceleration=args.clock_acceleration, faults=faults,
                            seed_service_principals=args.seed_service_principals, seed_with_jobs=args.seed_with_jobs,
                            seed_users=args.seed_users, seed_groups=args.seed_groups, seed=args.seed, identity_header=args.identity_header)
    emulator = EmulatorServer(config)
    stop_requested = threading.Event()

    def request_stop(signum, frame):
        del signum, frame
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    info = emulator.start()
    sys.stdout.write(banner(info, emulator.connection_env()))
    sys.stdout.flush()
    if args.info_file:
        write_info_file(args.info_file, info)
    while not stop_requested.wait(0.5):
        pass
    emulator.stop()
    sys.stdout.write("Graph emulator stopped\n")
    return 0
