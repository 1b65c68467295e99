"""What the reliability scripts share (Python 3, standard library only): a fresh database
(SQLite file or PostgreSQL), greenchip processes to start and kill, a workshop set up through
the CLI and the API, stations that post scans and ledger operations with client ids from many
threads, the replay of every request whose answer never came, and the checks afterwards.

The workload, per station thread, drawn from a seeded generator:
  - a scan (`POST /api/v1/scans`, `client_scan_id`) of an item or lot code;
  - a transfer of 1 to 50 g between two of a few shared lots
    (`POST /api/v1/lots/{code}/transfers`, `client_id`): a ledger operation that reads and
    writes two balances other stations touch at the same time;
  - an intake of one item (`POST /api/v1/collections/{code}/items`, `Idempotency-Key`).
Every request has its own client id. A request is *acknowledged* when a 2xx answer arrived,
*refused* on a 4xx (nothing written), and *pending* otherwise (no answer, or a 5xx), and
then sent again later with the same client id, as a kiosk replays its queue.
"""

import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "correct horse battery"
PG_ADMIN_URL = os.environ.get("GREENCHIP_RELIABILITY_POSTGRES_URL", "postgres://postgres@127.0.0.1/postgres")
# Each shared lot starts with this much copper cable; transfers move 1 to 50 g, so no lot empties.
LOT_START_G = 1_000_000
REQUEST_TIMEOUT_S = 15


class Failed(Exception):
    """A check that did not hold; the message says which."""


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def binary():
    """The greenchip binary: the debug build `cargo test` made, or the release build with
    GREENCHIP_RELEASE=1 (the documented long run)."""
    profile = "release" if os.environ.get("GREENCHIP_RELEASE") == "1" else "debug"
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    path = os.environ.get("GREENCHIP_BINARY", os.path.join(target, profile, "greenchip"))
    if not os.access(path, os.X_OK):
        raise Failed(f"no greenchip binary at {path}: run `cargo build{' --release' if profile == 'release' else ''}` first")
    return path


def postgres_cluster():
    """The local cluster's version (e.g. `15`), for pg_ctlcluster."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
    if not versions:
        raise Failed("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


class Database:
    """A fresh database: a SQLite file in `workdir`, or a new PostgreSQL database."""

    def __init__(self, kind, workdir):
        self.kind = kind
        if kind == "sqlite":
            self.path = os.path.join(workdir, "greenchip.db")
            self.url = f"sqlite://{self.path}"
        else:
            self.name = "gc_reliability_" + uuid.uuid4().hex[:12]
            self.admin = PG_ADMIN_URL
            psql(self.admin, f'CREATE DATABASE "{self.name}"')
            self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.name

    def query(self, sql):
        """Rows as tuples of text (PostgreSQL) or Python values (SQLite)."""
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.path, timeout=30)
            try:
                return connection.execute(sql).fetchall()
            finally:
                connection.close()
        out = psql(self.url, sql, fields=True)
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def drop(self):
        if self.kind == "postgres":
            psql(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def psql(url, sql, fields=False):
    args = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt"]
    if fields:
        args += ["-F", "\t"]
    done = subprocess.run(args + ["-c", sql], capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"psql failed: {done.stderr.strip()}")
    return done.stdout


class Service:
    """One greenchip process serving a database on 127.0.0.1."""

    def __init__(self, database, workdir, name="greenchip"):
        self.database = database
        self.workdir = workdir
        self.name = name
        self.process = None
        self.port = 0
        self.log_path = os.path.join(workdir, f"{name}.log")

    @property
    def base(self):
        return f"127.0.0.1:{self.port}"

    def start(self, port=None):
        """Starts it (on the same port as before when restarting) and waits until it listens."""
        port = self.port if port is None else port
        env = environment(self.workdir)
        with open(self.log_path, "a") as log_file:
            self.process = subprocess.Popen(
                [binary(), "serve", "--addr", f"127.0.0.1:{port}", "--database-url", self.database.url],
                env=env, cwd=self.workdir, stdout=subprocess.PIPE, stderr=log_file, text=True)
        lines = queue.Queue()

        def drain(stream):
            # tracing writes to standard output: keep it in the log beside standard error.
            with open(self.log_path, "a") as log_file:
                for line in stream:
                    log_file.write(line)
                    log_file.flush()
                    lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, args=(self.process.stdout,), daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                return self
        self.process.kill()
        raise Failed(f"{self.name} did not start; see {self.log_path}")

    def kill(self):
        """SIGKILL: no shutdown, no flush, as a power cut would leave the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def environment(workdir):
    return dict(os.environ, GREENCHIP_CONFIG=os.path.join(workdir, "none.toml"),
                RUST_LOG=os.environ.get("RUST_LOG", "warn"))


