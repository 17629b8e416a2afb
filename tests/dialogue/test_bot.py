"""The Bot service: answers, clarifications resolved on the next turn, hand-offs."""

from __future__ import annotations

import pytest

from bot.dialogue.bot import Bot, ConversationState
from bot.dialogue.messages import message
from bot.dialogue.policy import Thresholds
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from tests.conftest import FakeEmbedder


@pytest.fixture
def bot(small_kb, settings):
    embedder = FakeEmbedder()
    build_index(settings.build, embedder)
    retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
    return Bot(retriever, Thresholds(answer=0.5, clarify=0.2))


def clarifying_state() -> ConversationState:
    return ConversationState(
        lang="it",
        misses=1,
        pending=(("shipping-costs", "Quanto costa la spedizione"), ("returns-how", "Come fare un reso")),
    )


def test_answers_with_article_follow_ups_and_language(bot):
    reply, state = bot.reply("Ho dimenticato la password")
    assert reply.decision == DecisionKind.ANSWER and reply.article.article_id == "reset-password"
    assert reply.lang == "it" and "Password dimenticata" in reply.text
    assert [f.article_id for f in reply.follow_ups] == ["shipping-costs"]
    assert state.last_article == "reset-password" and state.misses == 0


def test_explicit_request_for_a_person_hands_off_in_the_customer_language(bot):
    reply, _ = bot.reply("I want to talk to a human")
    assert reply.decision == DecisionKind.HANDOFF and reply.reason == Reason.REQUESTED and reply.lang == "en"
    assert "customer service" in reply.text


def test_a_short_mixed_follow_up_stays_in_the_conversation_language(bot):
    """lingua alone reads "tracking ordine LC-482913" as English; an Italian conversation keeps it Italian."""
    _, state = bot.reply("Ho dimenticato la password")
    assert state.lang == "it"
    reply, state = bot.reply("tracking ordine LC-482913", state)
    assert reply.lang == "it" and state.lang == "it"
    assert bot.reply("tracking ordine LC-482913")[0].lang == "en"  # a new conversation: detected


def test_a_clear_sentence_in_the_other_language_switches_the_conversation(bot):
    _, state = bot.reply("Ho dimenticato la password")
    reply, state = bot.reply("I forgot my password, can you help me?", state)
    assert reply.lang == "en" and state.lang == "en"


def test_unrelated_question_hands_off(bot):
    reply, _ = bot.reply("qual è la distanza tra la Terra e Giove?")
    assert reply.decision == DecisionKind.HANDOFF and reply.article is None


@pytest.mark.parametrize("choice", ["2", "n. 2", "come fare un reso"])
def test_clarification_is_resolved_by_number_or_title(bot, choice):
    reply, state = bot.reply(choice, clarifying_state())
    assert reply.decision == DecisionKind.ANSWER and reply.article.article_id == "returns-how"
    assert state.pending == () and state.misses == 0


def test_clarification_can_be_answered_by_rephrasing(bot):
    reply, _ = bot.reply("ho dimenticato la password", clarifying_state())
    assert reply.article.article_id == "reset-password"


def test_out_of_range_number_is_treated_as_a_new_question(bot):
    reply, _ = bot.reply("7", clarifying_state())
    answered = reply.article.article_id if reply.decision == DecisionKind.ANSWER else None
    assert answered not in {"shipping-costs", "returns-how"}


def test_two_misses_in_a_row_hand_off(bot, monkeypatch):
    thresholds = Thresholds(answer=1.0, clarify=0.0)  # every question becomes a clarification
    strict = Bot(bot.retriever, thresholds, misses_before_handoff=2)
    first, state = strict.reply("spedizione")
    assert first.decision == DecisionKind.CLARIFY and state.misses == 1 and state.pending
    second, state = strict.reply("reso", state)
    assert second.decision == DecisionKind.HANDOFF and second.reason == Reason.REPEATED_MISS
    assert state.misses == 0


def test_article_marked_handoff_answers_and_offers_a_person(bot):
    reply, _ = bot.reply("il prodotto è arrivato rotto")
    assert reply.decision == DecisionKind.ANSWER and reply.article.article_id == "order-damaged"
    assert reply.offer_person and "operatore" in reply.text


def test_empty_message_is_refused(bot):
    with pytest.raises(ValueError, match="empty"):
        bot.reply("   ")


def test_misses_before_handoff_must_be_positive(bot):
    with pytest.raises(ValueError, match="misses_before_handoff"):
        Bot(bot.retriever, Thresholds(), misses_before_handoff=0)


def test_a_confident_close_call_is_not_a_miss(bot):
    ambiguous = Bot(bot.retriever, Thresholds(answer=0.0, clarify=0.0, margin=1.0))
    state = ConversationState(lang="it", misses=1)
    reply, state = ambiguous.reply("spedizione reso password", state)
    assert reply.decision == DecisionKind.CLARIFY and reply.reason == Reason.CLOSE_CALL
    assert state.misses == 0


