"""What customers are told at a hand-off, in and out of business hours, in both languages."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialogue.business_hours import BusinessHours, Queue, expectation

HOURS = BusinessHours.parse(["mon-fri 09:00-18:00", "sat 09:00-13:00"], "Europe/Rome")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_open_hours_wait_comes_from_the_queue():
    wait = expectation(HOURS, at("2026-11-23T10:00:00+01:00"), "it", "web", Queue(2, 15, 1))
    assert wait.open_now and wait.eta_minutes == 15 and wait.position == 3
    assert wait.text == (
        "Un operatore ti risponderà qui: l'attesa stimata è di circa 15 minuti. "
        "Prima di te ci sono 2 persone in attesa."
    )


def test_closed_on_the_web_asks_for_an_email_and_names_the_opening():
    wait = expectation(HOURS, at("2026-11-23T19:30:00+01:00"), "it", "web", Queue(0, 5))
    assert not wait.open_now and "martedì 24/11 alle 09:00" in wait.text and "e-mail" in wait.text
    assert wait.eta_minutes == 13 * 60 + 30 + 5


def test_closed_on_messenger_answers_there_in_english():
    wait = expectation(HOURS, at("2026-11-28T14:00:00+01:00"), "en", "messenger", Queue(0, 5))
    assert "Monday 30/11 at 09:00" in wait.text and "answer you here" in wait.text


def test_time_zone_is_respected():
    # 08:30 UTC is 09:30 in Rome: open
    assert HOURS.is_open(at("2026-11-23T08:30:00+00:00"))
    assert not HOURS.is_open(at("2026-11-29T10:00:00+01:00"))  # Sunday


@pytest.mark.parametrize("rule", ["mon-fri 9-18", "someday 09:00-18:00", "mon 18:00-09:00"])
def test_bad_rules_are_refused(rule):
    with pytest.raises(ValueError, match="business hours"):
        BusinessHours.parse([rule], "Europe/Rome")


def test_always_open():
    assert BusinessHours.always().is_open(at("2026-11-29T23:59:59+00:00"))


def test_a_day_can_end_at_midnight():
    hours = BusinessHours.parse(["mon-sun 00:00-24:00"], "Europe/Rome")
    assert hours.is_open(at("2026-11-29T23:59:59+01:00")) and hours.is_open(at("2026-11-29T00:00:00+01:00"))


def test_closed_on_the_web_with_a_known_address_promises_an_email():
    wait = expectation(
        HOURS, at("2026-11-23T19:30:00+01:00"), "en", "web", Queue(0, 5), email="ann@example.com"
    )
    assert "by e-mail at ann@example.com" in wait.text and "Tuesday 24/11 at 09:00" in wait.text
