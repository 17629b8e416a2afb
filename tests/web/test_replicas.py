"""Two real `faqbot serve` processes on one PostgreSQL and one index: they share conversations, lose
no acknowledged turn when one is SIGKILLed under load, and lose nothing in a database outage
(the database is cut off behind a TCP proxy; the shared server itself is never stopped)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.storage.schema import Message, MissedQuery, Ticket
from bot.storage.store import Store
from tests.conftest import REPO
from tests.outage_kit import schema_url
from tests.serve_kit import free_port, start_serve, wait_ready
from tests.sse_kit import Stream
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.model
ADMIN_TOKEN = "replicas-admin-token"
QUESTIONS = [
    "dove è il mio ordine?", "quanto costa la spedizione", "voglio fare un reso", "password dimenticata",
    "how much is shipping", "metodi di pagamento", "posso annullare un ordine?", "where is my order",
]  # fmt: skip


@dataclass
class Replica:
    name: str
    env: dict
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Replica:
        self.process = start_serve(self.env, self.log, self.port)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise

    def pending(self) -> float:
        """The replica's faqbot_db_spool_pending."""
        metrics = httpx.get(f"{self.base}/metrics", timeout=5).text
        return float(re.search(r"^faqbot_db_spool_pending (\S+)$", metrics, re.MULTILINE).group(1))


@dataclass
class Cluster:
    replicas: list[Replica]
    proxy: TcpProxy
    store: Store  # straight to the database (not through the proxy), to check what it holds
    home: Path

    def ensure_running(self) -> None:
        """Start any replica that is not running, and wait until every one is ready."""
        for replica in self.replicas:
            if not replica.alive():
                replica.start()
        for replica in self.replicas:
            wait_ready(replica.base, replica.process, log=replica.log)

    def segments(self) -> list[Path]:
        return sorted((self.home / "var" / "spool").glob("*.jsonl"))

    def stored(self, ids: list[str]) -> dict[str, Message]:
        with self.store.reading() as session:
            return {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}


