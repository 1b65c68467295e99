#!/usr/bin/env python3
"""Several instances (issue 9): three greenchip processes on different ports sharing one
PostgreSQL database, as behind a load balancer.

    python3 tests/reliability/instances.py

32 stations send each new request to the next instance in turn; a retry always goes to a
different instance than the last try. Some acknowledged requests are sent again at once to
another instance, as a device that lost the answer would (they must answer the first result,
marked replayed, and write nothing). Mid-load one instance is killed with SIGKILL (its
stations' unanswered requests go to the others) and later started again. A supervisor's login
made on one instance is valid on every other, and a logout on one ends it on all. Afterwards:
no duplicate, nothing acknowledged lost, no negative balance, each shared lot holds exactly
what the acknowledged transfers say, `greenchip ledger check` exits 0.

Same options as crash.py: GREENCHIP_RELEASE=1, STATIONS (32), LOAD_S (6),
GREENCHIP_RELIABILITY_POSTGRES_URL, INSTANCES (3). Standard library only.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402
from workload import Failed, expect, log, request  # noqa: E402

STATIONS = int(os.environ.get("STATIONS", "32"))
LOAD_S = float(os.environ.get("LOAD_S", "6"))
INSTANCES = int(os.environ.get("INSTANCES", "3"))


def sessions_are_shared(services):
    """A login on the first instance works on every instance; a logout on the second ends it
    on the third."""
    bases = [service.base for service in services]
    login = request(bases[0], "POST", "/api/v1/auth/login", {"login": "samira", "password": workload.PASSWORD})
    expect(login, 200, "log in on the first instance")
    cookie = next(line.split(";")[0] for line in login.headers["set-cookie"].splitlines()
                  if line.startswith("gc_session="))
    for base in bases:
        me = expect(request(base, "GET", "/api/v1/auth/me", headers={"Cookie": cookie}), 200,
                    f"the session made on {bases[0]} at {base}")
        if me.get("name") != "samira":
            raise Failed(f"{base} sees the session as {me}")
    answer = request(bases[1 % len(bases)], "POST", "/api/v1/auth/logout", headers={"Cookie": cookie})
    if answer.status != 204:
        raise Failed(f"logout on {bases[1 % len(bases)]}: {answer.status} {answer.body}")
    for base in bases:
        after = request(base, "GET", "/api/v1/auth/me", headers={"Cookie": cookie})
        if after.status != 401:
            raise Failed(f"after a logout on {bases[1 % len(bases)]}, {base} still answers {after.status}")


def main():
    workdir = workload.tempdir("greenchip-instances-")
    database = workload.Database("postgres", workdir)
    services = [workload.Service(database, workdir, f"instance{n}") for n in range(INSTANCES)]
    try:
        shop = workload.prepare(database, workdir, STATIONS)
        for service in services:
            service.start(port=0)
        bases = [service.base for service in services]
        log(f"{INSTANCES} instances on one PostgreSQL database: {', '.join(bases)}")
        sessions_are_shared(services)
        # The workshop is set up through the first instance and used through all of them:
        # station devices enrolled on one are known to every one.
        workload.build(shop, bases[0], STATIONS)
        load = workload.Load(shop, bases, duplicate_share=0.1)
        load.start()
        time.sleep(LOAD_S / 2)
        victim = services[-1]
        victim.kill()
        log(f"killed {victim.name} ({victim.base}) mid-load; its stations' retries go to the others")
        time.sleep(LOAD_S / 2)
        victim.start()
        log(f"{victim.name} started again on {victim.base}")
        time.sleep(LOAD_S / 2)
        load.finish()
        replayed_at_end = load.replay_all()
        stats = load.stats
        if stats.server_errors:
            raise Failed(f"5xx answers: {stats.server_errors[:5]}")
        if stats.duplicate_mismatch:
            raise Failed(f"{len(stats.duplicate_mismatch)} repeated requests did not answer the first result, "
                         f"e.g. {stats.duplicate_mismatch[:3]}")
        figures = workload.verify(load, database, workdir, bases[0])
        if figures["unanswered_then_replayed"] == 0:
            raise Failed("the kill left no request unanswered: nothing was retried elsewhere")
        figures.update(scenario="several instances", instances=INSTANCES, stations=STATIONS, load_s=1.5 * LOAD_S,
                       repeated_elsewhere=stats.duplicates_sent, retries_elsewhere=stats.retries_elsewhere,
                       replays=stats.replays + replayed_at_end, statuses=stats.statuses)
        print("RESULT " + json.dumps(figures, sort_keys=True), flush=True)
        log("several instances: passed")
        print("reliability: 1 passed; 0 failed (instances.py)", flush=True)
    finally:
        for service in services:
            service.stop()
        database.drop()
        workload.clean(workdir, *services)


if __name__ == "__main__":
    workload.main_guard(main)
