"""Decisions and reasons are plain strings wherever they go: JSON, log lines, the store."""

from __future__ import annotations

import json

from bot.dialogue.messages import message
from bot.dialogue.smalltalk import PRECEDENCE
from bot.dialogue.vocabulary import DecisionKind, Reason


def test_members_are_the_strings_they_stand_for():
    assert [str(k) for k in DecisionKind] == ["answer", "clarify", "handoff", "smalltalk", "agent"]
    assert DecisionKind.HANDOFF == "handoff" and f"{Reason.AGENT_HOLDS}" == "agent_holds"
    assert json.dumps({"decision": DecisionKind.CLARIFY, "reason": Reason.CLOSE_CALL}) == (
        '{"decision": "clarify", "reason": "close_call"}'
    )


def test_every_small_talk_kind_is_a_reason_with_its_messages():
    assert set(PRECEDENCE) <= set(Reason)
    for kind in PRECEDENCE:
        assert message(f"smalltalk_{kind}", "it") and message(f"smalltalk_{kind}", "en")
