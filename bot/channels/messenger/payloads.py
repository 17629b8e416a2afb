"""What our buttons and quick replies carry back to us, and how to read it."""

from __future__ import annotations

from dataclasses import dataclass

GET_STARTED = "GET_STARTED"  # the Page's "Get started" button
PERSON = "PERSON"  # talk to a person
START_OVER = "START_OVER"  # forget the open question, greet again
_ARTICLE = "ARTICLE:"  # ARTICLE:<article id>: a suggestion or follow-up picked
_FEEDBACK = "FEEDBACK:"  # FEEDBACK:YES|NO:<message id>: was this answer helpful?


@dataclass(frozen=True)
class Payload:
    kind: str  # get_started | person | start_over | article | feedback | unknown
    value: str = ""  # the article id, or the message id rated
    helpful: bool | None = None


def article(article_id: str) -> str:
    return f"{_ARTICLE}{article_id}"


def feedback(helpful: bool, message_id: str) -> str:
    return f"{_FEEDBACK}{'YES' if helpful else 'NO'}:{message_id}"


def parse(payload: str) -> Payload:
    """Read a payload; anything we did not send comes back as `unknown`."""
    fixed = {GET_STARTED: "get_started", PERSON: "person", START_OVER: "start_over"}
    if payload in fixed:
        return Payload(fixed[payload])
    if payload.startswith(_ARTICLE) and len(payload) > len(_ARTICLE):
        return Payload("article", payload.removeprefix(_ARTICLE))
    if payload.startswith(_FEEDBACK):
        answer, _, message_id = payload.removeprefix(_FEEDBACK).partition(":")
        if answer in ("YES", "NO") and message_id:
            return Payload("feedback", message_id, answer == "YES")
    return Payload("unknown", payload)
