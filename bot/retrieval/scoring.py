"""Candidate articles for a query, with one row of fusion features each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.retrieval.corpus import ANSWER, Corpus
from bot.retrieval.features import rank_rows
from bot.retrieval.head import energy, softmax
from bot.text.normalise import normalise


@dataclass
class Candidates:
    """Candidate articles for one query, with one feature row each."""

    articles: np.ndarray
    features: np.ndarray
    evidence: np.ndarray  # unit index of the best-matching title/question per candidate
    head_energy: tuple[float, float, float] = (0.0, 0.0, 0.0)  # see head.energy


class Scorer:
    """Turns per-unit dense and lexical scores into candidate articles with fusion features."""

    def __init__(self, corpus: Corpus, per_signal: int = 20) -> None:
        self.corpus = corpus
        self.per_signal = per_signal
        self._chars: tuple[str, np.ndarray] | None = None

    def char_scores(self, text: str) -> np.ndarray:
        """Share of `text`'s character n-grams held by every unit (the last text's are kept: the
        fusion fit scores one question under several conditions)."""
        if self._chars is None or self._chars[0] != text:
            self._chars = (text, self.corpus.chars.scores(text))
        return self._chars[1]

    def per_article(self, unit_scores: np.ndarray, kind_mask: np.ndarray, floor: float) -> np.ndarray:
        """Max of `unit_scores` over each article's units where `kind_mask` holds (else `floor`)."""
        c = self.corpus
        if not len(c.articles):
            return np.zeros(0, dtype=np.float32)
        masked = np.where(kind_mask, unit_scores, floor)
        return np.maximum.reduceat(masked, c.starts[:-1])

    def candidates(
        self,
        text: str,
        dense: np.ndarray,
        lexical: np.ndarray,
        lang_probs: dict[str, float],
        excluded: np.ndarray | None = None,
        head_logits: np.ndarray | None = None,
    ) -> Candidates:
        """Top articles by dense, lexical or head evidence, with their RANK_FEATURES rows.

        `head_logits` are the classification head's scores (None: no head), one per article plus,
        with an out-of-scope class, that class's last (see `Head.logits`); excluded articles drop
        out of its softmax."""
        c = self.corpus
        keep = np.ones(len(c.units), dtype=bool) if excluded is None else ~excluded
        short = keep & (c.unit_kind != ANSWER)
        answer = keep & (c.unit_kind == ANSWER)
        dense_q = self.per_article(dense, short, -1.0)
        dense_a = np.maximum(self.per_article(dense, answer, -1.0), 0.0)
        lex_q = self.per_article(lexical, short, 0.0)
        lex_a = self.per_article(lexical, answer, 0.0)
        char_units = self.char_scores(text)
        chars = self.per_article(char_units, short, 0.0)
        chars_a = self.per_article(char_units, answer, 0.0)
        alive = self.per_article(np.ones(len(c.units)), short, 0.0) > 0
        chosen = self._top(dense_q, alive) | self._top(np.where(lex_q > 0, lex_q, -1.0), alive)
        chosen |= self._top(np.where(chars > 0, chars, -1.0), alive)
        n = len(c.articles)
        oos = None if head_logits is None or len(head_logits) == n else float(head_logits[n])
        logits = None if head_logits is None else np.where(alive, head_logits[:n], -np.inf)
        head = np.zeros(len(c.articles)) if logits is None else softmax(logits)
        chosen |= self._top(np.where(head > 0, head, -1.0), alive)
        arts = np.flatnonzero(chosen)
        fuzzy, evidence = self._fuzzy(text, arts, short, dense)
        best_lex = max(float(lexical[keep].max()) if keep.any() else 0.0, 1e-6)
        dq = dense_q[arts]
        feats = rank_rows(
            {
                "dense_question": dq,
                "dense_answer": dense_a[arts],
                "lexical_rel": lex_q[arts] / best_lex,
                "lexical_abs": np.log1p(lex_q[arts]),
                "lexical_answer_rel": lex_a[arts] / best_lex,
                "fuzzy": fuzzy,
                "lang": np.array([lang_probs.get(c.article_lang[a], 0.0) for a in arts]),
                "dense_gap": dq - (dq.max() if len(dq) else 0.0),
                "fuzzy_gap": fuzzy - (fuzzy.max() if len(fuzzy) else 0.0),
                "head": head[arts],
                "head_gap": head[arts] - (head.max() if len(head) else 0.0),
                "chars": chars[arts],
                "chars_answer": chars_a[arts],
            }
        )
        head_energy = energy(logits, oos) if logits is not None else (0.0, 0.0, 0.0)
        return Candidates(arts, feats.reshape(len(arts), -1), evidence, head_energy)

    def _top(self, scores: np.ndarray, alive: np.ndarray) -> np.ndarray:
        chosen = np.zeros(len(scores), dtype=bool)
        ranked = np.where(alive, scores, -np.inf)
        k = min(self.per_signal, int(alive.sum()))
        if k:
            top = np.argpartition(-ranked, k - 1)[:k]
            chosen[top[np.isfinite(ranked[top]) & (ranked[top] > -1.0)]] = True
        return chosen

    def _fuzzy(
        self, text: str, arts: np.ndarray, short: np.ndarray, dense: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best token-set ratio per candidate, and the unit that best matches it (the evidence)."""
        c = self.corpus
        units = [np.flatnonzero(short[c.starts[a] : c.starts[a + 1]]) + c.starts[a] for a in arts]
        flat = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
        query = normalise(text)
        ratios = (
            process.cdist([query], [c.unit_norm[u] for u in flat], scorer=fuzz.token_set_ratio)[0] / 100.0
            if len(flat)
            else np.zeros(0)
        )
        fuzzy = np.zeros(len(arts))
        evidence = np.zeros(len(arts), dtype=np.int64)
        pos = 0
        for i, group in enumerate(units):
            part = ratios[pos : pos + len(group)]
            fuzzy[i] = part.max()
            evidence[i] = group[int(np.argmax(dense[group] + part))]
            pos += len(group)
        return fuzzy, evidence
