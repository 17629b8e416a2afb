"""Group commit: concurrent writes share transactions, each caller sees only its own failure, and
a write is committed by the time `run` returns."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from bot.storage.database import StoreUnavailable
from bot.storage.group_commit import GroupCommit
from bot.storage.schema import Conversation
from bot.storage.store import Store


@pytest.fixture
def store(database_url):
    store = Store(database_url).open()
    yield store
    store.close()


def add(conversation_id: str):
    def job(session):
        session.add(Conversation(id=conversation_id, channel="web", state={}))
        return conversation_id

    return job


def stored(store: Store) -> set[str]:
    with store.reading() as session:
        return set(session.scalars(select(Conversation.id)))


def test_concurrent_writes_share_commits_and_are_durable_on_return(store):
    commits = []

    def counted(_connection) -> None:
        if threading.current_thread().name == "faqbot-group-commit":
            commits.append(1)

    event.listen(store.engine, "commit", counted)
    seen_on_return = []
    gate = threading.Barrier(16)

    def writer(i: int) -> None:
        gate.wait()
        for j in range(10):
            cid = store.write(add(f"c-{i}-{j}"))
            seen_on_return.append(cid in stored(store))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stored(store) >= {f"c-{i}-{j}" for i in range(16) for j in range(10)}
    assert all(seen_on_return)  # run() returned only after the COMMIT that holds the write
    assert 0 < len(commits) < 160  # 160 writes, fewer transactions


def test_a_failing_write_fails_alone():
    committed: list[list[str]] = []
    hold = threading.Event()

    @contextmanager
    def transaction():
        rows: list[str] = []
        hold.wait(5)  # let the writes queue up so they land in one batch
        yield rows
        committed.append(rows)

    def good(name):
        return lambda rows: rows.append(name) or name

    def bad(rows):
        rows.append("half-done")
        raise ValueError("bad input")

    group = GroupCommit(transaction)
    results: dict[str, object] = {}

    def call(name, job):
        try:
            results[name] = group.run(job)
        except ValueError as exc:
            results[name] = exc

    threads = [threading.Thread(target=call, args=(n, j)) for n, j in
               [("a", good("a")), ("bad", bad), ("b", good("b"))]]  # fmt: skip
    for t in threads:
        t.start()
    hold.set()
    for t in threads:
        t.join()
    group.close()
    assert results["a"] == "a" and results["b"] == "b"
    assert isinstance(results["bad"], ValueError)
    assert all("half-done" not in rows for rows in committed)  # the failed write never committed
    assert sorted(name for rows in committed for name in rows) == ["a", "b"]


def test_an_unreachable_database_fails_every_write_of_the_batch():
    @contextmanager
    def transaction():
        yield None
        raise StoreUnavailable("connection refused", in_doubt=True)

    group = GroupCommit(transaction)
    with pytest.raises(StoreUnavailable) as caught:
        group.run(lambda _session: "written")
    assert caught.value.in_doubt
    group.close()


def test_writes_after_close_start_a_new_writer(store):
    store.write(add("before"))
    store.close()
    store.write(add("after"))
    assert {"before", "after"} <= stored(store)
