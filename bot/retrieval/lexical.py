"""BM25 over short texts, one index per language with its own stemmer and stop words (bm25s)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s import stopwords as bm25_stopwords

from bot.text.normalise import normalise

# ISO 639-1 code -> Snowball stemmer name; any other language is tokenised without stemming.
_STEMMERS = {
    "it": "italian", "en": "english", "de": "german", "fr": "french", "es": "spanish",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "da": "danish", "no": "norwegian",
    "fi": "finnish", "ru": "russian", "tr": "turkish", "ro": "romanian", "hu": "hungarian",
}  # fmt: skip
_STOPWORDS = {
    "it": bm25_stopwords.STOPWORDS_ITALIAN, "en": bm25_stopwords.STOPWORDS_EN_PLUS,
    "de": bm25_stopwords.STOPWORDS_GERMAN, "fr": bm25_stopwords.STOPWORDS_FRENCH,
    "es": bm25_stopwords.STOPWORDS_SPANISH, "pt": bm25_stopwords.STOPWORDS_PORTUGUESE,
    "nl": bm25_stopwords.STOPWORDS_DUTCH, "sv": bm25_stopwords.STOPWORDS_SWEDISH,
    "da": bm25_stopwords.STOPWORDS_DANISH, "no": bm25_stopwords.STOPWORDS_NORWEGIAN,
    "ru": bm25_stopwords.STOPWORDS_RUSSIAN, "tr": bm25_stopwords.STOPWORDS_TURKISH,
}  # fmt: skip


@cache
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    return Stemmer.Stemmer(_STEMMERS[lang]) if lang in _STEMMERS else None


@cache
def stopwords(lang: str) -> frozenset[str]:
    """The language's stop words, normalised (empty for a language without a list)."""
    return frozenset(normalise(word) for word in _STOPWORDS.get(lang, ()))


def tokenize(text: str, lang: str) -> list[str]:
    """Stemmed content words of `text` (accents and case removed, stop words dropped)."""
    stops = stopwords(lang)
    words = [w for w in normalise(text).split() if len(w) > 1 and w not in stops]
    stemmer = _stemmer(lang)
    return stemmer.stemWords(words) if stemmer else words


class LexicalIndex:
    """BM25 scores of a query against every unit (short text) of the knowledge base.

    Each language has its own BM25 index over the units in that language; `positions[lang]`
    maps that index's documents back to global unit numbers.
    """

    def __init__(self, n_units: int) -> None:
        self.n_units = n_units
        self.models: dict[str, bm25s.BM25] = {}
        self.positions: dict[str, np.ndarray] = {}

    @classmethod
    def build(cls, texts: Sequence[str], langs: Sequence[str]) -> LexicalIndex:
        index = cls(len(texts))
        for lang in sorted(set(langs)):
            positions = np.array([i for i, unit_lang in enumerate(langs) if unit_lang == lang])
            corpus = [tokenize(texts[i], lang) or [""] for i in positions]
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
            index.models[lang], index.positions[lang] = model, positions
        return index

    def scores(self, text: str, langs: Sequence[str] | None = None) -> np.ndarray:
        """BM25 score of `text` against every unit; units of other languages score 0."""
        out = np.zeros(self.n_units, dtype=np.float32)
        for lang, model in self.models.items():
            if langs is not None and lang not in langs:
                continue
            ids = self.token_ids(text, lang)
            if ids:
                out[self.positions[lang]] = model.get_scores(ids)
        return out

    def token_ids(self, text: str, lang: str) -> list[int]:
        """Vocabulary ids of the query's tokens that the language's index knows."""
        vocab = self.models[lang].vocab_dict
        return [vocab[t] for t in tokenize(text, lang) if t in vocab]

    def coverage(self, text: str, lang: str) -> float:
        """Share of the query's content words that occur anywhere in the knowledge base."""
        tokens = tokenize(text, lang)
        if not tokens or lang not in self.models:
            return 0.0
        vocab = self.models[lang].vocab_dict
        return sum(t in vocab for t in tokens) / len(tokens)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"n_units": self.n_units, "languages": sorted(self.models)}
        (folder / "lexical.json").write_text(json.dumps(meta), encoding="utf-8")
        for lang, model in self.models.items():
            model.save(folder / lang, show_progress=False)
            np.save(folder / lang / "positions.npy", self.positions[lang])

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        index = cls(meta["n_units"])
        for lang in meta["languages"]:
            index.models[lang] = bm25s.BM25.load(folder / lang, show_progress=False)
            index.positions[lang] = np.load(folder / lang / "positions.npy")
        return index