def cli(database, workdir, *args, check=True):
    done = subprocess.run([binary(), *args, "--database-url", database.url], env=environment(workdir),
                          cwd=workdir, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise Failed(f"greenchip {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done


# --- HTTP ---------------------------------------------------------------------------------


class Answer:
    def __init__(self, status, headers, body, elapsed_s):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed_s = elapsed_s

    def json(self):
        return json.loads(self.body) if self.body else None


def request(base, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT_S, connection=None):
    """One HTTP request; answers an Answer, or raises OSError / http.client errors when no
    answer came (refused, reset, timed out)."""
    started = time.monotonic()
    own = connection is None
    if own:
        host, port = base.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        data = json.dumps(body) if body is not None else None
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        text = response.read().decode()
        headers = {}
        for key, value in response.getheaders():
            key = key.lower()
            # Several cookies may be set at once (a session and a login device): one a line.
            headers[key] = f"{headers[key]}\n{value}" if key == "set-cookie" and key in headers else value
        return Answer(response.status, headers, text, time.monotonic() - started)
    finally:
        if own:
            connection.close()


def expect(answer, status, what):
    if answer.status != status:
        raise Failed(f"{what}: expected {status}, got {answer.status}: {answer.body[:500]}")
    return answer.json()


# --- the workshop -------------------------------------------------------------------------


class Workshop:
    """What the stations work with: tokens, stations with an apprentice signed in, shared lots."""

    def __init__(self):
        self.token = None
        self.badges = []
        self.collection = None
        self.items = []
        self.lots = []
        self.stations = []  # (code, device token)


def prepare(database, workdir, stations):
    """Users and an API token through the CLI (as an operator would), before any server runs."""
    shop = Workshop()
    cli(database, workdir, "migrate")
    cli(database, workdir, "user", "add", "--role", "supervisor", "--name", "samira", "--password", PASSWORD)
    for index in range(stations + 1):
        out = cli(database, workdir, "user", "add", "--role", "apprentice", "--name", f"apprentice{index}").stdout
        shop.badges.append(re.search(r"badge: (AP-\w+)", out).group(1))
    shop.token = cli(database, workdir, "token", "create", "--user", "samira").stdout.strip().splitlines()[-1]
    return shop


def build(shop, base, stations, lots=6):
    """A partner, a collection of items, `lots` shared lots of copper cable (each an item
    triaged and dismantled), and `stations` sorting stations, each with an enrolled device
    and an apprentice signed in."""
    auth = {"Authorization": f"Bearer {shop.token}"}
    partner = expect(request(base, "POST", "/api/v1/partners", {"name": "Reliability partner", "kind": "company"}, auth),
                     201, "create a partner")
    collection = expect(request(base, "POST", "/api/v1/collections", {"partner_id": partner["id"]}, auth),
                        201, "create a collection")
    shop.collection = collection["code"]
    kinds = ["desktop_pc", "laptop", "lcd_monitor", "printer", "network_switch"]
    items = expect(request(base, "POST", f"/api/v1/collections/{shop.collection}/items/bulk",
                           {"items": [{"kind": kinds[n % 5], "mass_g": 2000 + n} for n in range(100)]}, auth),
                   201, "receive items")
    shop.items = [item["code"] for item in items]
    triage = station(shop, base, auth, "triage", shop.badges[-1])
    dismantling = station(shop, base, auth, "dismantling", shop.badges[-1])
    cables = expect(request(base, "POST", f"/api/v1/collections/{shop.collection}/items/bulk",
                            {"items": [{"kind": "cables", "mass_g": LOT_START_G} for _ in range(lots)]}, auth),
                    201, "receive cable bundles")
    for bundle in cables:
        code = bundle["code"]
        device(base, triage, "POST", "/api/v1/station/actions", {
            "client_action_id": f"triage-{code}", "item": code, "action": "triage",
            "decision": "dismantle", "reason": "cable"})
        device(base, dismantling, "POST", "/api/v1/station/actions", {
            "client_action_id": f"start-{code}", "item": code, "action": "start_dismantling"})
        done = device(base, dismantling, "POST", "/api/v1/dismantlings", {
            "client_id": f"dismantle-{code}", "item": code,
            "fractions": [{"material": "CU-CABLE", "mass_g": LOT_START_G}]})
        shop.lots.append(done["opened_lots"][0])
    for index in range(stations):
        shop.stations.append(station(shop, base, auth, "sorting", shop.badges[index]))
    return shop


def station(shop, base, auth, kind, badge):
    """A station of `kind` with an enrolled device and `badge` signed in: (code, device token)."""
    created = expect(request(base, "POST", "/api/v1/stations", {"name": f"{kind} {uuid.uuid4().hex[:6]}", "kind": kind}, auth),
                     201, "create a station")
    enrolled = request(base, "POST", f"/api/v1/stations/{created['code']}/devices", {"name": "reliability"}, auth)
    expect(enrolled, 201, "enrol a device")
    token = enrolled.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    at = (created["code"], token)
    signed = device(base, at, "POST", "/api/v1/scans", {"station": created["code"], "raw": badge, "client_scan_id": "badge"})
    if signed["result"] != "signed_in":
        raise Failed(f"badge {badge} did not sign in at {created['code']}: {signed}")
    return at


def device(base, at, method, path, body):
    answer = request(base, method, path, body, {"X-Station-Token": at[1]})
    return expect(answer, 200, f"{method} {path}")


# --- the load -----------------------------------------------------------------------------


class Op:
    """One request a station means to make, with every attempt's outcome."""

    __slots__ = ("kind", "client_id", "path", "body", "headers", "state", "answer", "attempts",
                 "unanswered", "last_base", "transfer")

    def __init__(self, kind, client_id, path, body, headers, transfer=None):
        self.kind = kind
        self.client_id = client_id
        self.path = path
        self.body = body
        self.headers = headers
        self.state = "new"  # acked, refused, pending
        self.answer = None
        self.attempts = 0
        self.unanswered = 0  # attempts that got no answer or a 5xx
        self.last_base = None
        self.transfer = transfer  # (from lot, to lot, grams)


class Stats:
    """Shared, lock-protected counters and observations."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = {}
        self.server_errors = []  # (status, code, body) of every 5xx other than 503
        self.unavailable = []  # (elapsed_s, content type, code, retry-after) of each 503
        self.no_answer = 0
        self.replays = 0
        self.retries_elsewhere = 0
        self.duplicates_sent = 0
        self.duplicate_mismatch = []

    def note(self, answer):
        with self.lock:
            self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
            if answer.status == 503:
                code = None
                try:
                    code = answer.json().get("code")
                except (ValueError, AttributeError):
                    pass
                self.unavailable.append((answer.elapsed_s, answer.headers.get("content-type"), code,
                                         answer.headers.get("retry-after")))
            elif answer.status >= 500:
                self.server_errors.append((answer.status, answer.body[:300]))


class Load:
    """`stations` threads, each a station device, posting until stopped. `bases` are the
    instances' `host:port`; a station sends each new request to the next instance in turn and
    a retry to a different one than the last try."""

    def __init__(self, shop, bases, seed=2026, receive_share=0.15, transfer_share=0.35, duplicate_share=0.0):
        self.shop = shop
        self.bases = list(bases)
        self.stop = threading.Event()
        self.stats = Stats()
        self.ops = []
        self.ops_lock = threading.Lock()
        self.seed = seed
        self.receive_share = receive_share
        self.transfer_share = transfer_share
        self.duplicate_share = duplicate_share
        self.threads = []

    def start(self):
        for index, at in enumerate(self.shop.stations):
            thread = threading.Thread(target=self.station, args=(index, at), daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=REQUEST_TIMEOUT_S * 3)
        if any(thread.is_alive() for thread in self.threads):
            raise Failed("a station thread did not stop")

    def new_op(self, index, at, n, rng):
        draw = rng.random()
        client_id = f"s{index}-{n}"
        if draw < self.receive_share:
            return Op("receive", client_id, f"/api/v1/collections/{self.shop.collection}/items",
                      {"kind": "cables", "mass_g": rng.randint(100, 5000)},
                      {"Authorization": f"Bearer {self.shop.token}", "Idempotency-Key": f"rel-{client_id}"})
        if draw < self.receive_share + self.transfer_share:
            source, target = rng.sample(self.shop.lots, 2)
            grams = rng.randint(1, 50)
            return Op("transfer", client_id, f"/api/v1/lots/{source}/transfers",
                      {"client_id": client_id, "mass_g": grams, "outputs": [{"lot": target, "mass_g": grams}]},
                      {"X-Station-Token": at[1]}, transfer=(source, target, grams))
        raw = rng.choice(self.shop.items + self.shop.lots)
        return Op("scan", client_id, "/api/v1/scans", {"station": at[0], "raw": raw, "client_scan_id": client_id},
                  {"X-Station-Token": at[1]})

    def send(self, op, base, connection_pool):
        """One attempt at `base`; records its outcome on the op."""
        op.attempts += 1
        op.last_base = base
        try:
            answer = request(base, "POST", op.path, op.body, op.headers, connection=connection_pool.get(base))
        except (OSError, http.client.HTTPException):
            connection_pool.drop(base)
            op.unanswered += 1
            op.state = "pending"
            with self.stats.lock:
                self.stats.no_answer += 1
            return None
        self.stats.note(answer)
        if 200 <= answer.status < 300:
            op.state = "acked"
            op.answer = answer.json()
        elif answer.status >= 500:
            op.unanswered += 1
            op.state = "pending"
        else:
            op.state = "refused"
            op.answer = answer.json()
        return answer

    def other_base(self, op):
        if len(self.bases) == 1 or op.last_base not in self.bases:
            return self.bases[0]
        return self.bases[(self.bases.index(op.last_base) + 1) % len(self.bases)]

    def station(self, index, at):
        rng = random.Random(f"{self.seed}-{index}")
        pool = Connections()
        pending = []
        n = 0
        turn = index
        while not self.stop.is_set():
            if pending:
                op = pending[0]
                base = self.other_base(op)
                with self.stats.lock:
                    self.stats.replays += 1
                    if base != op.last_base:
                        self.stats.retries_elsewhere += 1
                self.send(op, base, pool)
                if op.state == "pending":
                    time.sleep(0.25)
                    continue
                pending.pop(0)
                continue
            n += 1
            op = self.new_op(index, at, n, rng)
            with self.ops_lock:
                self.ops.append(op)
            base = self.bases[turn % len(self.bases)]
            turn += 1
            self.send(op, base, pool)
            if op.state == "pending":
                pending.append(op)
                time.sleep(0.25)
            elif op.state == "acked" and self.duplicate_share and rng.random() < self.duplicate_share:
                self.duplicate(op, pool)
        pool.close()

    def duplicate(self, op, pool):
        """Sends an acknowledged request again to another instance, as a device that lost the
        answer would: it must answer the first result, marked replayed, and write nothing."""
        first = op.answer
        base = self.other_base(op)
        with self.stats.lock:
            self.stats.duplicates_sent += 1
        try:
            answer = request(base, "POST", op.path, op.body, op.headers, connection=pool.get(base))
        except (OSError, http.client.HTTPException):
            pool.drop(base)
            return
        self.stats.note(answer)
        if answer.status >= 500:
            return
        again = answer.json() if 200 <= answer.status < 300 else None
        if not same_result(op.kind, first, again):
            with self.stats.lock:
                self.stats.duplicate_mismatch.append((op.kind, op.client_id, answer.status, answer.body[:300]))

    def replay_all(self, deadline_s=120):
        """After the load: sends every request still unanswered until each is acknowledged or
        refused. Answers how many were replayed here."""
        pool = Connections()
        replayed = 0
        deadline = time.monotonic() + deadline_s
        for op in self.ops:
            while op.state == "pending":
                if time.monotonic() > deadline:
                    raise Failed(f"request {op.client_id} still unanswered after {deadline_s} s of replays")
                replayed += 1
                self.send(op, self.other_base(op), pool)
                if op.state == "pending":
                    time.sleep(0.5)
        pool.close()
        return replayed


def same_result(kind, first, again):
    if again is None:
        return False
    if kind == "receive":
        return again.get("code") == first.get("code")
    if kind == "transfer":
        return again.get("operation_id") == first.get("operation_id") and again.get("replayed") is True
    return again.get("replayed") is True and again.get("result") == first.get("result")


class Connections:
    """Keep-alive connections per instance, one set per station thread."""

    def __init__(self):
        self.by_base = {}

    def get(self, base):
        if base not in self.by_base:
            host, port = base.split(":")
            self.by_base[base] = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT_S)
        return self.by_base[base]

    def drop(self, base):
        connection = self.by_base.pop(base, None)
        if connection:
            connection.close()

    def close(self):
        for connection in self.by_base.values():
            connection.close()
        self.by_base.clear()


# --- the checks ---------------------------------------------------------------------------


def verify(load, database, workdir, base):
    """Every acknowledged request is in the database exactly once, no refused one is, every
    shared lot holds exactly what the acknowledged transfers say, no balance is negative, and
    `greenchip ledger check` is clean. Answers the figures."""
    ops = load.ops
    if any(op.state == "pending" for op in ops):
        raise Failed("verify before every request was answered")
    scans = {row[0]: int(row[1]) for row in database.query(
        "SELECT client_scan_id, COUNT(*) FROM scans WHERE client_scan_id LIKE 's%-%' GROUP BY client_scan_id")}
    keys = {}
    for (key,) in database.query(
            "SELECT idempotency_key FROM operations WHERE idempotency_key LIKE 'transfer:%' "
            "OR idempotency_key LIKE 'rel-%'"):
        if key.startswith("transfer:"):
            client_id = key.rsplit(":", 1)[1]
        else:
            client_id = key[len("rel-"):].rsplit("/", 1)[0]
        keys[client_id] = keys.get(client_id, 0) + 1
    problems = []
    figures = {"requests": len(ops), "acknowledged": 0, "refused": 0, "lost": 0, "duplicates": 0,
               "unanswered_then_replayed": 0, "by_kind": {}}
    expected = {lot: LOT_START_G for lot in load.shop.lots}
    for op in ops:
        found = scans.get(op.client_id, 0) if op.kind == "scan" else keys.get(op.client_id, 0)
        figures["by_kind"][op.kind] = figures["by_kind"].get(op.kind, 0) + 1
        if op.unanswered:
            figures["unanswered_then_replayed"] += 1
        if op.state == "acked":
            figures["acknowledged"] += 1
            if found == 0:
                figures["lost"] += 1
                problems.append(f"acknowledged {op.kind} {op.client_id} is missing")
            if op.transfer:
                source, target, grams = op.transfer
                expected[source] -= grams
                expected[target] += grams
        else:
            figures["refused"] += 1
            if found:
                problems.append(f"refused {op.kind} {op.client_id} was written: {op.answer}")
        if found > 1:
            figures["duplicates"] += 1
            problems.append(f"{op.kind} {op.client_id} is present {found} times")
    sent = {op.client_id for op in ops}
    strays = [cid for cid in list(scans) + list(keys) if cid not in sent]
    if strays:
        problems.append(f"{len(strays)} writes no station sent, e.g. {strays[:3]}")
    for lot, grams in expected.items():
        rows = database.query(f"SELECT balance_g FROM holders WHERE code = '{lot}'")
        if int(rows[0][0]) != grams:
            problems.append(f"lot {lot} holds {rows[0][0]} g; the acknowledged transfers say {grams} g")
    negative = database.query(
        "SELECT code, account_key, balance_g FROM holders WHERE balance_g < 0 "
        "AND (account IS NULL OR account NOT IN ('intake', 'weighing_variance'))")
    if negative:
        problems.append(f"negative balances: {negative}")
    total = database.query("SELECT SUM(balance_g) FROM holders")[0][0]
    if int(total) != 0:
        problems.append(f"the balances sum to {total} g, not 0")
    checked = cli(database, workdir, "ledger", "check", check=False)
    if checked.returncode != 0:
        problems.append(f"greenchip ledger check: {checked.stdout.strip()} {checked.stderr.strip()}")
    figures["ledger_check"] = checked.stdout.strip().splitlines()[-1] if checked.stdout.strip() else ""
    if problems:
        raise Failed("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
    return figures


def clean(workdir, *services):
    """Removes the working folder after a pass; after a failure keeps it and names the logs."""
    if sys.exc_info()[0] is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        for service in services:
            print(f"log of {service.name}: {service.log_path}", file=sys.stderr)


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def main_guard(run):
    """Runs `run()`, prints the failure and exits 1 on a Failed."""
    try:
        run()
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
