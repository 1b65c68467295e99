#!/usr/bin/env python3
"""Copies a greenchip SQLite database into a PostgreSQL one, table by table with COPY.

The report benchmark's history of 1,000,000 items is generated through the real ledger on
SQLite (`cargo bench --bench reports`, about half an hour); posting it again through the
service on PostgreSQL would take hours. This copies the rows as they are instead:

    GREENCHIP_BENCH_ITEMS=1000000 cargo bench --bench reports        # makes the SQLite file
    createdb -h 127.0.0.1 -U postgres gc_reports
    DATABASE_URL=postgres://postgres@127.0.0.1/gc_reports target/release/greenchip migrate
    python3 benches/copy_to_postgres.py target/bench-reports-1000000.db \
        postgres://postgres@127.0.0.1/gc_reports
    GREENCHIP_BENCH_ITEMS=1000000 \
    GREENCHIP_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/gc_reports \
        cargo bench --bench reports

Every table but the migrations' is emptied and copied, with triggers (append-only, foreign
keys) off during the copy (`session_replication_role = replica`), then analysed. Both
databases must be at the same migration. Standard library only, plus `psql` on the PATH.
"""

import sqlite3
import subprocess
import sys
import uuid

SKIP = {"seaql_migrations", "sqlite_sequence"}


def psql(url, sql):
    return subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pg_columns(url, table):
    rows = psql(
        url,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position",
    )
    return [tuple(line.split("|", 1)) for line in rows.splitlines() if line]


def escape(text):
    return (
        text.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def cell(value, data_type):
    if value is None:
        return "\\N"
    if data_type == "uuid":
        if isinstance(value, bytes):
            return str(uuid.UUID(bytes=value))
        return str(value)
    if data_type == "bytea":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return "\\\\x" + raw.hex()
    if data_type == "boolean":
        return "t" if value else "f"
    if isinstance(value, bytes):
        return escape(value.decode("utf-8", "replace"))
    return escape(str(value))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, url = sys.argv[1], sys.argv[2]
    lite = sqlite3.connect(source)
    tables = [
        name
        for (name,) in lite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if name not in SKIP
    ]
    psql(url, "TRUNCATE " + ", ".join(tables) + " CASCADE")
    for table in tables:
        columns = pg_columns(url, table)
        names = [name for name, _ in columns]
        types = [data_type for _, data_type in columns]
        copy = subprocess.Popen(
            [
                "psql",
                url,
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                "SET session_replication_role = replica; "
                f"COPY {table} ({', '.join(names)}) FROM STDIN",
            ],
            stdin=subprocess.PIPE,
            text=True,
        )
        rows = 0
        cursor = lite.execute(f"SELECT {', '.join(names)} FROM {table}")
        while True:
            batch = cursor.fetchmany(10_000)
            if not batch:
                break
            copy.stdin.write(
                "".join(
                    "\t".join(cell(v, t) for v, t in zip(row, types)) + "\n"
                    for row in batch
                )
            )
            rows += len(batch)
        copy.stdin.close()
        if copy.wait() != 0:
            sys.exit(f"copying {table} failed")
        print(f"{table}: {rows} rows", flush=True)
    psql(url, "VACUUM ANALYZE")


if __name__ == "__main__":
    main()
