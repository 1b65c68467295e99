#!/usr/bin/env python3
"""Crash safety (issue 9): greenchip killed mid-load, and PostgreSQL restarted under load.

    python3 tests/reliability/crash.py [sqlite] [postgres] [outage]   # default: all three

  sqlite    32 stations post scans and ledger operations with client ids to a service on a
            fresh SQLite file; the service is killed with SIGKILL mid-load and restarted on the
            same file; every request whose answer never came is sent again with the same
            client id. Then: every acknowledged request is present exactly once, no refused
            one at all, each shared lot holds exactly what the acknowledged transfers say, no
            balance is negative, the balances sum to zero, `greenchip ledger check` exits 0.
  postgres  the same on a fresh PostgreSQL database.
  outage    the same load on PostgreSQL while PostgreSQL itself is stopped for a few seconds
            and started again: meanwhile the service answers 503 problem+json
            (`database_unavailable`, with Retry-After) within a bounded time, never a 500,
            `/healthz` answers 503 naming the database, and the same process recovers by
            itself; then the checks above.

Uses the debug build `cargo test` made (target/debug/greenchip); GREENCHIP_RELEASE=1 uses
target/release/greenchip (the documented long run, with LOAD_S=60). STATIONS (32) and LOAD_S
(seconds of load on each side of the kill, 6) change the size. PostgreSQL: the server at
GREENCHIP_RELIABILITY_POSTGRES_URL (postgres://postgres@127.0.0.1/postgres), which must be
the local cluster pg_ctlcluster controls for `outage`. Prints the figures as JSON lines.
Standard library only.
"""

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402
from workload import Failed, log  # noqa: E402

STATIONS = int(os.environ.get("STATIONS", "32"))
LOAD_S = float(os.environ.get("LOAD_S", "6"))
# The longest a request may take while the database is away: two waits for a connection
# (3 s each, src/db.rs) plus scheduling slack on a loaded machine.
UNAVAILABLE_BOUND_S = 8.0
OUTAGE_S = 4.0


def kill_and_restart(kind):
    workdir = workload.tempdir(f"greenchip-crash-{kind}-")
    database = workload.Database(kind, workdir)
    service = workload.Service(database, workdir)
    try:
        shop = workload.prepare(database, workdir, STATIONS)
        service.start(port=0)
        workload.build(shop, service.base, STATIONS)
        load = workload.Load(shop, [service.base])
        log(f"{kind}: {STATIONS} stations posting to {service.base} for {LOAD_S:.0f} s")
        load.start()
        time.sleep(LOAD_S)
        before = acknowledged(load)
        service.kill()
        killed_at = time.monotonic()
        log(f"{kind}: SIGKILL after {before} acknowledged requests")
        time.sleep(1.0)
        service.start()
        restarted_s = time.monotonic() - killed_at
        log(f"{kind}: restarted on the same database ({restarted_s:.1f} s after the kill); the stations replay")
        time.sleep(LOAD_S)
        load.finish()
        replayed_at_end = load.replay_all()
        figures = workload.verify(load, database, workdir, service.base)
        figures.update(scenario=f"kill -9 ({kind})", stations=STATIONS, load_s=2 * LOAD_S,
                       acknowledged_before_kill=before, replays=load.stats.replays + replayed_at_end,
                       restart_s=round(restarted_s, 1), statuses=load.stats.statuses)
        if load.stats.server_errors:
            raise Failed(f"5xx answers other than 503: {load.stats.server_errors[:5]}")
        if figures["unanswered_then_replayed"] == 0:
            raise Failed("the kill left no request unanswered: nothing was tested; kill later or load more")
        report(figures)
    finally:
        service.stop()
        database.drop()
        workload.clean(workdir, service)


def acknowledged(load):
    with load.ops_lock:
        return sum(1 for op in load.ops if op.state == "acked")


def pg_ctl(action):
    cluster = workload.postgres_cluster()
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action]
    if action == "stop":
        args += ["-m", "fast"]
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"pg_ctlcluster {action}: {done.stderr.strip()}")


class HealthWatch:
    """Polls `/healthz` every 100 ms and keeps what it saw."""

    def __init__(self, base):
        self.base = base
        self.seen = []  # (asked at, answered at, status, body), monotonic seconds
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            asked = time.monotonic()
            try:
                answer = workload.request(self.base, "GET", "/healthz", timeout=10)
                self.seen.append((asked, time.monotonic(), answer.status, answer.body))
            except OSError as error:
                self.seen.append((asked, time.monotonic(), None, str(error)))
            time.sleep(0.1)