@pytest.fixture(scope="module")
def cluster(sample_home, tmp_path_factory):
    base = os.environ.get("FAQBOT_TEST_DATABASE_URL")
    if not base:
        pytest.skip("needs PostgreSQL: set FAQBOT_TEST_DATABASE_URL")
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    home = tmp_path_factory.mktemp("replicas")
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    shutil.copytree(REPO / "kb_articles", home / "kb_articles")  # staff edit it through the replicas
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),  # one index location, and one var/ (the machine's spool directory)
        "FAQBOT_KB_DIR": str(home / "kb_articles"),
        "FAQBOT_ADMIN_TOKEN": ADMIN_TOKEN,
        "FAQBOT_DATABASE_URL": schema_url(base, schema, proxy.port),
        "FAQBOT_RELOAD_INTERVAL": "1",  # a publish through one replica reaches the other
        "FAQBOT_REPLAY_INTERVAL": "0.2",
        "FAQBOT_DB_RETRY_INTERVAL": "0.5",
        "FAQBOT_DB_CONNECT_TIMEOUT": "2",
        "FAQBOT_THREADS": "1",  # two processes on a small machine
        "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',
        # Every simulated customer comes from 127.0.0.1, and the shared conversation takes many turns.
        "FAQBOT_RATE_LIMIT_IP": "0",
        "FAQBOT_RATE_LIMIT_CONVERSATION": "0",
        "HF_HUB_OFFLINE": "1",
    }
    logs = tmp_path_factory.mktemp("replica-logs")
    replicas = [Replica(name, env, logs / f"{name}.log") for name in ("a", "b")]
    store = Store(schema_url(base, schema)).open()
    cluster = Cluster(replicas, proxy, store, home)
    try:
        for replica in replicas:  # both at once, on a fresh schema: they take turns migrating it
            replica.start()
        cluster.ensure_running()
        yield cluster
    finally:
        proxy.restore()
        for replica in replicas:
            replica.stop()
        proxy.stop()
        store.close()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def chat(replica: Replica, payload: dict) -> dict:
    response = httpx.post(f"{replica.base}/api/v1/chat", json=payload, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_replicas_share_one_conversation(cluster):
    a, b = cluster.replicas
    question, asked = next(
        (q, reply) for q, reply in ((q, chat(a, {"text": q})) for q in ("spedizione", "ordine", "pagamento"))
        if reply["decision"] == "clarify"
    )  # fmt: skip
    cid = asked["conversation_id"]
    picked = chat(b, {"text": "1", "conversation_id": cid})  # B reads the choices A offered
    assert picked["decision"] == "answer"
    assert picked["answer"]["article_id"] == asked["suggestions"][0]["article_id"]
    handed = chat(a, {"text": "voglio parlare con un operatore", "conversation_id": cid})
    assert handed["decision"] == "handoff"
    ticket = handed["handoff"]["ticket_id"]
    waiting = chat(b, {"text": "ci siete?", "conversation_id": cid})  # B knows a person holds it
    assert (waiting["decision"], waiting["text"], waiting["handoff"]) == ("agent", "", None)

    def turn(n: int) -> dict:
        return chat(cluster.replicas[n % 2], {"text": f"messaggio {n}", "conversation_id": cid})

    with ThreadPoolExecutor(8) as pool:  # both replicas at once on the same conversation
        burst = list(pool.map(turn, range(8)))
    assert {r["decision"] for r in burst} == {"agent"}
    with cluster.store.reading() as session:
        in_conversation = Message.conversation_id == cid
        users = session.scalars(
            select(Message.text).where(in_conversation, Message.role == "user").order_by(Message.created_at)
        ).all()
        tickets = session.scalars(select(Ticket.id).where(Ticket.conversation_id == cid)).all()
        missed = session.scalars(select(MissedQuery.reason).where(MissedQuery.conversation_id == cid)).all()
    assert users[:4] == [question, "1", "voglio parlare con un operatore", "ci siete?"]
    assert sorted(users[4:]) == sorted(f"messaggio {n}" for n in range(8))
    assert tickets == [ticket] and sorted(missed) == ["clarify", "handoff"]
    assert ticket in [t.id for t, _ in cluster.store.open_tickets()]


@dataclass
class Outcome:
    replica: str
    text: str
    at: float
    status: int | str  # HTTP status, or the client-side error's name
    message_id: str | None = None
    conversation_id: str | None = None


def customers(cluster: Cluster, count: int, turns: int | None, stop: threading.Event) -> tuple[list, list]:
    """`count` customers, each continuing its own conversation, turn after turn alternating between
    the replicas (skipping one that is known dead), until `turns` turns each or `stop`."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def customer(k: int) -> None:
        cid = None
        with httpx.Client(timeout=30) as client:
            for turn in itertools.count():
                if stop.is_set() or (turns is not None and turn >= turns):
                    return
                replica = cluster.replicas[(k + turn) % 2]
                question = QUESTIONS[(k + turn) % len(QUESTIONS)]
                payload = {"text": question, **({"conversation_id": cid} if cid else {})}
                try:
                    response = client.post(f"{replica.base}/api/v1/chat", json=payload)
                    body = response.json() if response.status_code == 200 else {}
                    outcome = Outcome(
                        replica.name, question, time.monotonic(), response.status_code,
                        body.get("message_id"), body.get("conversation_id"),
                    )  # fmt: skip
                    cid = body.get("conversation_id", cid)
                except httpx.HTTPError as exc:
                    outcome = Outcome(replica.name, question, time.monotonic(), type(exc).__name__)
                    time.sleep(0.05)
                with lock:
                    outcomes.append(outcome)

    threads = [threading.Thread(target=customer, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def assert_all_acknowledged_stored(cluster: Cluster, outcomes: list[Outcome]) -> list[Outcome]:
    """Every 200's bot message is in the database, in its conversation, after the customer's text."""
    acknowledged = [o for o in outcomes if o.status == 200]
    stored = cluster.stored([o.message_id for o in acknowledged])
    missing = [o for o in acknowledged if o.message_id not in stored]
    assert missing == [], f"{len(missing)} acknowledged turns lost, e.g. {missing[:3]}"
    assert all(stored[o.message_id].conversation_id == o.conversation_id for o in acknowledged)
    with cluster.store.reading() as session:
        for o in acknowledged[:: max(1, len(acknowledged) // 25)]:  # a sample: the question is there too
            bot = stored[o.message_id]
            asked = session.scalars(
                select(Message.text)
                .where(Message.conversation_id == o.conversation_id, Message.role == "user")
                .where(Message.created_at < bot.created_at)
                .order_by(Message.created_at.desc())
            ).first()
            assert asked == o.text
    return acknowledged


def test_a_database_outage_mid_traffic_loses_nothing_and_the_spool_drains(cluster):
    """Traffic on both replicas; the database is cut off; both answer and spool; replica B is
    SIGKILLed with turns in its spool; the database comes back; A replays its own spool and B's."""
    cluster.ensure_running()
    a, b = cluster.replicas
    stop = threading.Event()
    threads, outcomes = customers(cluster, 6, None, stop)
    try:
        time.sleep(1.0)
        cut_at = time.monotonic()
        cluster.proxy.cut()
        deadline = time.monotonic() + 20
        while not (a.pending() > 0 and b.pending() > 0):  # both are answering from the spool
            assert time.monotonic() < deadline, "the replicas never spooled"
            time.sleep(0.05)
        time.sleep(0.5)
        b.kill()  # with turns in its spool, acknowledged and not yet in the database
        killed_at = time.monotonic()
        time.sleep(0.5)
        cluster.proxy.restore()
        restored_at = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        cluster.proxy.restore()
        for thread in threads:
            thread.join(timeout=60)
    deadline = time.monotonic() + 30
    while a.pending() > 0 or cluster.segments():
        assert time.monotonic() < deadline, f"the spool never drained: {a.pending()} {cluster.segments()}"
        time.sleep(0.05)
    drained_after = time.monotonic() - restored_at
    assert a.pending() == 0.0
    acknowledged = assert_all_acknowledged_stored(cluster, outcomes)
    spooled_by_b = [o for o in acknowledged if o.replica == "b" and cut_at < o.at < killed_at]
    assert spooled_by_b, "B acknowledged no turn during the outage: the test proved nothing"
    failed_on_a = [
        (o.status, round(o.at - cut_at, 2)) for o in outcomes if o.replica == "a" and o.status != 200
    ]
    assert failed_on_a == [], "A failed requests (status, seconds after the cut)"
    assert all(o.status != 200 for o in outcomes if o.replica == "b" and o.at > killed_at + 0.1)
    assert {o.status for o in outcomes} <= {200, "ConnectError", "RemoteProtocolError", "ReadError"}
    offline = [o for o in acknowledged if cut_at < o.at < restored_at]
    print(
        f"\noutage: {len(outcomes)} requests, {len(acknowledged)} acknowledged, {len(offline)} of them "
        f"while the database was cut ({len(spooled_by_b)} by B before it was killed); "
        f"spool empty {drained_after:.1f}s after the database returned (traffic went on 1s of it)"
    )


def test_400_concurrent_requests_with_a_replica_killed_midway_lose_no_acknowledged_turn(cluster):
    cluster.ensure_running()
    a, b = cluster.replicas
    stop = threading.Event()
    started = time.monotonic()
    threads, outcomes = customers(cluster, 16, 25, stop)  # 400 requests, 16 at a time, on both
    while len(outcomes) < 150 and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    b.kill()
    killed_at = time.monotonic()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == 400
    acknowledged = assert_all_acknowledged_stored(cluster, outcomes)
    failed = [o for o in outcomes if o.status != 200]
    assert all(o.replica == "b" and isinstance(o.status, str) for o in failed)  # at the client, never a 5xx
    assert all(o.status != 200 for o in outcomes if o.replica == "b" and o.at > killed_at + 0.1)
    assert len(acknowledged) >= 200 + 60  # all of A's, and B's before it died
    with cluster.store.reading() as session:  # nothing twice: at most one bot reply per request sent
        sent = {o.conversation_id for o in acknowledged}
        replies = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id.in_(sent), Message.role == "bot")
        )
    assert replies <= 400
    assert a.pending() == 0.0 and cluster.segments() == []
    print(
        f"\nSIGKILL: 400 requests in {time.monotonic() - started:.1f}s, {len(acknowledged)} acknowledged "
        f"and all stored, {len(failed)} failed at the client ({sorted({o.status for o in failed})})"
    )