def test_a_follow_up_picked_by_its_title_is_answered_directly(bot):
    _, state = bot.reply("Ho dimenticato la password")
    reply, state = bot.reply("Quanto costa la spedizione", state)
    assert reply.decision == DecisionKind.ANSWER and reply.reason == Reason.PICKED and reply.confidence == 1.0
    assert reply.article.article_id == "shipping-costs" and state.last_article == "shipping-costs"
    other, _ = bot.reply("Quanto costa la spedizione", ConversationState(last_article="returns-how"))
    assert other.reason != "picked"  # not offered after that article: an ordinary question


@pytest.mark.parametrize(
    ("text", "lang", "key"),
    [
        ("grazie mille!", "it", "smalltalk_thanks"),
        ("hello", "en", "smalltalk_greeting"),
        ("bye", "en", "smalltalk_goodbye"),
    ],
)
def test_small_talk_is_answered_in_kind_not_handed_off(bot, text, lang, key):
    reply, state = bot.reply(text)
    assert reply.decision == DecisionKind.SMALLTALK
    assert reply.lang == lang and reply.text == message(key, lang)
    assert reply.result is None and reply.article is None and state.misses == 0


def test_small_talk_keeps_the_conversation_its_choices_and_its_language(bot):
    reply, state = bot.reply("ok", ConversationState(lang="en"))  # "ok" is no language of its own
    assert reply.decision == DecisionKind.SMALLTALK and reply.lang == "en"
    reply, state = bot.reply("ok", clarifying_state())
    assert reply.lang == "it" and state.pending == clarifying_state().pending and state.misses == 1
    picked, _ = bot.reply("2", state)  # the "did you mean" still stands
    assert picked.decision == DecisionKind.ANSWER and picked.article.article_id == "returns-how"


def test_saying_the_answer_did_not_help_brings_a_person(bot):
    _, state = bot.reply("Ho dimenticato la password")
    reply, state = bot.reply("non mi è stato utile", state)
    assert reply.decision == DecisionKind.HANDOFF and reply.reason == Reason.NEGATIVE_FEEDBACK
    assert reply.text == message("handoff_unhelpful", "it")
    english, _ = bot.reply("that didn't help", ConversationState(lang="en", last_article="reset-password"))
    assert english.reason == Reason.NEGATIVE_FEEDBACK and english.lang == "en"
    first, _ = bot.reply("non mi è stato utile")  # no answer given yet: an ordinary message
    assert first.reason != "negative_feedback"


def test_a_single_suggestion_is_offered_as_this_not_one_of_these(bot):
    one = Bot(bot.retriever, Thresholds(answer=1.0, clarify=0.0, max_suggestions=1))
    reply, _ = one.reply("spedizione")
    assert reply.decision == DecisionKind.CLARIFY and len(reply.suggestions) == 1
    assert reply.text.startswith(message("clarify_one", "it"))
    several, _ = Bot(bot.retriever, Thresholds(answer=1.0, clarify=0.0)).reply("spedizione reso password")
    assert len(several.suggestions) > 1 and several.text.startswith(message("clarify", "it"))


def test_a_did_you_mean_offers_a_person_too(bot):
    """None of the suggestions may fit: the way to a person is said, and offered as a choice."""
    reply, _ = Bot(bot.retriever, Thresholds(answer=1.0, clarify=0.0)).reply("spedizione reso password")
    assert reply.decision == DecisionKind.CLARIFY and reply.offer_person
    assert reply.text.endswith(message("clarify_hint", "it")) and "operatore" in reply.text
    english, _ = Bot(bot.retriever, Thresholds(answer=1.0, clarify=0.0)).reply("shipping costs", lang="en")
    assert english.offer_person and "agent" in english.text


@pytest.mark.parametrize("words", ["Nessuna di queste", "none of these", "nessuna, grazie"])
def test_none_of_these_asks_to_rephrase_then_a_second_miss_hands_off(bot, words):
    first = ConversationState(lang="it", misses=0, pending=clarifying_state().pending)
    reply, state = bot.reply(words, first)
    assert (reply.decision, reply.reason, reply.lang) == (DecisionKind.CLARIFY, Reason.NONE_FIT, "it")
    assert reply.text == message("none_fit", "it") and reply.offer_person and not reply.suggestions
    assert state.misses == 1 and state.pending == ()
    again, _ = bot.reply(words, clarifying_state())  # one miss already: a person
    assert (again.decision, again.reason) == (DecisionKind.HANDOFF, Reason.REPEATED_MISS)


def test_none_without_a_choice_offered_is_an_ordinary_message(bot):
    reply, _ = bot.reply("none of these")
    assert reply.reason != Reason.NONE_FIT
