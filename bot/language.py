"""Which language a customer writes in (Italian or English), tuned for short texts (lingua)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from lingua import Language, LanguageDetectorBuilder

_LINGUA = {"it": Language.ITALIAN, "en": Language.ENGLISH}


class LanguageDetector:
    """Probabilities over the configured languages; falls back to a default for empty text."""

    def __init__(self, languages: Sequence[str] = ("it", "en"), default: str = "it") -> None:
        unknown = [lang for lang in languages if lang not in _LINGUA]
        if unknown:
            raise ValueError(f"unsupported languages {unknown}; supported: {sorted(_LINGUA)}")
        if default not in languages:
            raise ValueError(f"default language {default!r} is not among {list(languages)}")
        self.languages = tuple(languages)
        self.default = default
        self._detector = None

    def warm_up(self) -> LanguageDetector:
        if self._detector is None and len(self.languages) > 1:
            self._detector = _build(self.languages)
        return self

    def probabilities(self, text: str) -> dict[str, float]:
        """P(language | text) for each configured language."""
        if len(self.languages) == 1:
            return {self.languages[0]: 1.0}
        values = self.warm_up()._detector.compute_language_confidence_values(text)
        by_code = {code: 0.0 for code in self.languages}
        for value in values:
            for code, lang in _LINGUA.items():
                if value.language == lang and code in by_code:
                    by_code[code] = float(value.value)
        if sum(by_code.values()) == 0.0:
            by_code[self.default] = 1.0
        return by_code

    def detect(self, text: str) -> str:
        probs = self.probabilities(text)
        return max(self.languages, key=lambda code: probs[code])


@lru_cache(maxsize=4)
def _build(languages: tuple[str, ...]):
    langs = [_LINGUA[code] for code in languages]
    return LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()
