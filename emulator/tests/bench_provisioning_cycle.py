"""Benchmark (not collected by pytest): a directory-backed job's cycles and the provisioning log at scale, in-process.

    cd emulator && python tests/bench_provisioning_cycle.py [--users 5000]

Prints the time to build and assign the directory, to run the initial cycle (one create and one log entry per user),
to read every log entry in pages of 999, one filtered query, and a quiet incremental cycle.
"""

import argparse
import tempfile
import time

from entra_graph_emulator import people
from synchronization_world import Graph, configured_job, read_job, sync

ROLES = ("AuditLog.Read.All", "Directory.Read.All")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    users = parser.parse_args().users
    graph = Graph(tempfile.mkdtemp())
    graph.control("PATCH", "/synchronization/settings", {"provisioning_log_delay_seconds": 0})
    sp_id, job_id = configured_job(graph)
    started = time.perf_counter()
    for index in range(users):
        user = people.new_user(graph.store, {"displayName": "Bench %d" % index}, "contoso.test")
        people.put_user(graph.store, user)
        people.assign(graph.store, sp_id, user["id"])
    print("directory of %d assigned users: %.2f s" % (users, time.perf_counter() - started))
    graph.post(sync(sp_id, "/jobs/%s/start" % job_id))
    graph.advance(graph.cycle + 1)
    started = time.perf_counter()
    execution = read_job(graph, sp_id, job_id)["status"]["lastExecution"]
    print("initial cycle, %d creates: %.2f s" % (execution["countExported"], time.perf_counter() - started))
    started = time.perf_counter()
    pages, entries, link = 0, 0, "/auditLogs/provisioning?$top=999"
    while link:
        body = graph.get(link, roles=ROLES).body
        pages, entries = pages + 1, entries + len(body["value"])
        link = body.get("@odata.nextLink")
        link = link and link[len(graph.emulator.url + "/v1.0"):]
    print("%d log entries in %d pages: %.2f s" % (entries, pages, time.perf_counter() - started))
    started = time.perf_counter()
    graph.get("/auditLogs/provisioning?$filter=provisioningStatusInfo/status eq 'failure'", roles=ROLES)
    print("one filtered query: %.3f s" % (time.perf_counter() - started))
    graph.advance(graph.cycle)
    started = time.perf_counter()
    read_job(graph, sp_id, job_id)
    print("quiet incremental cycle: %.3f s" % (time.perf_counter() - started))


if __name__ == "__main__":
    main()
