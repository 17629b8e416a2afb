"""The spool: durable before an append returns, self-checking lines, torn tails ignored, damaged
lines set aside, and the segments of a process that died adopted by another."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.durability.spool import REJECTED, Spool, SpoolUnavailable, decode, encode, read_segment


def turn(n: int, conversation: str = "c_1") -> dict:
    return {"conversation_id": conversation, "n": n, "text": f"domanda {n} è già? 🙂"}


def drain(spool: Spool) -> list[dict]:
    """Everything waiting, in replay order, marked done (as the replayer does)."""
    seen = []
    for path in spool.backlog():
        for record in spool.records(path):
            seen.append(record)
            spool.applied(path, record)
        spool.finished(path)
    return seen


def test_records_come_back_in_order_and_the_spool_empties(tmp_path):
    spool = Spool(tmp_path / "spool").open()
    for n in range(5):
        spool.append(turn(n, f"c_{n % 2}"))
    assert spool.pending() == 5 and spool.holds("c_0") and spool.holds("c_1")
    assert drain(spool) == [turn(n, f"c_{n % 2}") for n in range(5)]
    assert spool.pending() == 0 and not spool.holds("c_0")
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == [f"{spool.owner}.lock"]
    spool.close()
    assert list((tmp_path / "spool").iterdir()) == []


def test_an_append_is_fsynced_before_it_returns(tmp_path, monkeypatch):
    """The file and, for a new segment, its directory entry: a power loss keeps what was acknowledged."""
    import bot.durability.spool

    events: list[tuple[str, str]] = []
    real_fsync, real_write = os.fsync, os.write

    def name(fd: int) -> str:
        return Path(os.readlink(f"/proc/self/fd/{fd}")).name

    def fsync(fd: int) -> None:
        real_fsync(fd)
        events.append(("fsync", name(fd)))

    def write(fd: int, data) -> int:
        events.append(("write", name(fd)))
        return real_write(fd, data)

    spool = Spool(tmp_path / "spool").open()
    monkeypatch.setattr(bot.durability.spool.os, "fsync", fsync)
    monkeypatch.setattr(bot.durability.spool.os, "write", write)
    spool.append(turn(1))
    segment = f"{spool.owner}.00000001.jsonl"
    assert events == [("fsync", "spool"), ("write", segment), ("fsync", segment)]
    events.clear()
    spool.append(turn(2))
    assert events == [("write", segment), ("fsync", segment)]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text(), st.text() | st.integers() | st.floats(allow_nan=False)), st.data())
def test_any_damaged_byte_is_caught_by_the_checksum(record, data):
    line = encode(record)
    assert decode(line) == record
    position = data.draw(st.integers(0, len(line) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != line[position]))
    assert decode(line[:position] + bytes([byte]) + line[position + 1 :]) is None


def test_lone_surrogates_and_any_text_survive(tmp_path):
    spool = Spool(tmp_path / "spool").open()
    odd = {"conversation_id": "c", "text": "a\ud800b\x00c\u2028d\nè"}
    spool.append(odd)
    assert drain(spool) == [odd]


def test_a_torn_last_line_is_ignored_and_the_rest_replayed(tmp_path):
    directory = tmp_path / "spool"
    dead = Spool(directory).open()
    for n in range(3):
        dead.append(turn(n))
    dead.close()  # the process is gone; its segment stays for another to adopt
    segment = next(directory.glob("*.jsonl"))
    with segment.open("ab") as f:
        f.write(encode(turn(99))[:40])  # a crash in the middle of the fourth append
    assert read_segment(segment).torn
    heir = Spool(directory).open()
    assert heir.adopt() == 3
    assert drain(heir) == [turn(0), turn(1), turn(2)]
    assert not (directory / REJECTED).exists()
    assert not segment.exists()


def test_a_damaged_line_is_set_aside_and_the_others_replayed(tmp_path):
    directory = tmp_path / "spool"
    dead = Spool(directory).open()
    for n in range(3):
        dead.append(turn(n))
    dead.close()
    segment = next(directory.glob("*.jsonl"))
    lines = segment.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"domanda 1", b"domanda 7")  # bit rot in the middle line
    segment.write_bytes(b"\n".join(lines))
    heir = Spool(directory).open()
    assert drain(heir) == [turn(0), turn(2)]
    rejected = [decode(line + b"\n") for line in (directory / REJECTED).read_bytes().splitlines()]
    assert len(rejected) == 1 and rejected[0]["reason"] == "damaged line"
    assert "domanda 7" in rejected[0]["record"]["raw"]


HOLD_A_SPOOL = """
import sys, time
from pathlib import Path
from bot.durability.spool import Spool
spool = Spool(Path(sys.argv[1])).open()
for n in range(3):
    spool.append({"conversation_id": "c_dead", "n": n})