def admin(replica: Replica, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Faqbot-User": f"agent-{replica.name}"}
    return httpx.request(method, f"{replica.base}/api/v1/admin{path}", headers=headers, timeout=60, **kwargs)


def test_an_article_edited_through_either_replica_and_published_is_served_by_both(cluster):
    """Two agents on two replicas: the article created through one is read through the other,
    their concurrent edits from one version give one save and one 409 (nothing overwritten unseen),
    and a publish through one is followed through the other and served by both."""
    cluster.ensure_running()
    a, b = cluster.replicas
    question = "fate anche le confezioni regalo per le spedizioni?"
    article = {
        "id": "gift-wrapping-replicas", "lang": "it", "title": "Confezione regalo",
        "questions": [question], "body": "Sì: la confezione regalo costa 2 euro, la scegli al pagamento.",
    }  # fmt: skip
    created = admin(a, "POST", "/articles", json=article)
    assert created.status_code == 201, created.text
    seen = admin(b, "GET", "/articles/gift-wrapping-replicas").json()
    assert seen["version"] == created.json()["version"]
    edit = {k: v for k, v in seen.items() if k != "id"}
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda pair: admin(
                    pair[0], "PUT", "/articles/gift-wrapping-replicas", json={**edit, "title": pair[1]}
                ),
                [(a, "Pacchetto regalo (A)"), (b, "Pacchetto regalo (B)")],
            )
        )
    assert sorted(r.status_code for r in answers) == [200, 409]
    saved = next(r for r in answers if r.status_code == 200).json()["title"]
    assert admin(a, "GET", "/articles/gift-wrapping-replicas").json()["title"] == saved
    before = {r.name: httpx.get(f"{r.base}/readyz").json()["index_version"] for r in (a, b)}
    job = admin(a, "POST", "/publish").json()["job"]
    deadline = time.monotonic() + 300
    while (state := admin(b, "GET", f"/publish/{job}").json())["status"] == "running":
        assert time.monotonic() < deadline, "the publish never ended"
        time.sleep(1)
    assert state["status"] == "published", state["report"]
    for replica in (a, b):
        while httpx.get(f"{replica.base}/readyz").json()["index_version"] == before[replica.name]:
            assert time.monotonic() < deadline, f"replica {replica.name} never served the new index"
            time.sleep(0.5)
        answer = chat(replica, {"text": question})
        assert answer["decision"] == "answer" and answer["answer"]["article_id"] == "gift-wrapping-replicas"


