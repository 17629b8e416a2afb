"""The local spool: records the database could not take yet, on disk before they are acknowledged.

One directory on the machine's own disk (FAQBOT_HOME/var/spool by default); each server process
appends to its own files in it:

    <owner>.lock            flock'ed by the live process that owns <owner>'s segments
    <owner>.<seq>.jsonl     segments: the process appends to its newest one, the others are sealed
    rejected.jsonl          records that can never be applied, kept for a person to look at
    erased.jsonl            erasure requests: hashes of ids whose records are never replayed

`append` returns only once the record is written and fsync'd (and a new segment's directory entry
too). Each line is `{"sum":"<blake2b-128 of the record's bytes>","rec":<record JSON>}`, so a line
torn by a crash, or damaged later, is recognised and never replayed. A process that dies loses its
flock (the kernel drops it), and any other process on the machine then adopts its segments.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.fsync import fsync_dir

log = logging.getLogger("faqbot.spool")
PREFIX, MIDDLE, SUFFIX = b'{"sum":"', b'","rec":', b"}\n"
DIGEST_HEX = 32
REJECTED = "rejected.jsonl"
TOMBSTONES = "erased.jsonl"  # erasure requests (bot.durability.erasure): whose records are never replayed


class SpoolUnavailable(RuntimeError):
    """The spool cannot keep a record durably (full, or the disk failed): do not acknowledge it."""


def encode(record: dict) -> bytes:
    """One spool line: the record as ASCII JSON (so any text survives) behind its checksum."""
    body = json.dumps(record, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode()
    return PREFIX + _digest(body) + MIDDLE + body + SUFFIX


def decode(line: bytes) -> dict | None:
    """The record on `line` (with its newline), or None if the line is torn or damaged."""
    head = len(PREFIX) + DIGEST_HEX + len(MIDDLE)
    if len(line) < head + len(SUFFIX) or not line.startswith(PREFIX) or not line.endswith(SUFFIX):
        return None
    body = line[head : -len(SUFFIX)]
    if line[len(PREFIX) + DIGEST_HEX : head] != MIDDLE or line[len(PREFIX) : len(PREFIX) + DIGEST_HEX] != (
        _digest(body)
    ):
        return None
    try:
        record = json.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class Segment:
    """What one segment file holds."""

    records: tuple[dict, ...]
    damaged: tuple[bytes, ...]  # whole lines that fail their checksum
    torn: bool  # it ends in a partial line: a crash mid-append, never acknowledged


def read_segment(path: Path) -> Segment:
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # what follows the last newline: empty unless the last append was torn
    records, damaged = [], []
    for raw in lines:
        record = decode(raw + b"\n")
        if record is None:
            damaged.append(raw)
        else:
            records.append(record)
    return Segment(tuple(records), tuple(damaged), tail != b"")


@dataclass
class _Tracked:
    """A segment waiting to be replayed."""

    owner: str
    count: int  # good records in it
    size: int
    done: int = 0  # records already applied
    checked: bool = False  # its damaged lines were set aside


class Spool:
    """This process's spool, plus the segments it adopted from processes that died."""

    def __init__(self, directory: Path, max_bytes: int = 512 * 2**20, key: str = "conversation_id") -> None:
        if max_bytes < 4096:
            raise ValueError(f"max_bytes must be at least 4096, got {max_bytes}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.key = key  # the record field `holds()` answers for
        self.owner = _owner_name()
        self._lock = threading.Lock()  # appends, sealing, counters; taken after `_sync` when both are
        self._sync = threading.Lock()  # one fsync at a time: a waiting writer often finds its line synced
        self._lock_fd: int | None = None
        self._adopted: dict[str, int] = {}  # owner -> its lock, held while its segments are replayed
        self._seq = 0
        self._active: tuple[Path, int] | None = None  # the segment being appended to, and its fd
        self._active_count = self._active_size = 0
        self._retired: list[int] = []  # fds of segments abandoned after a failed write
        self._dirty: set[int] = set()  # fds written since the last fsync
        self._written = self._synced = 0
        self._failed: OSError | None = None
        self._segments: dict[Path, _Tracked] = {}
        self._keys: Counter[str] = Counter()
        self._bytes = 0

    def open(self) -> Spool:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_fd = try_lock(self.directory / f"{self.owner}.lock")
        if self._lock_fd is None:
            raise RuntimeError(f"spool {self.directory}: cannot lock {self.owner}.lock")
        fsync_dir(self.directory)
        return self

    def append(self, record: dict) -> None:
        """Keep `record` durably; raises `SpoolUnavailable` (and keeps nothing) if it cannot."""
        line = encode(record)
        with self._lock:
            if self._lock_fd is None:
                raise RuntimeError("call open() first")
            if self._failed is not None:
                raise SpoolUnavailable(f"spool {self.directory} failed earlier: {self._failed}")
            if self._bytes + len(line) > self.max_bytes:
                raise SpoolUnavailable(f"spool {self.directory} is full ({self._bytes} bytes)")
            try:
                fd = self._active[1] if self._active else self._start_segment()
                write_all(fd, line)
            except OSError as exc:
                self._retire()  # never append after a partial line: start a new segment next time
                raise SpoolUnavailable(f"spool {self.directory}: {exc}") from exc
            self._dirty.add(fd)
            self._written += 1
            mine = self._written
            self._active_count += 1
            self._active_size += len(line)
            self._bytes += len(line)
            self._keys[str(record.get(self.key))] += 1
        self._sync_up_to(mine)

    def pending(self) -> int:
        """Records kept here and not yet in the database (this process's and adopted ones)."""
        with self._lock:
            return self._active_count + sum(t.count - t.done for t in self._segments.values())

    def holds(self, key: str) -> bool:
        """Are records with this key (a conversation id) still waiting here?"""
        with self._lock:
            return self._keys.get(key, 0) > 0

    def backlog(self) -> list[Path]:
        """The segments to replay, in order: adopted ones first, then this process's own. The segment
        being appended to is sealed first (new appends start another one)."""
        self.seal()
        self.adopt()
        with self._lock:
            return sorted(self._segments, key=lambda p: (self._segments[p].owner == self.owner, p.name))

    def records(self, path: Path) -> list[dict]:
        """The records of segment `path` not yet applied, in order. Damaged lines go to the rejected
        file (once); a torn last line, never acknowledged, is left out."""
        segment = read_segment(path)
        with self._lock:
            tracked = self._segments[path]
            check, tracked.checked = not tracked.checked, True
        if check:
            for raw in segment.damaged:
                log.error("spool %s: a damaged line (checksum mismatch) set aside in %s", path.name, REJECTED)
                self.reject({"raw": raw.decode("ascii", "replace")}, "damaged line")
            if segment.torn:
                log.warning("spool %s ends in a torn line (a crash mid-append): ignored", path.name)
        return list(segment.records[tracked.done :])

    def applied(self, path: Path, record: dict) -> None:
        """One record of `path` is dealt with (in the database, or rejected)."""
        with self._lock:
            self._segments[path].done += 1
            key = str(record.get(self.key))
            self._keys[key] -= 1
            if self._keys[key] <= 0:
                del self._keys[key]

    def finished(self, path: Path) -> None:
        """Every record of `path` is dealt with: delete it (and an adopted owner's lock, once empty)."""
        path.unlink(missing_ok=True)
        fsync_dir(self.directory)
        with self._lock:
            tracked = self._segments.pop(path)
            self._bytes -= tracked.size
            owner = tracked.owner
            left = any(t.owner == owner for t in self._segments.values())
            fd = None if left or owner == self.owner else self._adopted.pop(owner, None)
        if fd is not None:
            (self.directory / f"{owner}.lock").unlink(missing_ok=True)
            os.close(fd)

    def reject(self, record: dict, reason: str) -> None:
        """Set aside a record that can never be applied, with the reason, for a person to look at."""
        line = encode({"reason": reason, "at": dt.datetime.now(dt.UTC).isoformat(), "record": record})
        path = self.directory / REJECTED
        while True:  # under the file's lock: an erasure (bot.durability.erasure) may be rewriting it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
            os.close(fd)  # replaced while we waited: append to the new file
        try:
            write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def seal(self) -> None:
        """Stop appending to the current segment, so that it can be replayed."""
        with self._sync, self._lock:
            if self._failed is None:
                self._flush()
            if self._active is not None and self._active_count:
                self._retire()
            for fd in self._retired:
                os.close(fd)
            self._retired.clear()

    def adopt(self) -> int:
        """Take over the segments of processes that died (their lock is free); returns their records."""
        found = 0
        for owner in self._owners():
            if owner == self.owner or owner in self._adopted:
                continue
            fd = try_lock(self.directory / f"{owner}.lock")
            if fd is None:
                continue  # alive, or just adopted by another process
            segments = sorted(self.directory.glob(f"{owner}.*.jsonl"))
            if not segments:
                (self.directory / f"{owner}.lock").unlink(missing_ok=True)
                os.close(fd)
                continue
            log.warning("spool: adopting %d segments of %s, a process that stopped", len(segments), owner)
            with self._lock:
                self._adopted[owner] = fd
            for path in segments:
                records = read_segment(path).records
                size = path.stat().st_size
                with self._lock:
                    self._segments[path] = _Tracked(owner, len(records), size)
                    self._bytes += size
                    self._keys.update(str(r.get(self.key)) for r in records)
                found += len(records)
        return found

    def close(self) -> None:
        """Seal and let go: what is left is adopted by the next process to look (or this one, restarted)."""
        if self._lock_fd is None:
            return
        self.seal()
        with self._lock:
            mine = any(t.owner == self.owner for t in self._segments.values())
            adopted, self._adopted = list(self._adopted.values()), {}
            fd, self._lock_fd = self._lock_fd, None
        for other in adopted:
            os.close(other)
        if not mine:
            (self.directory / f"{self.owner}.lock").unlink(missing_ok=True)
        os.close(fd)

    def _start_segment(self) -> int:
        self._seq += 1
        path = self.directory / f"{self.owner}.{self._seq:08d}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fsync_dir(self.directory)  # the new file's name must survive a power loss too
        self._active = (path, fd)
        self._active_count = self._active_size = 0
        return fd

    def _retire(self) -> None:
        """The current segment takes no more appends (caller holds `_lock`); its fd closes at `seal`."""
        if self._active is None:
            return
        path, fd = self._active
        self._active = None
        self._retired.append(fd)
        if self._active_count:
            self._segments[path] = _Tracked(self.owner, self._active_count, self._active_size)
        else:
            path.unlink(missing_ok=True)
        self._active_count = self._active_size = 0

    def _sync_up_to(self, mine: int) -> None:
        """fsync until record number `mine` is on disk. Group commit: one fsync covers every line
        written before it, and appends go on meanwhile (fds close only in `seal`, under `_sync`)."""
        with self._sync:
            if self._synced >= mine:
                return
            with self._lock:
                fds, upto = set(self._dirty), self._written
                self._dirty.clear()
            self._fsync(fds, upto)

    def _flush(self) -> None:
        """fsync every written fd (caller holds both locks)."""
        fds, upto = set(self._dirty), self._written
        self._dirty.clear()
        self._fsync(fds, upto)

    def _fsync(self, fds: set[int], upto: int) -> None:
        """A failed fsync fails the spool for good: after one, Linux may have dropped the unwritten
        pages, and a later fsync would not say so."""
        try:
            for fd in fds:
                os.fsync(fd)
        except OSError as exc:
            self._failed = exc
            raise SpoolUnavailable(f"spool {self.directory}: fsync failed: {exc}") from exc
        self._synced = max(self._synced, upto)

    def _owners(self) -> set[str]:
        names = (p.name for p in self.directory.iterdir() if p.suffix in (".lock", ".jsonl"))
        return {name.split(".", 1)[0] for name in names if name not in (REJECTED, TOMBSTONES)}


def _owner_name() -> str:
    """Unique per process and readable: host, pid, and a random part (pids are reused)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).hexdigest().encode()


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def try_lock(path: Path) -> int | None:
    """An fd holding the exclusive flock of `path` (created if missing), or None if another holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino != os.stat(path).st_ino:
            raise FileNotFoundError(path)  # removed by the process that finished it: nothing left
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        return None
    return fd
