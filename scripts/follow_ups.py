#!/usr/bin/env python3
"""Short follow-ups read with the last answer (`Bot._in_context`): what they gain, what they risk.

Three counts on the sample KB's index:
- follow-ups that need the last answer ("quanto costa?" after the returns article), answered with
  the expected article;
- the evaluation questions, each asked after a random article of its language: how many get an
  in-context answer, and how many of those are wrong;
- short off-topic messages asked after every article: how many get an in-context answer.

    python scripts/follow_ups.py [--index index] [--kb kb_articles]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from bot.cli.common import load_bot
from bot.dialogue.bot import ConversationState
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.quality.evaluate import load_eval_set

# (article just answered, follow-up, article expected), written for this check.
FOLLOW_UPS = [
    ("returns-how", "quanto costa?", "returns-cost"),
    ("returns-how", "e in negozio?", "returns-in-store"),
    ("returns-how", "e quando arriva il rimborso?", "refund-timing"),
    ("shipping-costs", "e all'estero?", "shipping-international"),
    ("shipping-costs", "quanto ci mette?", "shipping-times"),
    ("order-status", "posso cancellarlo?", "order-cancel"),
    ("order-status", "e se voglio modificarlo?", "order-modify"),
    ("payment-methods", "anche a rate?", "payment-instalments"),
    ("payment-methods", "e in contrassegno?", "payment-cash-on-delivery"),
    ("loyalty-join", "e se la perdo?", "loyalty-card-lost"),
    ("store-locations", "a che ora aprono?", "store-hours"),
    ("returns-how-en", "how much does it cost?", "returns-cost-en"),
    ("returns-how-en", "and in a store?", "returns-in-store-en"),
    ("shipping-costs-en", "how long does it take?", "shipping-times-en"),
    ("shipping-costs-en", "and abroad?", "shipping-international-en"),
    ("order-status-en", "can i cancel it?", "order-cancel-en"),
    ("payment-methods-en", "in instalments too?", "payment-instalments-en"),
    ("loyalty-join-en", "what if i lose it?", "loyalty-card-lost-en"),
    ("store-locations-en", "what time do they open?", "store-hours-en"),
    ("refund-timing-en", "how will i get the money?", "refund-method-en"),
]
OFF_TOPIC = {
    "it": ["e Giove?", "chi ha vinto ieri?", "che tempo fa?", "e la pizza?", "quanti anni hai?",
           "sei un robot?", "e poi?", "perché?", "davvero?", "e allora?", "costa troppo", "quanto?"],
    "en": ["and Jupiter?", "who won yesterday?", "what's the weather?", "and pizza?", "how old are you?",
           "are you a robot?", "and then?", "why?", "really?", "too expensive", "how much?"],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--kb", type=Path, default=Path("kb_articles"))
    args = parser.parse_args()
    bot = load_bot(args.index)
    articles = bot.retriever.corpus.articles
    by_lang: dict[str, list[str]] = {}
    for article in articles:
        by_lang.setdefault(article.lang, []).append(article.id)

    def after(article_id: str, text: str):
        lang = bot.retriever.article(article_id).lang
        return bot.reply(text, ConversationState(lang=lang, last_article=article_id))[0]

    right = sum(
        (r := after(last, text)).decision == DecisionKind.ANSWER and r.article.article_id == gold
        for last, text, gold in FOLLOW_UPS
    )
    print(f"follow-ups answered right: {right} of {len(FOLLOW_UPS)}")

    rng = random.Random(1)
    used = wrong = 0
    for item in load_eval_set(args.kb / "eval"):
        reply = after(rng.choice(by_lang[item.lang]), item.text)
        used += reply.reason == Reason.IN_CONTEXT
        wrong += reply.reason == Reason.IN_CONTEXT and reply.article.article_id not in item.gold
    print(f"evaluation questions after a random article: {used} answered in context, {wrong} of them wrong")

    pairs = [(a.id, text) for a in articles for text in OFF_TOPIC.get(a.lang, [])]
    moved = [(a, t, r.article.article_id) for a, t in pairs if (r := after(a, t)).reason == Reason.IN_CONTEXT]
    print(f"off-topic messages after every article: {len(moved)} of {len(pairs)} answered in context")
    for article_id, text, answered in moved:
        print(f"  after {article_id}: {text!r} -> {answered}")


if __name__ == "__main__":
    main()