def test_staff_on_one_replica_hear_live_what_customers_write_through_the_other(cluster):
    """The events endpoint across two replicas on PostgreSQL: a customer message taken by B reaches
    an admin stream on A within two seconds; the agent's reply through A reaches the customer's
    stream on B."""
    cluster.ensure_running()
    a, b = cluster.replicas
    staff = Stream(f"{a.base}/api/v1/admin/events", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    try:
        assert staff.status == 200
        opened = chat(b, {"text": "voglio parlare con un operatore"})
        cid, ticket = opened["conversation_id"], opened["handoff"]["ticket_id"]
        customer = Stream(f"{b.base}/api/v1/conversations/{cid}/events")
        try:
            assert customer.next("status")["status"] == "handoff"
            sent = time.monotonic()
            chat(b, {"text": "ci siete?", "conversation_id": cid})
            heard = staff.next("message", 1)  # the first: the request for a person
            assert heard["text"] == "ci siete?"
            assert time.monotonic() - sent < 2.0
            assert (heard["conversation_id"], heard["role"], heard["ref"]) == (
                cid,
                "user",
                opened["handoff"]["reference"],
            )
            reply = httpx.post(
                f"{a.base}/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Eccomi, sono Giulia"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Faqbot-User": "Giulia"}, timeout=10,
            )  # fmt: skip
            assert reply.status_code == 200
            joined, answer = customer.next("message"), customer.next("message", 1)
            assert (joined["role"], answer["role"], answer["author"]) == ("system", "agent", "Giulia")
            assert answer["text"] == "Eccomi, sono Giulia"
        finally:
            customer.close()
    finally:
        staff.close()
