#!/usr/bin/env python3
"""Schemathesis against a running greenchip: no 5xx, and every answer as the OpenAPI document says.

Starts the debug binary (built by `cargo test`) on a fresh SQLite file in a temporary folder,
fills it with the demo workshop, creates a supervisor and an API token with the CLI, runs a
pinned schemathesis with a fixed seed and a bounded number of examples against
`/api/v1/openapi.json`, stops the server, and prints `schemathesis: N passed, M failed`
(one per API operation), which .ci/run counts. Exits non-zero on any failure.

Usage: python3 tests/schemathesis/run.py [--max-examples N] [--seed S] [--binary PATH]
Standard library only; schemathesis itself lives in a venv under target/ (made on first use).
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

SCHEMATHESIS_VERSION = "4.32.5"
# Hypothesis drives schemathesis' generation; pinned too, so that a run does not change with
# whatever hypothesis was newest on the day the venv was made.
HYPOTHESIS_VERSION = "6.170.17"
ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))

# Every check that says "no server error, and the answer is what the document promises".
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]

# Operations left out, and why: revoking a token could revoke the very token the run
# authenticates with (its id is listed by GET /tokens), after which every later answer is a
# 401 and the run means nothing.
EXCLUDED = [
    ("DELETE", "/api/v1/tokens/{id}"),
]


def venv_schemathesis() -> Path:
    """The pinned schemathesis and hypothesis, installed into target/schemathesis-venv when missing."""
    venv = TARGET / "schemathesis-venv"
    executable = venv / "bin" / "schemathesis"
    stamp = venv / f"schemathesis-{SCHEMATHESIS_VERSION}-hypothesis-{HYPOTHESIS_VERSION}"
    if executable.exists() and stamp.exists():
        return executable
    print(f"installing schemathesis {SCHEMATHESIS_VERSION} into {venv}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"schemathesis=={SCHEMATHESIS_VERSION}",
            f"hypothesis=={HYPOTHESIS_VERSION}",
        ],
        check=True,
    )
    stamp.touch()
    return executable


class Workshop:
    """A fresh SQLite database in a temporary folder, the CLI against it and a server on it."""

    def __init__(self, binary: Path):
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="greenchip-schemathesis-"))
        self.database = f"sqlite://{self.dir / 'greenchip.db'}"
        self.env = {
            **os.environ,
            "GREENCHIP_CONFIG": str(self.dir / "none.toml"),
            # Issuing certificates is refused without it.
            "GREENCHIP_PUBLIC_URL": "https://greenchip.test",
            "RUST_LOG": "warn",
        }
        self.env.pop("DATABASE_URL", None)
        self.server = None
        self.log = None

    def greenchip(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.binary), *args, "--database-url", self.database],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"greenchip {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> str:
        """Starts the server on a free port; answers its base URL once /healthz says ok."""
        self.log = open(self.dir / "server.log", "w")
        self.server = subprocess.Popen(
            [str(self.binary), "serve", "--addr", "127.0.0.1:0", "--database-url", self.database],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        base = None
        for line in self.server.stdout:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)/", line)
            if found:
                base = found.group(1)
                break
        if base is None:
            raise RuntimeError(f"greenchip exited before listening: {self.server_log()}")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return base
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("/healthz did not answer ok within 30 s")
            time.sleep(0.2)

    def server_log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def tally(junit: Path) -> tuple[int, int, list[str]]:
    """Operations passed and failed, from schemathesis' JUnit report (one test case each)."""
    passed, failed, names = 0, 0, []
    if not junit.exists():
        return 0, 1, ["schemathesis wrote no report"]
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            names.append(case.get("name", "?"))
        elif case.find("skipped") is None:
            passed += 1
    return passed, failed, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(TARGET / "debug" / "greenchip"))
    parser.add_argument("--max-examples", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2010)
    # One worker: with two, hypothesis parses lambdas' source with `ast` from two threads at once,
    # and CPython 3.11 before 3.11.8 (this machine has 3.11.7) can then fail with "AST constructor
    # recursion depth mismatch" (CPython gh-106905), a runtime error of the tool, not of the service.
    # One worker measured as fast here (48 s against 45-49 s with two).
    parser.add_argument("--workers", default="1")
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    args = parser.parse_args()

    # A stop from outside (a CI timeout) still stops the server and removes the folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    binary = Path(args.binary)
    if not binary.exists():
        print(f"{binary} is missing: run `cargo test` (or `cargo build`) first", file=sys.stderr)
        return 2
    schemathesis = venv_schemathesis()

    workshop = Workshop(binary)
    started = time.monotonic()
    try:
        workshop.greenchip("migrate")
        workshop.greenchip("demo")
        workshop.greenchip(
            "user", "add", "--role", "supervisor", "--name", "schemathesis",
            "--password", "schemathesis supervisor password",
        )
        token = workshop.greenchip("token", "create", "--user", "schemathesis").strip()
        base = workshop.start()
        report = workshop.dir / "report"
        command = [
            str(schemathesis), "run", f"{base}/api/v1/openapi.json",
            "--url", base,
            "--header", f"Authorization: Bearer {token}",
            "--checks", ",".join(CHECKS),
            "--phases", args.phases,
            "--max-examples", str(args.max_examples),
            "--seed", str(args.seed),
            "--workers", args.workers,
            "--generation-database", "none",
            "--request-timeout", "30",
            "--report", "junit",
            "--report-junit-path", str(report / "junit.xml"),
            "--no-color",
        ]
        for method, path in EXCLUDED:
            command += ["--exclude-name", f"{method} {path}"]
        print(f"schemathesis {SCHEMATHESIS_VERSION} against {base}, seed {args.seed}, "
              f"at most {args.max_examples} examples per operation", flush=True)
        # In the temporary folder: schemathesis keeps a cache of past failures in its working
        # directory and replays them, which would make one run depend on the last.
        run = subprocess.run(
            command,
            cwd=workshop.dir,
            env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
        )
        elapsed = time.monotonic() - started
        passed, failed, names = tally(report / "junit.xml")
        if run.returncode != 0 and failed == 0:
            failed = 1
            names.append(f"schemathesis exited {run.returncode}")
        if any(line for line in workshop.server_log().splitlines() if "ERROR" in line):
            print("server log errors:\n" + workshop.server_log()[-4000:])
        for name in names:
            print(f"FAIL {name}")
        print(f"run time {elapsed:.0f} s")
        print(f"schemathesis: {passed} passed, {failed} failed")
        return 0 if failed == 0 and passed > 0 else 1
    finally:
        workshop.close()


if __name__ == "__main__":
    sys.exit(main())
