"""How fast staff hear a customer, and a customer hears an agent, across two replicas.

Two real `faqbot serve` processes share one PostgreSQL (a scratch schema). Simulated customers ask
for a person through replica B, then write while they wait; a staff stream
(`GET /api/v1/admin/events`) is open on replica A. Each customer's own stream
(`GET /api/v1/conversations/{id}/events`) is open on B, and an agent answers each of them through A.
It reports, over every message, the time from the customer's request leaving to the staff stream
on the other replica hearing it, and from the agent's reply leaving to the customer's stream
hearing it (p50, p95, max), and any event never heard.

    python scripts/bench_live_events.py --database-url postgresql://postgres@127.0.0.1:5432/test \\
        [--customers 20] [--messages 10]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_messenger_outage import Replica, scratch, write_kb  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.index.build import build_index  # noqa: E402
from bot.retrieval.embedder import load_embedder  # noqa: E402

TOKEN = "bench-admin-token"


class Listener:
    """A server-sent event stream read on a thread, each event kept with when it arrived."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.heard: list[tuple[float, str, dict]] = []
        self.lock = threading.Lock()
        self.open = threading.Event()
        threading.Thread(target=self._read, args=(url, headers or {}), daemon=True).start()
        if not self.open.wait(20):
            raise SystemExit(f"the stream {url} did not open")

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with httpx.stream("GET", url, headers=headers, timeout=None) as response:
                response.raise_for_status()
                self.open.set()
                kind = None
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        kind = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and kind:
                        with self.lock:
                            self.heard.append((time.monotonic(), kind, json.loads(line.split(":", 1)[1])))
                        kind = None
        except httpx.HTTPError:
            return  # the servers stop at the end of the run

    def when(self, kind: str, match) -> float | None:
        with self.lock:
            return next((at for at, k, data in self.heard if k == kind and match(data)), None)


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL (a scratch schema is made)")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="per customer, while they wait")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="faqbot-live-"))
    write_kb(home / "kb_articles")
    settings = Settings(home=home)
    build_index(settings.build, load_embedder(settings.model))
    database, drop = scratch(args.database_url, home)
    env = {
        **os.environ, "FAQBOT_HOME": str(home), "FAQBOT_DATABASE_URL": database, "FAQBOT_ADMIN_TOKEN": TOKEN,
        "FAQBOT_RELOAD_INTERVAL": "0", "FAQBOT_THREADS": "1", "FAQBOT_RATE_LIMIT_IP": "0",
        "FAQBOT_RATE_LIMIT_CONVERSATION": "0", "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',
        "HF_HUB_OFFLINE": "1",
    }  # fmt: skip
    a, b = (Replica(name, env, home / f"{name}.log") for name in ("a", "b"))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for replica in (a, b):
            replica.start()
        staff = Listener(f"{a.base}/api/v1/admin/events", auth)
        to_staff: list[float] = []
        to_customer: list[float] = []
        lost = {"to_staff": 0, "to_customer": 0}
        lock = threading.Lock()

        def customer(k: int) -> None:
            http = httpx.Client(timeout=30)
            asked = {"text": "voglio parlare con un operatore"}
            opened = http.post(f"{b.base}/api/v1/chat", json=asked).json()
            cid, ticket = opened["conversation_id"], opened["handoff"]["ticket_id"]
            mine = Listener(f"{b.base}/api/v1/conversations/{cid}/events")
            sent = []
            for n in range(args.messages):
                time.sleep(random.uniform(0.05, 0.5))
                text = f"cliente {k} messaggio {n}"
                left = time.monotonic()
                http.post(f"{b.base}/api/v1/chat", json={"text": text, "conversation_id": cid})
                sent.append((text, left))
            left = time.monotonic()
            headers = auth | {"X-Faqbot-User": "Giulia"}
            reply = f"risposta a {k}"
            http.post(f"{a.base}/api/v1/admin/handoffs/{ticket}/reply", json={"text": reply}, headers=headers)
            deadline = time.monotonic() + 10
            heard_reply = None
            while heard_reply is None and time.monotonic() < deadline:
                heard_reply = mine.when("message", lambda d: d.get("text") == reply)
                time.sleep(0.01)
            while time.monotonic() < deadline:
                if all(staff.when("message", lambda d, t=t: d.get("text") == t) for t, _ in sent):
                    break
                time.sleep(0.02)
            with lock:
                for text, at in sent:
                    heard = staff.when("message", lambda d, t=text: d.get("text") == t)
                    if heard is None:
                        lost["to_staff"] += 1
                    else:
                        to_staff.append(heard - at)
                if heard_reply is None:
                    lost["to_customer"] += 1
                else:
                    to_customer.append(heard_reply - left)

        started = time.monotonic()
        with ThreadPoolExecutor(args.customers) as pool:
            list(pool.map(customer, range(args.customers)))
        report = {
            "customers": args.customers,
            "messages": args.customers * args.messages,
            "seconds": round(time.monotonic() - started, 1),
            "customer_to_staff_other_replica": quantiles(to_staff) if to_staff else None,
            "agent_to_customer_other_replica": quantiles(to_customer) if to_customer else None,
            "never_heard": lost,
        }
        print(json.dumps(report, indent=2))
    finally:
        for replica in (a, b):
            replica.stop()
        if drop:
            drop()


if __name__ == "__main__":
    main()
