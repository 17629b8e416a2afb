"""How much of a question's character n-grams each short text of the knowledge base contains.

Word-level BM25 misses a word spelt otherwise ("annullarlo" vs "annullare", "tracciamento" vs
"tracciare", a typo); n-grams inside words still match most of it, in any language, without a
stemmer. The n-grams of the question are weighted by TF-IDF, and a text scores the share of that
weight it contains: 1.0 when it holds every n-gram of the question, however long it is. (A cosine
would favour short texts: "spedizione" would pick the shortest title that holds the word and
answer, where several articles match as well and "did you mean" is right.)

The matrix is derived from the unit texts when an index version is loaded (60 ms for the sample
KB's 949 texts; under 1 ms a question), so the index format carries nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.text.normalise import normalise

# Character n-grams within word boundaries, 2 to 4 long; tf dampened (1 + log tf).
NGRAM_RANGE = (2, 4)


class CharNgrams:
    """Share of a question's n-gram weight found in each unit; a unit given as "" scores 0."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.n_units = len(texts)
        self.vectorizer: TfidfVectorizer | None = None
        self.present: sparse.csr_matrix | None = None  # 1 where the unit holds the n-gram
        if any(texts):
            self.vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True, dtype=np.float32
            )
            weights = self.vectorizer.fit_transform(texts)
            self.present = (weights > 0).astype(np.float32).tocsr()

    def scores(self, text: str) -> np.ndarray:
        """In [0, 1] for each unit (the question is normalised as the units were)."""
        if self.vectorizer is None:
            return np.zeros(self.n_units, dtype=np.float32)
        query = self.vectorizer.transform([normalise(text)])
        share = query.multiply(query)  # squared weights of a unit-length vector: they sum to 1
        return np.asarray((self.present @ share.T).todense(), dtype=np.float32).ravel()
