"""Character n-grams: words spelt otherwise still match; a text's length does not count."""

from __future__ import annotations

import numpy as np
import pytest

from bot.retrieval.char_ngrams import CharNgrams
from bot.text.normalise import normalise

TEXTS = [
    "annullare un ordine",
    "cambiare l'indirizzo di consegna",
    "",
    "tracking della spedizione",
    "spedizione",
    "quanto costa la spedizione in Francia e negli altri paesi europei",
]


@pytest.fixture
def index():
    return CharNgrams([normalise(t) for t in TEXTS])


def test_a_text_holding_the_whole_question_scores_one_whatever_its_length(index):
    scores = index.scores("Spedizione!")
    assert scores[3] == pytest.approx(1.0, abs=1e-5)
    assert scores[4] == pytest.approx(1.0, abs=1e-5)
    assert scores[5] == pytest.approx(1.0, abs=1e-5)
    assert scores[0] < 0.3 and scores[1] < 0.3


def test_inflections_and_typos_match_the_right_text():
    # No word of either question is in the texts as written: BM25 without a stemmer would score 0.
    index = CharNgrams([normalise(t) for t in TEXTS[:4]])
    for query, expected in [("come annullo l'ordinazione", 0), ("tracciamento spedizone", 3)]:
        scores = index.scores(query)
        assert int(np.argmax(scores)) == expected, (query, scores)
        assert 0.0 < scores[expected] < 1.0


def test_units_without_text_score_zero_and_so_does_an_empty_index(index):
    assert index.scores("annullare un ordine")[2] == 0.0
    assert index.scores("").tolist() == [0.0] * len(TEXTS)
    assert CharNgrams(["", ""]).scores("anything").tolist() == [0.0, 0.0]
