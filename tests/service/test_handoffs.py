"""Hand-offs: one ticket per conversation, the wait the queue implies, the contact a held customer
leaves outside business hours, and the spooled tickets of an outage."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.dialogue.business_hours import BusinessHours
from bot.service.handoffs import Handoffs
from bot.storage.statuses import ConversationStatus
from bot.storage.store import Store

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
MONDAY_NIGHT = dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'handoffs.db'}").open()
    yield store
    store.close()


def _handoffs(store: Store, now: dt.datetime) -> Handoffs:
    hours = BusinessHours.parse(["mon-fri 09:00-18:00"], "UTC")
    return Handoffs(store, minutes_per_ticket=4, hours=hours, clock=lambda: now)


def test_each_ticket_waits_for_the_ones_ahead_and_a_conversation_keeps_its_ticket(store):
    handoffs = _handoffs(store, MONDAY_NOON)
    with store.session() as session:
        first = store.conversation_for_update(session, None, "web", "en")
        second = store.conversation_for_update(session, None, "web", "en")
        ticket, handoff = handoffs.open(session, first, "requested", "en", "web", "A person will help.")
        _, later = handoffs.open(session, second, "requested", "en", "web", "A person will help.")
        again, _ = handoffs.open(session, first, "low_confidence", "en", "web", "Still here.")
        assert first.status == ConversationStatus.HANDOFF
    assert handoff.ticket_id == ticket.id == again.id
    assert handoff.message.startswith("A person will help. ") and (
        handoff.eta_minutes,
        later.eta_minutes,
    ) == (4, 8)


def test_the_wait_is_told_once_and_a_held_customer_only_hears_back_about_their_email(store):
    handoffs = _handoffs(store, MONDAY_NIGHT)
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, "web", "it")
        _ticket, opened = handoffs.open(
            session, conversation, "requested", "it", "web", "Ti passo a una persona."
        )
        _, silent = handoffs.hold(session, conversation, "va bene, grazie", "it")
        ticket, said = handoffs.hold(session, conversation, "scrivete a anna.verdi@example.it", "it")
        _, again = handoffs.hold(session, conversation, "a anna.verdi@example.it, ripeto", "it")
    assert "e-mail" in opened.message and opened.eta_minutes > 60  # closed now: asked for an address
    assert silent == "" and again == ""
    assert "anna.verdi@example.it" in said
    assert store.open_tickets()[0][0].contact == "anna.verdi@example.it" == ticket.contact


def test_a_ticket_has_a_short_reference_to_read_over_the_phone(store):
    handoffs = _handoffs(store, MONDAY_NOON)
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, "web", "en")
        ticket, handoff = handoffs.open(
            session, conversation, "requested", "en", "web", "A person will help."
        )
    assert handoff.reference == ticket.ref and re.fullmatch(r"LC-\d{4}", ticket.ref)


def test_spooled_tickets_wait_as_an_empty_queue(store):
    handoffs = _handoffs(store, MONDAY_NOON)
    opened, handoff = handoffs.spooled_open("requested", "en", "web", "A person will help.")
    held, said = handoffs.spooled_hold(opened.id, "my mail is a@b.example", "en")
    assert handoff.eta_minutes == 4 and handoff.agents_online is None
    assert held.id == opened.id and held.contact == "a@b.example" and opened.contact is None
    assert "a@b.example" in said


def test_the_queue_pace_must_be_positive(store):
    with pytest.raises(ValueError, match="minutes_per_ticket"):
        Handoffs(store, minutes_per_ticket=0)
