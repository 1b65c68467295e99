#!/usr/bin/env python3
"""Scan throughput and latency: 64 enrolled stations posting scans with distinct client ids
for 30 s against a running release build (docs/benchmarks.md has the figures).

    cargo build --release
    python3 benches/scans.py                      # SQLite, a fresh file
    python3 benches/scans.py postgres://postgres@127.0.0.1/gc_scans   # PostgreSQL (emptied first)
    RATE=2000 python3 benches/scans.py            # the latency at about 2,000 scans/s offered
    SERVER_CPUS=1 WRK_CPUS=0 python3 benches/scans.py   # each pinned to a core (taskset)

Without RATE every station scans again as soon as it is answered (the most the service
can take, where the latency is the queue: 64 ÷ throughput on average). With RATE each
station pauses a random time between scans, chosen so that the 64 of them offer about
RATE scans a second; the achieved rate is printed with the latency.

Needs wrk (Debian: wrk). Everything runs on 127.0.0.1 and stops by itself.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "greenchip")
STATIONS = int(os.environ.get("STATIONS", "64"))
DURATION_S = int(os.environ.get("DURATION_S", "30"))
PASSWORD = "correct horse battery"

def pinned(variable):
    """`taskset -c <cpus>` when the variable names CPUs for that process, else nothing."""
    cpus = os.environ.get(variable)
    return ["taskset", "-c", cpus] if cpus else []


LUA = r"""
local devices = dofile(os.getenv("SCAN_DEVICES"))
local counter = 0
local next_thread = 0
local items = devices.items

-- Runs in the main state: each thread gets its own number as the global `tid`.
function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

request = function()
  counter = counter + 1
  local id = tid or 0
  local device = devices.stations[(counter * 7 + id) % #devices.stations + 1]
  local item = items[(counter * 13 + id) % #items + 1]
  local body = '{"station":"' .. device.code .. '","raw":"' .. item .. '","client_scan_id":"t' .. id .. '-' .. counter .. '"}'
  return wrk.format("POST", "/api/v1/scans", {
    ["Content-Type"] = "application/json",
    ["X-Station-Token"] = device.token,
  }, body)
end

-- With SCAN_DELAY_MS set, each connection pauses a random time (exponential, that mean)
-- between its scans: stations scanning at a given pace rather than as fast as they can.
local pause_ms = tonumber(os.getenv("SCAN_DELAY_MS") or "0")
if pause_ms > 0 then
  delay = function()
    return math.floor(-math.log(1 - math.random()) * pause_ms)
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d errors_connect=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def call(base, method, path, body=None, cookie=None):
    request = urllib.request.Request(base + path, method=method)
    request.add_header("Content-Type", "application/json")
    if cookie:
        request.add_header("Cookie", cookie)
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(request, data) as response:
        text = response.read().decode()
        return response, (json.loads(text) if text else None)


def main():
    workdir = tempfile.mkdtemp(prefix="greenchip-scans-")
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite://{workdir}/greenchip.db"
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
        subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    env = dict(os.environ, GREENCHIP_CONFIG=os.path.join(workdir, "none.toml"), RUST_LOG="warn")
    run = lambda *args: subprocess.run([BINARY, *args, "--database-url", url], env=env, cwd=workdir,
                                       check=True, capture_output=True, text=True).stdout
    run("migrate")
    run("user", "add", "--role", "supervisor", "--name", "samira", "--password", PASSWORD)
    badges = []
    for index in range(STATIONS):
        out = run("user", "add", "--role", "apprentice", "--name", f"apprentice{index}")
        badges.append(re.search(r"badge: (AP-\w+)", out).group(1))
    server = subprocess.Popen([*pinned("SERVER_CPUS"), BINARY, "serve", "--addr", "127.0.0.1:0", "--database-url", url], env=env,
                              cwd=workdir, stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in server.stdout:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        base = f"http://127.0.0.1:{port}"
        response, _ = call(base, "POST", "/api/v1/auth/login", {"login": "samira", "password": PASSWORD})
        cookie = response.headers["Set-Cookie"].split(";")[0]
        _, partner = call(base, "POST", "/api/v1/partners", {"name": "Bench partner", "kind": "company"}, cookie)
        _, collection = call(base, "POST", "/api/v1/collections", {"partner_id": partner["id"]}, cookie)
        kinds = ["desktop_pc", "laptop", "lcd_monitor", "printer", "network_switch"]
        _, items = call(base, "POST", f"/api/v1/collections/{collection['code']}/items/bulk",
                        {"items": [{"kind": kinds[n % 5], "mass_g": 2000 + n} for n in range(500)]}, cookie)
        stations = []
        for index in range(STATIONS):
            _, station = call(base, "POST", "/api/v1/stations", {"name": f"Bench {index}", "kind": "dismantling"}, cookie)
            response, _ = call(base, "POST", f"/api/v1/stations/{station['code']}/devices", {"name": "bench"}, cookie)
            token = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
            request = urllib.request.Request(base + "/api/v1/scans", method="POST",
                                             data=json.dumps({"station": station["code"], "raw": badges[index],
                                                              "client_scan_id": "badge"}).encode())
            request.add_header("Content-Type", "application/json")
            request.add_header("X-Station-Token", token)
            urllib.request.urlopen(request).read()
            stations.append({"code": station["code"], "token": token})
        devices = os.path.join(workdir, "devices.lua")
        with open(devices, "w") as out:
            out.write("return { stations = {")
            out.write(",".join('{code="%s",token="%s"}' % (s["code"], s["token"]) for s in stations))
            out.write("}, items = {")
            out.write(",".join('"%s"' % i["code"] for i in items))
            out.write("} }\n")
        script = os.path.join(workdir, "scans.lua")
        with open(script, "w") as out:
            out.write(LUA)
        started = time.time()
        wrk_env = dict(os.environ, SCAN_DEVICES=devices)
        rate = float(os.environ.get("RATE", "0"))
        if rate > 0:
            # A station's cycle is its pause plus the answer's few milliseconds.
            wrk_env["SCAN_DELAY_MS"] = str(max(1.0, 1000.0 * STATIONS / rate - 3.0))
        result = subprocess.run([*pinned("WRK_CPUS"), "wrk", "-t2", f"-c{STATIONS}", f"-d{DURATION_S}s", "--latency", "-s", script, base],
                                env=wrk_env, capture_output=True, text=True, check=True)
        elapsed = time.time() - started
        stats = dict(re.findall(r"(\w+)=(\d+)", result.stdout.split("RESULT", 1)[1]))
        requests = int(stats["requests"])
        seconds = int(stats["duration_us"]) / 1e6
        _, log = call(base, "GET", f"/api/v1/stations/{stations[0]['code']}/scans?limit=5", None, cookie)
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"| {backend} | {STATIONS} | {DURATION_S} | {requests} | {requests / seconds:.0f} | "
              f"{int(stats['p50_us']) / 1000:.1f} | {int(stats['p99_us']) / 1000:.1f} | "
              f"{int(stats['errors_status']) + int(stats['errors_connect'])} |")
        print(f"(wall {elapsed:.0f} s; last scans logged at {stations[0]['code']}: {len(log)})", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
