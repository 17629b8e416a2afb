"""The agents' side of a hand-off: claim (the customer told who answers), replies that claim, private
notes the customer never sees, unread counts, the customer leaving, and each step told live."""

from __future__ import annotations

import asyncio

import pytest

from bot.live.bus import LocalBus
from bot.live.events import Kind
from bot.service.chat import ChatService
from bot.storage.statuses import Role


@pytest.fixture
def chat(quick_service) -> ChatService:
    return quick_service()


def _hand_off(chat: ChatService, lang: str = "it") -> tuple[str, str]:
    text = "voglio parlare con un operatore" if lang == "it" else "I want to talk to a person"
    turn = chat.handle(text, None, lang, "web")
    assert turn.handoff is not None
    return turn.conversation_id, turn.handoff.ticket_id


def test_a_claim_tells_the_customer_who_answers_and_a_second_claim_reassigns(chat):
    conversation, ticket = _hand_off(chat)
    chat.inbox.claim(ticket, "Giulia")
    chat.inbox.claim(ticket, "Giulia")  # already hers: nothing new said
    chat.inbox.claim(ticket, "Marco")
    shown = [(m.role, m.author, m.text) for m in chat.store.messages(conversation) if m.role == Role.SYSTEM]
    assert shown == [
        (Role.SYSTEM, "Giulia", "Ti risponde Giulia del servizio clienti."),
        (Role.SYSTEM, "Marco", "Ti risponde Marco del servizio clienti."),
    ]
    assert chat.store.open_ticket_of(conversation).assignee == "Marco"


def test_the_first_named_reply_claims_and_measures_the_wait_and_notes_stay_private(chat):
    conversation, ticket = _hand_off(chat, "en")
    chat.inbox.note(ticket, "regular customer, check order 1234", "Giulia")
    chat.inbox.reply(ticket, "Hello, I'm looking into it.", author="Giulia")
    row = chat.store.queue()[0]
    assert row.ticket.assignee == "Giulia" and row.ticket.first_reply_at is not None
    roles = [m.role for m in chat.store.messages(conversation)]
    assert roles == [Role.USER, Role.BOT, Role.NOTE, Role.SYSTEM, Role.AGENT]
    _status, seen = chat.store.agent_messages(conversation, None, roles=(Role.AGENT, Role.SYSTEM))
    assert [m.text for m in seen] == [
        "Giulia from customer service is with you now.",
        "Hello, I'm looking into it.",
    ]


def test_unread_counts_what_the_customer_wrote_since_an_agent_read_it(chat):
    conversation, ticket = _hand_off(chat)
    for text in ("ci sei?", "va bene, grazie"):
        held = chat.handle(text, conversation, None, "web")
        assert held.reply.decision == "agent" and held.reply.text == "" and held.handoff is None
    row = chat.store.queue()[0]
    assert (row.unread, row.last_role, row.last_text) == (3, Role.USER, "va bene, grazie")
    chat.inbox.read(ticket, "Giulia")
    assert chat.store.queue()[0].unread == 0
    chat.handle("allora?", conversation, None, "web")
    assert chat.store.queue()[0].unread == 1


def test_the_customer_leaving_closes_the_hand_off_and_staff_are_told(chat):
    conversation, ticket = _hand_off(chat)
    note = chat.inbox.ended_by_customer(conversation)
    assert note is not None and note.role == Role.NOTE and chat.store.queue() == []  # staff only
    assert chat.inbox.ended_by_customer(conversation) is None  # nothing open any more
    with pytest.raises(LookupError):
        chat.inbox.reply(ticket, "too late")


def test_each_step_is_told_live(quick_service):
    async def scenario() -> list[tuple[str, str, str]]:
        chat = quick_service()
        chat.live = chat.inbox.live = LocalBus()
        await chat.live.start()
        async with chat.live.subscribe() as queue:
            conversation, ticket = await asyncio.to_thread(_hand_off, chat)
            await asyncio.to_thread(chat.handle, "ci sei?", conversation, None, "web")
            await asyncio.to_thread(chat.inbox.typing, conversation, "agent", "Giulia", True)
            await asyncio.to_thread(chat.inbox.reply, ticket, "Eccomi", False, "Giulia")
            await asyncio.to_thread(chat.inbox.close, ticket, "Giulia")
            seen = []
            while len(seen) < 9:
                event = await asyncio.wait_for(queue.get(), 2)
                assert event.conversation_id == conversation
                seen.append(
                    (event.kind, event.data.get("role") or event.data.get("who"), event.data.get("action"))
                )
            return seen

    assert asyncio.run(scenario()) == [
        (Kind.MESSAGE, "user", None),  # the request for a person
        (Kind.TICKET, None, "opened"),
        (Kind.MESSAGE, "user", None),  # "ci sei?" while waiting
        (Kind.TYPING, "agent", None),
        (Kind.MESSAGE, "system", None),  # Giulia joins (her reply claimed it)
        (Kind.TICKET, None, "claimed"),
        (Kind.MESSAGE, "agent", None),
        (Kind.MESSAGE, "system", None),  # back to the bot
        (Kind.TICKET, None, "closed"),
    ]