def outage():
    """PostgreSQL stopped for OUTAGE_S under load, then started: 503s, then recovery."""
    workdir = workload.tempdir("greenchip-outage-")
    database = workload.Database("postgres", workdir)
    service = workload.Service(database, workdir)
    stopped = False
    try:
        shop = workload.prepare(database, workdir, STATIONS)
        service.start(port=0)
        pid = service.process.pid
        workload.build(shop, service.base, STATIONS)
        load = workload.Load(shop, [service.base])
        health = HealthWatch(service.base)
        log(f"outage: {STATIONS} stations posting to {service.base}; PostgreSQL stops in {LOAD_S / 2:.0f} s")
        load.start()
        health.thread.start()
        time.sleep(LOAD_S / 2)
        pg_ctl("stop")
        stopped = True
        down_at = time.monotonic()
        log(f"outage: PostgreSQL stopped for {OUTAGE_S:.0f} s")
        time.sleep(OUTAGE_S)
        starting_at = time.monotonic()
        pg_ctl("start")
        stopped = False
        up_at = time.monotonic()
        log("outage: PostgreSQL started again")
        time.sleep(LOAD_S)
        load.finish()
        health.stop.set()
        health.thread.join()
        if service.process.poll() is not None:
            raise Failed("the service exited during the outage")
        if service.process.pid != pid:
            raise Failed("the service was restarted")
        replayed_at_end = load.replay_all()
        problems = []
        if load.stats.server_errors:
            problems.append(f"{len(load.stats.server_errors)} answers 5xx other than 503, e.g. {load.stats.server_errors[:3]}")
        unavailable = load.stats.unavailable
        if not unavailable:
            problems.append("no request was answered 503 while PostgreSQL was away")
        for elapsed, content_type, code, retry_after in unavailable:
            if content_type != "application/problem+json" or code != "database_unavailable" or not retry_after:
                problems.append(f"a 503 answered {content_type} code {code} Retry-After {retry_after}")
                break
        slowest = max((e for e, *_ in unavailable), default=0.0)
        if slowest > UNAVAILABLE_BOUND_S:
            problems.append(f"a 503 took {slowest:.1f} s (bound {UNAVAILABLE_BOUND_S} s)")
        # Answered while PostgreSQL was down (a check takes up to 3 s when it is).
        during = [s for s in health.seen if down_at + 0.5 < s[1] < starting_at]
        if not during or any(s[2] != 503 for s in during):
            seen = [(round(a - down_at, 1), round(b - down_at, 1), status) for a, b, status, _ in health.seen]
            problems.append(f"/healthz while PostgreSQL was away answered {sorted({str(s[2]) for s in during})} "
                            f"(asked, answered in s after the stop, status: {seen})")
        elif not all('"db":"unavailable"' in s[3] for s in during):
            problems.append(f"/healthz while PostgreSQL was away said {during[0][3]}")
        slowest_health = max((s[1] - s[0] for s in during), default=0.0)
        healthy_again = next((s[1] for s in health.seen if s[1] > up_at and s[2] == 200), None)
        if healthy_again is None:
            problems.append("/healthz never answered 200 again after PostgreSQL came back")
        last = health.seen[-1] if health.seen else None
        if last is None or last[2] != 200:
            problems.append(f"/healthz ended on {last}")
        if problems:
            raise Failed("; ".join(problems))
        figures = workload.verify(load, database, workdir, service.base)
        figures.update(scenario="PostgreSQL restart under load", stations=STATIONS, outage_s=OUTAGE_S,
                       answered_503=len(unavailable), slowest_503_s=round(slowest, 2),
                       health_checks_503=len(during), slowest_health_s=round(slowest_health, 2),
                       recovered_s=round(healthy_again - up_at, 2), replays=load.stats.replays + replayed_at_end,
                       statuses=load.stats.statuses)
        report(figures)
    finally:
        if stopped:
            pg_ctl("start")
        service.stop()
        database.drop()
        workload.clean(workdir, service)


def report(figures):
    print("RESULT " + json.dumps(figures, sort_keys=True), flush=True)


def main():
    scenarios = sys.argv[1:] or ["sqlite", "postgres", "outage"]
    for scenario in scenarios:
        if scenario in ("sqlite", "postgres"):
            kill_and_restart(scenario)
        elif scenario == "outage":
            outage()
        else:
            raise Failed(f"unknown scenario {scenario}: sqlite, postgres or outage")
        log(f"{scenario}: passed")
    print(f"reliability: {len(scenarios)} passed; 0 failed (crash.py {' '.join(scenarios)})", flush=True)


if __name__ == "__main__":
    workload.main_guard(main)
