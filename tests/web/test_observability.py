"""Structured JSON logs with request ids and no customer text unredacted; error and reload metrics."""

from __future__ import annotations

import json
import logging
import logging.config
import sys

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from bot.web.logs import JsonFormatter, log_config, new_request_id
from tests.web.test_app import service_factory  # noqa: F401 - fixture (a test that changes the index)

EMAIL = "mario.rossi@example.com"
PHONE = "347 123 4567"


def formatted(records) -> list[dict]:
    """The server's records as JSON lines (the test client's own httpx log lines left out)."""
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in records if not r.name.startswith("httpx")]
    assert all("\n" not in line for line in lines), "one JSON object per line"
    return [json.loads(line) for line in lines]


@pytest.fixture
def client(quick_service):
    with TestClient(create_app(Settings(), quick_service())) as client:
        yield client


def record(message: str, *args, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("faqbot.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_a_line_has_time_level_logger_message_and_fields():
    [entry] = formatted([record("reloaded %s", "v-1", route="/api/v1/chat", status=200)])
    assert entry["level"] == "warning" and entry["logger"] == "faqbot.test"
    assert entry["message"] == "reloaded v-1" and entry["time"].endswith("+00:00")
    assert entry["route"] == "/api/v1/chat" and entry["status"] == 200


def test_free_text_is_redacted_wherever_it_is_logged():
    rec = record(f"write to {EMAIL}", text=f"call me on {PHONE}", nested={"note": EMAIL})
    try:
        raise ValueError(f"cannot store {EMAIL}")
    except ValueError:
        rec.exc_info = sys.exc_info()
    [entry] = formatted([rec])
    dumped = json.dumps(entry)
    assert EMAIL not in dumped and PHONE not in dumped
    assert entry["message"] == "write to [EMAIL]" and entry["text"] == "call me on [PHONE]"
    assert "ValueError: cannot store [EMAIL]" in entry["exc"]


def test_personal_data_across_the_length_cut_leaks_no_fragment():
    """Found by a red-team pass: text was cut to 500 characters before redacting, so a card
    number straddling the cut left its first digits in the log."""
    text = "x" * 490 + " 4111 1111 1111 1111 fine"
    [entry] = formatted([record("turn", text=text)])
    assert "4111" not in entry["text"] and len(entry["text"]) == 500
    assert "4111" not in json.dumps(entry)


def test_the_text_format_is_redacted_too_and_a_new_line_forges_no_line():
    """Found by a red-team pass: with FAQBOT_LOG_FORMAT=text nothing was redacted, and a %0A in a
    path wrote a line of the attacker's choosing."""
    from bot.web.logs import TextFormatter

    forged = record("GET %s", f"/x\n2026-12-03 ERROR faqbot: admin token is {EMAIL}")
    line = TextFormatter().format(forged)
    assert "\n" not in line and "\\n2026-12-03" in line and EMAIL not in line and "[EMAIL]" in line


def test_a_lone_surrogate_does_not_break_the_line():
    [entry] = formatted([record("odd \ud800 text")])
    assert entry["message"] == "odd \ud800 text"


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [("abc-123", True), ("req_1.2:3", True), ("", False), ("a b", False), ("x" * 200, False),
     ('a"}\n{"level":"error', False), ("-leading-dash", False)],
)  # fmt: skip
def test_only_sane_request_ids_are_kept(incoming, kept):
    rid = new_request_id(incoming)
    assert (rid == incoming) is kept
    if not kept:
        assert len(rid) == 32 and int(rid, 16) >= 0


def test_the_request_id_is_echoed_and_carried_by_every_log_line(client, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post("/api/v1/chat", json={"text": "spese di spedizione"}, headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    lines = [e for e in formatted(caplog.records) if e.get("request_id") == "req-42"]
    loggers = {e["logger"] for e in lines}
    assert {"faqbot.access", "faqbot.chat"} <= loggers
    access = next(e for e in lines if e["logger"] == "faqbot.access")
    assert access["route"] == "/api/v1/chat" and access["status"] == 200 and access["duration_ms"] > 0
    generated = client.get("/healthz", headers={"X-Request-ID": "not sane!"}).headers["x-request-id"]
    assert generated != "not sane!" and len(generated) == 32


def test_turn_logs_hold_the_customers_words_only_redacted(client, caplog):
    caplog.set_level(logging.DEBUG)
    text = f"voglio parlare con un operatore, scrivetemi a {EMAIL} o al {PHONE}"
    data = client.post("/api/v1/chat", json={"text": text}).json()
    entries = formatted(caplog.records)
    everything = json.dumps(entries) + "\n".join(r.getMessage() for r in caplog.records)
    assert EMAIL not in everything and PHONE not in everything
    turn = next(e for e in entries if e["logger"] == "faqbot.chat")
    assert turn["conversation_id"] == data["conversation_id"] and turn["decision"] == "handoff"
    assert "[EMAIL]" in turn["text"] and "[PHONE]" in turn["text"]


def test_turn_logs_can_leave_the_text_out(quick_service, caplog):
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(Settings(log_text=False), quick_service())) as client:
        client.post("/api/v1/chat", json={"text": "spese di spedizione"})
    turn = next(e for e in formatted(caplog.records) if e["logger"] == "faqbot.chat")
    assert "text" not in turn and turn["decision"] == "answer"


class Broken:
    """A chat service whose store fails, with customer text in the error (as a driver error may)."""

    def __init__(self, service) -> None:
        self.bot, self.store, self.offline = service.bot, service.store, None
        self.live, self.inbox = service.live, service.inbox

    def handle(self, text, *args):
        raise RuntimeError(f"database refused the row for {text}")


def test_an_unhandled_error_is_a_generic_500_logged_and_counted(quick_service, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app(Settings(), Broken(quick_service()))
    with TestClient(app) as client:
        r = client.post("/api/v1/chat", json={"text": f"sono {EMAIL}"}, headers={"X-Request-ID": "boom-1"})
        metrics = client.get("/metrics").text
    assert r.status_code == 500
    assert r.json() == {"detail": "internal error; quote the request id to support", "request_id": "boom-1"}
    assert "Traceback" not in r.text and "RuntimeError" not in r.text and EMAIL not in r.text
    assert r.headers["x-request-id"] == "boom-1"
    assert 'faqbot_exceptions_total{exception="RuntimeError",route="/api/v1/chat"} 1.0' in metrics
    assert 'faqbot_http_errors_total{route="/api/v1/chat",status="500"} 1.0' in metrics
    error = next(e for e in formatted(caplog.records) if e["logger"] == "faqbot.error")
    assert error["request_id"] == "boom-1" and "Traceback" in error["exc"]
    assert "[EMAIL]" in error["exc"] and EMAIL not in json.dumps(error)


def test_the_spool_gauge_and_reload_failure_counter_are_exported(client):
    metrics = client.get("/metrics").text
    assert "faqbot_db_spool_pending 0.0" in metrics
    assert "faqbot_index_reload_failures_total 0.0" in metrics


def test_a_version_that_fails_to_load_is_counted(service_factory, isolated_home):  # noqa: F811
    from bot.index.versions import current_version

    app = create_app(Settings(reload_interval=3600), service_factory())
    with TestClient(app) as client:
        index = isolated_home / "index"
        serving = current_version(index)
        broken = index / "v-broken"
        broken.mkdir()
        (broken / "manifest.json").write_text("{not json", encoding="utf-8")
        (index / "current").unlink()
        (index / "current").symlink_to("v-broken")
        assert app.state.watcher.check() == serving, "the old version keeps serving"
        metrics = client.get("/metrics").text
    assert "faqbot_index_reload_failures_total 1.0" in metrics


def test_the_server_log_config_writes_json_lines(capsys):
    # The loggers the config sets, restored after: a handler left on them would write to this test's
    # captured (then closed) stderr, and later tests would see "Logging error" in their output.
    names = ("", "faqbot", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate) for name in names for lg in [logging.getLogger(name)]
    }
    logging.config.dictConfig(log_config("info", "json"))
    try:
        logging.getLogger("faqbot.test").info("hello %s", EMAIL, extra={"route": "/x"})
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("faqbot.test").debug("below the level")
    finally:
        for name, (handlers, level, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.propagate = handlers, propagate
            logger.setLevel(level)
    lines = capsys.readouterr().err.strip().splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["message"] for e in entries] == ["hello [EMAIL]", "Started server process"]
    assert entries[0]["route"] == "/x" and entries[1]["logger"] == "uvicorn.error"


def test_nothing_logs_the_admin_token(quick_service, monkeypatch, caplog):
    token = "very-secret-admin-token-123"
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(Settings(), quick_service())) as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/admin/handoffs", headers=auth).status_code == 200
        client.get("/api/v1/admin/handoffs", headers={"Authorization": f"Bearer {token}x"})
        client.get(f"/api/v1/admin/missed?q={token}", headers=auth)
        page = client.get("/admin/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        client.post("/admin/login", data={"csrf": csrf, "token": token, "name": "giulia"})
    assert caplog.records, "the requests were logged"
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert token not in "\n".join(r.getMessage() for r in server)
    assert token not in json.dumps(formatted(caplog.records))


def test_micro_batch_sizes_and_query_cache_hits_are_exported(quick_service):
    from bot.retrieval.query_encoder import QueryEncoder

    service = quick_service()
    retriever = service.bot.retriever
    retriever.embedder = QueryEncoder(retriever.embedder)
    with TestClient(create_app(Settings(), service)) as client:
        for _ in range(2):
            assert client.post("/api/v1/chat", json={"text": "come cambio la password"}).status_code == 200
        metrics = client.get("/metrics").text
    assert "faqbot_query_encode_batch_size_count 1.0" in metrics  # the second time, from the cache
    assert "faqbot_query_cache_hits_total 1.0" in metrics
