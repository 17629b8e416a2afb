"""The honest wait: measured times to a first agent reply (per channel, this hour first), the place
in the queue, who is online, and the prior while nothing is measured."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialogue.business_hours import BusinessHours, Queue, expectation
from bot.service.waits import Waits, moving_average
from bot.storage.schema import Ticket
from bot.storage.store import Store

NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'waits.db'}").open()
    yield store
    store.close()


def _answered(store: Store, channel: str, opened: dt.datetime, minutes: float) -> None:
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, channel, "en")
        session.add(
            Ticket(
                id=f"t_{opened.timestamp()}_{channel}", conversation_id=conversation.id, status="closed",
                reason="requested", created_at=opened, channel=channel,
                first_reply_at=opened + dt.timedelta(minutes=minutes),
            )
        )  # fmt: skip


def test_the_moving_average_leans_to_the_newest_waits():
    assert moving_average([10.0]) == 10.0
    assert moving_average([10.0, 20.0], alpha=0.5) == pytest.approx(50 / 3)
    assert moving_average([2.0, 2.0, 30.0]) > moving_average([30.0, 2.0, 2.0])


def test_nothing_measured_uses_the_prior_pace_per_customer(store):
    waits = Waits(store, prior_minutes=5, zone=dt.UTC, clock=lambda: NOON)
    assert waits.typical("web") is None
    assert waits.queue("web", 0).typical_minutes == 5
    assert waits.queue("web", 2).typical_minutes == 15


def test_measured_waits_of_this_hour_and_channel_come_first(store):
    for day in range(1, 4):  # three answered hand-offs at noon, 20 minutes each
        _answered(store, "web", NOON - dt.timedelta(days=day), 20)
    for day in range(1, 6):  # quicker ones in the morning
        _answered(store, "web", NOON - dt.timedelta(days=day, hours=3), 2)
    _answered(store, "messenger", NOON - dt.timedelta(days=1), 60)
    waits = Waits(store, prior_minutes=5, zone=dt.UTC, clock=lambda: NOON)
    assert waits.typical("web") == pytest.approx(20)
    assert waits.typical("messenger") == pytest.approx(60)  # too few at noon: all of its waits
    evening = Waits(store, prior_minutes=5, zone=dt.UTC, clock=lambda: NOON + dt.timedelta(hours=6))
    assert 2 < evening.typical("web") < 20  # no measure at 18:00: every web wait, newest weighing most


def test_customers_ahead_share_the_agents_online(store):
    _answered(store, "web", NOON - dt.timedelta(days=1), 10)
    waits = Waits(store, prior_minutes=5, zone=dt.UTC, clock=lambda: NOON)
    assert waits.queue("web", 0) == Queue(0, 10, 0)
    assert waits.queue("web", 2).typical_minutes == 30  # nobody online: as with one agent
    for name in ("giulia", "marco"):
        store.touch_console_session(store.open_console_session(name, 3600))
    assert waits.queue("web", 2) == Queue(2, 20, 2)


def test_the_customer_hears_their_place_and_that_nobody_is_online():
    always = BusinessHours.always()
    alone = expectation(always, NOON, "en", "web", Queue(0, 7, 1))
    assert alone.eta_minutes == 7 and "7 minutes" in alone.text and "waiting before you" not in alone.text
    queued = expectation(always, NOON, "it", "web", Queue(2, 12, 0))
    assert queued.position == 3 and "2 persone" in queued.text
    assert "nessun operatore è collegato" in queued.text and "e-mail" in queued.text
    messenger = expectation(always, NOON, "en", "messenger", Queue(1, 1, 0))
    assert "about a minute" in messenger.text and "One other person" in messenger.text
    assert "e-mail" not in messenger.text
