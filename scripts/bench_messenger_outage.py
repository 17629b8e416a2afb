"""Messenger customers through a Graph API outage: nothing lost, nothing twice, in order.

Two real `faqbot serve` processes share one database (PostgreSQL when --database-url names one,
else a SQLite file) and talk to the fake Graph API of the tests (tests/fake_graph.py, a real HTTP
server that answers as Meta documents). Simulated customers write to the Page through signed
webhook deliveries, spread over both replicas, before, during and after an outage in which the
Graph API answers every call with 503 (code 2). With --kill, one replica is SIGKILLed halfway
through the outage and started again. Then it counts, per customer, the answers delivered against
the questions acknowledged (a 200 from the webhook), the duplicates and the order.

    python scripts/bench_messenger_outage.py --outage 120 --customers 20 --messages 6 --kill \\
        [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.messenger.webhook import signature  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.index.build import build_index  # noqa: E402
from bot.retrieval.embedder import load_embedder  # noqa: E402
from tests.fake_graph import FakeGraph  # noqa: E402
from tests.serve_kit import free_port, start_serve, wait_ready  # noqa: E402

SECRET, TOKEN = "bench-secret", "bench-page-token"
FAILURES_2 = 'faqbot_messenger_send_failures_total{code="2"}'
# Short articles, each answer carrying its marker, so a delivered answer names its question.
ARTICLES = {
    "spedizione": ("Quanto costa la spedizione", "spese di spedizione"),
    "reso": ("Come fare un reso", "voglio fare un reso"),
    "password": ("Come reimpostare la password", "ho dimenticato la password"),
    "pagamento": ("Quali metodi di pagamento accettate", "posso pagare con paypal"),
    "fattura": ("Come ottenere la fattura", "mi serve la fattura"),
    "orari": ("Orari del servizio clienti", "a che ora siete aperti"),
}


def write_kb(root: Path) -> None:
    for key, (title, question) in ARTICLES.items():
        folder = root / "it"
        folder.mkdir(parents=True, exist_ok=True)
        body = f"Risposta [{key}]: trovi tutti i dettagli nella pagina dedicata del nostro sito."
        front = f"id: {key}\nlang: it\ntitle: {title}\nquestions: [{question}]\n"
        (folder / f"{key}.md").write_text(f"---\n{front}---\n{body}\n", encoding="utf-8")


class Replica:
    def __init__(self, name: str, env: dict, log: Path) -> None:
        self.name, self.env, self.log, self.port = name, env, log, free_port()
        self.process = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_serve(self.env, self.log, self.port)
        wait_ready(self.base, self.process, log=self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


def deliver(replicas: list[Replica], psid: str, mid: str, question: str) -> bool:
    """One customer message, as Meta delivers it: to a live replica, retried like Meta retries."""
    event = {
        "sender": {"id": psid}, "recipient": {"id": "page-1"}, "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "text": question},
    }  # fmt: skip
    body = json.dumps({"object": "page", "entry": [{"id": "page-1", "time": 0, "messaging": [event]}]})
    headers = {
        "X-Hub-Signature-256": signature(SECRET.encode(), body.encode()),
        "Content-Type": "application/json",
    }
    for attempt in range(20):
        replica = replicas[(hash(mid) + attempt) % len(replicas)]
        try:
            answer = httpx.post(
                f"{replica.base}/webhooks/messenger", content=body, headers=headers, timeout=10
            )
            if answer.status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def metric(replica: Replica, name: str) -> float:
    try:
        text = httpx.get(f"{replica.base}/metrics", timeout=5).text
    except httpx.HTTPError:
        return float("nan")
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=120.0, help="seconds the Graph API is down")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--messages", type=int, default=6, help="per customer, spread over the run")
    parser.add_argument("--kill", action="store_true", help="SIGKILL one replica mid-outage, restart it")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (a scratch schema is made), else SQLite"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="faqbot-outage-"))
    write_kb(home / "kb_articles")
    settings = Settings(home=home)
    build_index(settings.build, load_embedder(settings.model))
    database, drop = scratch(args.database_url, home)
    graph = FakeGraph(TOKEN).start()
    env = {
        **os.environ, "FAQBOT_HOME": str(home), "FAQBOT_DATABASE_URL": database,
        "FAQBOT_MESSENGER_APP_SECRET": SECRET, "FAQBOT_MESSENGER_PAGE_TOKEN": TOKEN,
        "FAQBOT_MESSENGER_GRAPH_URL": graph.url, "FAQBOT_RELOAD_INTERVAL": "0", "FAQBOT_THREADS": "1",
        "FAQBOT_RATE_LIMIT_IP": "0", "FAQBOT_RATE_LIMIT_CONVERSATION": "0", "HF_HUB_OFFLINE": "1",
    }  # fmt: skip
    replicas = [Replica(name, env, home / f"{name}.log") for name in ("a", "b")]
    for replica in replicas:
        replica.start()

    lead, tail = 5.0, 5.0
    span = lead + args.outage + tail
    asked: dict[str, list[str]] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def customer(k: int) -> None:
        psid = f"psid-{k}"
        time.sleep(random.uniform(0, span / args.messages))  # noqa: S311
        for n in range(args.messages):
            key = random.choice(list(ARTICLES))  # noqa: S311
            if deliver(replicas, psid, f"m-{k}-{n}-{uuid.uuid4().hex[:6]}", ARTICLES[key][1]):
                with lock:
                    asked.setdefault(psid, []).append(key)
            time.sleep(span / args.messages)

    threads = [threading.Thread(target=customer, args=(k,)) for k in range(args.customers)]
    for thread in threads:
        thread.start()
    time.sleep(lead)
    graph.down(args.outage)
    print(f"Graph API down for {args.outage:.0f} s", flush=True)
    if args.kill:
        time.sleep(args.outage / 2)
        replicas[0].kill()
        print("replica a SIGKILLed; starting it again", flush=True)
        replicas[0].start()
    queued = max(metric(r, "faqbot_messenger_outbox_depth") for r in replicas[1:])
    while time.monotonic() < started + lead + args.outage:
        queued = max(queued, metric(replicas[1], "faqbot_messenger_outbox_depth"))
        time.sleep(1)
    graph.up()
    back = time.monotonic()
    print("Graph API back", flush=True)
    while metric(replicas[1], "faqbot_messenger_outbox_depth") > 0 and time.monotonic() < back + 600:
        time.sleep(0.2)
    drained = time.monotonic() - back  # until the outbox is empty (as the gauge, refreshed each second, says)
    for thread in threads:
        thread.join()
    expected = sum(len(v) for v in asked.values())

    def delivered() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for call in graph.accepted():
            found = re.search(r"\[(\w+)\]", call.body["message"].get("text", ""))
            if found:
                out.setdefault(call.body["recipient"]["id"], []).append(found.group(1))
        return out

    deadline = time.monotonic() + 300
    while sum(len(v) for v in delivered().values()) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(15)  # anything sent twice would show by now
    got = delivered()
    tokens = [c.body["message"].get("metadata") for c in graph.accepted()]
    report = {
        "outage_s": args.outage, "killed_replica": args.kill, "database": "postgresql" if drop else "sqlite",
        "customers": args.customers, "acknowledged": expected,
        "answers_delivered": sum(len(v) for v in got.values()),
        "lost": sum(max(0, len(asked[p]) - len(got.get(p, []))) for p in asked),
        "duplicates": len(tokens) - len(set(tokens)),
        "customers_out_of_order": sum(1 for p in asked if got.get(p) != asked[p]),
        "outbox_depth_peak": queued, "drained_s_after_outage": round(drained, 1),
        "outbox_depth_end": metric(replicas[1], "faqbot_messenger_outbox_depth"),
        "send_failures_code_2": sum(metric(r, FAILURES_2) for r in replicas),
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    for replica in replicas:
        replica.stop()
    graph.stop()
    if drop:
        drop()


def scratch(url: str, home: Path):
    """The database URL for the replicas, and how to drop it afterwards (None for SQLite)."""
    if not url:
        (home / "var").mkdir(exist_ok=True)
        return f"sqlite:///{home / 'var' / 'faqbot.db'}", None
    from sqlalchemy import create_engine, text

    base = url.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}", drop


if __name__ == "__main__":
    main()