print("ready", flush=True)
time.sleep(600)
"""


def test_a_live_process_keeps_its_spool_and_a_killed_one_is_adopted(tmp_path):
    directory = tmp_path / "spool"
    owner = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SPOOL, str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout.readline().strip() == "ready"
        other = Spool(directory).open()
        assert other.adopt() == 0 and other.pending() == 0  # its owner is alive: hands off
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        assert other.adopt() == 3 and other.pending() == 3 and other.holds("c_dead")
        assert [r["n"] for r in drain(other)] == [0, 1, 2]
        other.close()
        assert list(directory.iterdir()) == []  # the dead owner's lock went with its last segment
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


def test_concurrent_appends_while_the_replayer_seals_keep_every_record_once(tmp_path):
    spool = Spool(tmp_path / "spool").open()
    replayed: list[dict] = []
    done = threading.Event()

    def replayer() -> None:
        while not done.is_set():
            replayed.extend(drain(spool))

    def customer(k: int) -> None:
        for n in range(50):
            spool.append({"conversation_id": f"c_{k}", "n": n})

    sealing = threading.Thread(target=replayer)
    sealing.start()
    customers = [threading.Thread(target=customer, args=(k,)) for k in range(8)]
    for thread in customers:
        thread.start()
    for thread in customers:
        thread.join()
    done.set()
    sealing.join()
    replayed.extend(drain(spool))
    assert sorted((r["conversation_id"], r["n"]) for r in replayed) == sorted(
        (f"c_{k}", n) for k in range(8) for n in range(50)
    )
    for k in range(8):  # each customer's records in the order they were acknowledged
        assert [r["n"] for r in replayed if r["conversation_id"] == f"c_{k}"] == list(range(50))
    assert spool.pending() == 0


def test_a_full_spool_refuses_and_keeps_nothing(tmp_path):
    spool = Spool(tmp_path / "spool", max_bytes=4096).open()
    big = {"conversation_id": "c", "text": "x" * 1500}
    spool.append(big)
    spool.append(big)
    with pytest.raises(SpoolUnavailable, match="full"):
        spool.append(big)
    assert spool.pending() == 2
    assert drain(spool) == [big, big]
    spool.append(big)  # room again once replayed
    assert spool.pending() == 1


def test_after_a_failed_write_appends_go_to_a_new_segment(tmp_path, monkeypatch):
    """A disk that fills mid-line leaves a partial line: nothing may be appended after it."""
    import bot.durability.spool

    spool = Spool(tmp_path / "spool").open()
    spool.append(turn(1))
    real_write = os.write
    calls = {"n": 0}

    def filling_disk(fd: int, data) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:20]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bot.durability.spool.os, "write", filling_disk)
    with pytest.raises(SpoolUnavailable):
        spool.append(turn(2))
    monkeypatch.setattr(bot.durability.spool.os, "write", real_write)
    spool.append(turn(3))
    assert spool.pending() == 2
    assert drain(spool) == [turn(1), turn(3)]


def test_a_failed_fsync_fails_the_spool_for_good(tmp_path, monkeypatch):
    import bot.durability.spool

    spool = Spool(tmp_path / "spool").open()
    spool.append(turn(1))

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(bot.durability.spool.os, "fsync", broken)
    with pytest.raises(SpoolUnavailable, match="fsync"):
        spool.append(turn(2))
    monkeypatch.undo()
    with pytest.raises(SpoolUnavailable, match="failed earlier"):
        spool.append(turn(3))  # a later fsync could succeed over lost pages: never trust it again
