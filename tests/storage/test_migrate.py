"""Schema migrations when several server processes start at once on one database."""

from __future__ import annotations

import subprocess
import sys
import time

from sqlalchemy import create_engine, inspect

OPEN_STORE = """
import os, pathlib, sys, time
from bot.storage.store import Store
pathlib.Path(sys.argv[2] + "." + sys.argv[3]).touch()
while not os.path.exists(sys.argv[2]):  # start together, as replicas do after a deploy
    time.sleep(0.002)
Store(sys.argv[1]).open().close()
"""


def test_processes_starting_together_migrate_one_fresh_database(database_url, tmp_path):
    go, count = tmp_path / "go", 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, database_url, str(go), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.*"))) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * count, "\n".join(outputs)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "conversations", "messages", "tickets", "missed_queries"} <= tables
