"""`faqbot spool status|drain`: what stopped servers left in the spool, replayed by hand."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner

from bot.cli.main import app
from bot.config import Settings
from bot.durability.records import TurnRecord
from bot.durability.spool import Spool
from bot.storage.schema import new_id
from bot.storage.store import Store

runner = CliRunner()


def left_behind(settings: Settings, count: int) -> list[TurnRecord]:
    """`count` turns in the spool of a server that stopped before replaying them."""
    records = [
        TurnRecord(
            conversation_id=new_id("cs"),
            channel="web",
            at=dt.datetime.now(dt.UTC),
            user_id=new_id("m"),
            text=f"domanda {n}",
            bot_id=new_id("m"),
            decision="answer",
            reason="confident",
            reply_text="risposta",
            lang="it",
            article_id="a1",
            confidence=0.9,
            latency_ms=10.0,
            state={"lang": "it", "misses": 0, "pending": [], "last_article": "a1"},
        )  # fmt: skip
        for n in range(count)
    ]
    stopped = Spool(settings.spool_path).open()
    for record in records:
        stopped.append(record.to_json())
    stopped.close()
    return records


def test_status_and_drain(isolated_home, monkeypatch):
    settings = Settings()
    records = left_behind(settings, 3)
    status = runner.invoke(app, ["spool", "status"])
    assert status.exit_code == 0 and status.output.startswith("3 records wait")
    monkeypatch.setenv("FAQBOT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # nothing listens
    refused = runner.invoke(app, ["spool", "drain"])
    assert refused.exit_code == 1 and "3 records still wait" in refused.output
    monkeypatch.delenv("FAQBOT_DATABASE_URL")
    drained = runner.invoke(app, ["spool", "drain"])
    assert drained.exit_code == 0, drained.output
    assert "replayed 3 records" in drained.output and "0 still wait" in drained.output
    store = Store.for_settings(None, settings.var_path).open()
    assert [m.text for m in store.messages(records[2].conversation_id)] == ["domanda 2", "risposta"]
    store.close()
    assert runner.invoke(app, ["spool", "status"]).output.startswith("0 records wait")


def test_status_counts_channel_events_left_in_the_inbox(isolated_home):
    settings = Settings()
    stopped = Spool(settings.inbox_path, key="user").open()
    stopped.append({"kind": "event", "user": "psid-1", "key": "mid.1", "event": {}})
    stopped.close()
    status = runner.invoke(app, ["spool", "status"])
    assert status.exit_code == 0, status.output
    assert "1 channel events wait" in status.output
