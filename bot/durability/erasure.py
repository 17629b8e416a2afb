"""A customer's records in this machine's spools (turns and channel events not yet in the database):
found for an access request, erased for an erasure request.

Erasure has two parts. A tombstone, appended to `erased.jsonl` in the spool directory, makes every
replayer skip the customer's records written before it, so a replay never recreates what was
erased; it holds only hashes of the ids. Then the records are removed from every segment no live
process holds (this process takes the owner's lock, as adoption does, and rewrites the file), and
from `rejected.jsonl`. A live process's segments are its own: the tombstone drops their records
when its replay next passes them (within FAQBOT_REPLAY_INTERVAL while the database is up).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.durability.spool import REJECTED, TOMBSTONES, decode, encode, read_segment, try_lock, write_all
from bot.fsync import fsync_dir


def digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Subject:
    """Whose records: conversation ids (turn records) and channel user ids (event records)."""

    conversation_ids: frozenset[str] = field(default_factory=frozenset)
    users: frozenset[str] = field(default_factory=frozenset)

    def matches(self, record: dict) -> bool:
        return record.get("conversation_id") in self.conversation_ids or record.get("user") in self.users


class Tombstones:
    """The erasures recorded in one spool directory; re-read whenever the file changes."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / TOMBSTONES
        self._seen: tuple[int, int] | None = None
        self._erased: dict[tuple[str, str], dt.datetime] = {}  # (field, digest) -> latest erasure

    def add(self, subject: Subject) -> None:
        """Record an erasure (fsync'd): records of `subject` written before now are never replayed."""
        line = encode(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "conversation_id": sorted(digest(v) for v in subject.conversation_ids),
                "user": sorted(digest(v) for v in subject.users),
            }
        )
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def erased(self, record: dict) -> bool:
        """Was `record` erased (its conversation or user erased after it was written)?"""
        self._load()
        if not self._erased:
            return False
        at = _time(record.get("at"))
        for name in ("conversation_id", "user"):
            value = record.get(name)
            when = self._erased.get((name, digest(value))) if isinstance(value, str) else None
            if when is not None and (at is None or at <= when):
                return True
        return False

    def _load(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._erased = None, {}
            return
        if self._seen == (stat.st_size, stat.st_mtime_ns):
            return
        erased: dict[tuple[str, str], dt.datetime] = {}
        for raw in self.path.read_bytes().splitlines(keepends=True):
            entry = decode(raw)
            at = _time(entry.get("at")) if entry else None
            if at is None:
                continue
            for name in ("conversation_id", "user"):
                for value in entry.get(name) or []:
                    erased[(name, value)] = max(at, erased.get((name, value), at))
        self._seen, self._erased = (stat.st_size, stat.st_mtime_ns), erased


@dataclass(frozen=True)
class Purged:
    removed: int  # records deleted from files
    held: int  # records in segments of live processes: tombstoned, dropped when they replay


def spooled(directories: Iterable[Path], subject: Subject) -> list[dict]:
    """The subject's records waiting in these spool directories (an access request), rejected
    ones included (with the reason), erased ones left out."""
    found = []
    for directory in directories:
        tombstones = Tombstones(directory)
        for path in sorted(Path(directory).glob("*.jsonl")):
            if path.name == TOMBSTONES:
                continue
            try:
                records = read_segment(path).records
            except FileNotFoundError:  # replayed meanwhile: it is in the database now
                continue
            for record in records:
                inner = record.get("record") if path.name == REJECTED else record
                if isinstance(inner, dict) and subject.matches(inner) and not tombstones.erased(inner):
                    found.append(record if path.name != REJECTED else {"rejected": record})
    return found


def purge(directory: Path, subject: Subject) -> Purged:
    """Remove the subject's records from every file in `directory` that no live process holds.
    Tombstone them first (`Tombstones.add`), so that no replay, here or in a live process, applies
    them meanwhile or later."""
    directory = Path(directory)
    if not directory.is_dir():
        return Purged(0, 0)
    removed = held = 0
    for lock in sorted(directory.glob("*.lock")):
        owner = lock.name[: -len(".lock")]
        segments = sorted(directory.glob(f"{owner}.*.jsonl"))
        fd = try_lock(lock)
        if fd is None:  # a live process: its replay drops them (the tombstone)
            held += sum(_count(path, subject) for path in segments)
            continue
        try:
            removed += sum(_rewrite(path, subject) for path in segments)
        finally:
            os.close(fd)
    return Purged(removed + _purge_rejected(directory, subject), held)


def _count(path: Path, subject: Subject) -> int:
    try:
        return sum(subject.matches(r) for r in read_segment(path).records)
    except FileNotFoundError:
        return 0


def _rewrite(path: Path, subject: Subject, inner: bool = False) -> int:
    """Rewrite `path` without the subject's lines (atomically: a new file renamed over it); a
    segment left empty is deleted. Returns how many lines went. The caller holds the file's lock."""
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return 0
    keep = []
    for raw in lines:
        record = decode(raw)
        if inner and record is not None:
            record = record.get("record")
        if not (isinstance(record, dict) and subject.matches(record)):
            keep.append(raw)  # damaged and torn lines stay as they were, for the replayer to judge
    gone = len(lines) - len(keep)
    if not gone:
        return 0
    if not keep and not inner:
        path.unlink()
    else:
        tmp = path.with_name(f".{path.name}.erasing")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            write_all(fd, b"".join(keep))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    fsync_dir(path.parent)
    return gone


def _purge_rejected(directory: Path, subject: Subject) -> int:
    """`rejected.jsonl`, under its lock (Spool.reject takes it to append)."""
    path = directory / REJECTED
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _rewrite(path, subject, inner=True)
    finally:
        os.close(fd)


def _time(value) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment
