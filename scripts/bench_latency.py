#!/usr/bin/env python3
"""Latency and throughput of the bot on this machine, all in one run (results in docs/benchmarks.md).

1. The floor: one bare model encode of a query (median), and batch-encode throughput.
2. End to end: `POST /api/v1/chat` against a real `faqbot serve` (SQLite store, default settings):
   sequential p50/p95/p99 with one client, then throughput and p99 with 32 concurrent keep-alive clients.
Every query text is distinct, so the query-vector cache does not flatter the figures.

    make build && .venv/bin/python scripts/bench_latency.py [--requests 300] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdoc import write_block  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.quality.evaluate import load_eval_set  # noqa: E402
from bot.retrieval.embedder import load_embedder  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"


def markers(workers: int) -> tuple[str, str]:
    """One block per server layout in docs/benchmarks.md (one worker keeps the original markers)."""
    tag = "bench_latency" if workers == 1 else f"bench_latency:workers{workers}"
    return f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"


def queries(n: int) -> list[str]:
    base = [item.text for item in load_eval_set(ROOT / "kb_articles" / "eval")]
    return [f"{base[i % len(base)]} {i // len(base) or ''}".strip() for i in range(n)]


def floor(texts: list[str]) -> dict[str, float]:
    settings = Settings()
    embedder = load_embedder(settings.model, settings.embed_batch_size)
    embedder.encode(["warm up"])
    times = []
    for text in texts[:200]:
        started = time.perf_counter()
        embedder.encode([text])
        times.append((time.perf_counter() - started) * 1000)
    batch = texts[:512]
    started = time.perf_counter()
    embedder.encode(batch)
    rate = len(batch) / (time.perf_counter() - started)
    return {"encode_p50_ms": float(np.median(times)), "batch_per_s": rate}


def start_server(home: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_KB_DIR": str(ROOT / "kb_articles"),
        "HF_HUB_OFFLINE": "1",
        "FAQBOT_RATE_LIMIT_IP": "0",  # every client of the benchmark shares one address
    }
    faqbot = str(Path(sys.executable).with_name("faqbot"))
    process = subprocess.Popen(
        [faqbot, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("faqbot serve did not become ready")


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON: a lean client, so the load generator
    takes as little as it can of the CPU it shares with the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def post(self, path: str, payload: dict) -> int:
        """The response's status code (its body is read and dropped)."""
        body = json.dumps(payload).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
        await self.reader.readexactly(int(headers.get("content-length", 0)))
        return int(head[0].split()[1])

    def close(self) -> None:
        self.writer.close()


async def sequential(base: str, texts: list[str]) -> dict[str, float]:
    times = []
    connection = await Connection.open(base)
    await connection.post("/api/v1/chat", {"text": "warm up"})
    for text in texts:
        started = time.perf_counter()
        status = await connection.post("/api/v1/chat", {"text": text})
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"POST /api/v1/chat answered {status}")
    connection.close()
    return {f"seq_p{q}_ms": float(np.percentile(times, q)) for q in (50, 95, 99)}


async def concurrent(base: str, texts: list[str], clients: int) -> dict[str, float]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for text in texts:
        queue.put_nowait(text)
    times: list[float] = []
    errors = 0

    async def client_loop() -> None:
        nonlocal errors
        connection = await Connection.open(base)
        while not queue.empty():
            text = queue.get_nowait()
            started = time.perf_counter()
            try:
                errors += await connection.post("/api/v1/chat", {"text": text}) != 200
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                connection.close()
                connection = await Connection.open(base)
            times.append((time.perf_counter() - started) * 1000)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "conc_rps": len(texts) / elapsed,
        "conc_p99_ms": float(np.percentile(times, 99)),
        "conc_errors": errors,
    }


def encoded(base: str) -> tuple[float, float]:
    """(queries encoded, model calls) so far, from /metrics (of whichever process answers it)."""
    values = {"sum": 0.0, "count": 0.0}
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        for name in values:
            if line.startswith(f"faqbot_query_encode_batch_size_{name} "):
                values[name] = float(line.split()[1])
    return values["sum"], values["count"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="faqbot serve --workers")
    args = parser.parse_args()
    texts = queries(args.requests * 3 + 600)
    results = floor(texts[-600:])
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        shutil.copytree(Settings().index_path, Path(tmp) / "index", symlinks=True)
        process, base = start_server(Path(tmp), args.workers)
        try:
            results |= asyncio.run(sequential(base, texts[: args.requests]))
            done, calls = encoded(base)
            results |= asyncio.run(concurrent(base, texts[args.requests : args.requests * 3], args.clients))
            if args.workers == 1:  # /metrics shows one process's counters
                done_after, calls_after = encoded(base)
                results["mean_batch"] = (done_after - done) / max(1.0, calls_after - calls)
        finally:
            process.terminate()
            process.wait(timeout=30)
    machine = f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.machine()}"
    rows = [
        ("one bare query encode (p50, the floor)", f"{results['encode_p50_ms']:.1f} ms"),
        ("batch encode throughput", f"{results['batch_per_s']:.0f} texts/s"),
        ("`POST /api/v1/chat`, 1 client: p50 / p95 / p99",
         f"{results['seq_p50_ms']:.1f} / {results['seq_p95_ms']:.1f} / {results['seq_p99_ms']:.1f} ms"),
        (f"`POST /api/v1/chat`, {args.clients} clients: throughput, p99, errors",
         f"{results['conc_rps']:.0f} req/s, {results['conc_p99_ms']:.0f} ms, {results['conc_errors']}"),
        (f"queries per model call with {args.clients} clients (mean)",
         f"{results['mean_batch']:.1f}" if "mean_batch" in results else "–"),
        ("sequential p50 / floor (goal ≤ 1.5)", f"{results['seq_p50_ms'] / results['encode_p50_ms']:.2f}"),
        ("throughput / batch rate (goal ≥ 0.5)", f"{results['conc_rps'] / results['batch_per_s']:.2f}"),
    ]  # fmt: skip
    start, end = markers(args.workers)
    block = "\n".join(
        [
            start,
            f"Measured {dt.date.today().isoformat()} on {machine} with "
            f"`python scripts/bench_latency.py --requests {args.requests} --clients {args.clients} "
            f"--workers {args.workers}` (`faqbot serve --workers {args.workers}`, SQLite store, "
            "distinct query texts).",
            "",
            "| measure | value |",
            "|---|---|",
            *(f"| {name} | {value} |" for name, value in rows),
            end,
        ]
    )
    heading = "Latency and throughput" + ("" if args.workers == 1 else f", {args.workers} workers")
    write_block(DOC, start, end, heading, block)
    print(block)


if __name__ == "__main__":
    main()
