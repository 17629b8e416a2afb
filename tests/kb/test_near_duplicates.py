"""The near-duplicate question search: exactly the pairs an all-pairs comparison finds, also when a
cache from an earlier build lets it compare only the new questions."""

from __future__ import annotations

import random

from rapidfuzz import fuzz

import bot.kb.near_duplicates as near
from bot.kb.near_duplicates import RATIO, similar_pairs

WORDS = ["ordine", "reso", "pacco", "spedizione", "rimborso", "fattura", "password", "account", "consegna"]


def questions(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    keys = {" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(count)}
    keys |= {k + "x" for k in sorted(keys)[: count // 8]}  # near twins
    return sorted(keys)


def all_pairs(keys: list[str]) -> set[tuple[str, str]]:
    ordered = sorted(keys, key=len)
    return {(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :] if fuzz.ratio(a, b) >= RATIO}


def test_the_search_finds_exactly_the_pairs_all_pairs_would():
    keys = questions(3, 1500)
    found = similar_pairs({"it": keys})["it"]
    assert len(found) > 100 and set(found) == all_pairs(keys)


def test_with_a_cache_only_new_questions_are_compared_and_the_pairs_stay_exact(tmp_path, monkeypatch):
    cache = tmp_path / "near_duplicates.json"
    before = questions(5, 800)
    similar_pairs({"it": before, "en": before[:100]}, cache)
    after = sorted(set(before[40:]) | set(questions(6, 60)))  # some questions gone, some new
    compared: list[int] = []
    real = near._pairs
    monkeypatch.setattr(
        near, "_pairs", lambda rows, columns: compared.append(len(rows)) or real(rows, columns)
    )
    found = similar_pairs({"it": after, "en": before[:100]}, cache)
    assert set(found["it"]) == all_pairs(after) and set(found["en"]) == all_pairs(before[:100])
    new = len(set(after) - set(before))
    assert compared == [new, 0]  # nothing new in "en": nothing compared
    assert found == similar_pairs({"it": after, "en": before[:100]})  # same pairs, same order


def test_an_unreadable_cache_is_ignored(tmp_path):
    cache = tmp_path / "near_duplicates.json"
    cache.write_text("{not json", encoding="utf-8")
    keys = questions(7, 300)
    assert set(similar_pairs({"it": keys}, cache)["it"]) == all_pairs(keys)
    assert similar_pairs({"it": keys}, cache) == similar_pairs({"it": keys})  # rewritten, now read
