"""Shared fixtures: isolated state per test, a deterministic fake embedder, a small two-language KB."""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from bot.config import Settings
from bot.text.normalise import normalise

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = [
    "tests.messenger_kit",  # Messenger fixtures: open_page, graph (a fake Graph API)
    "tests.outage_kit",  # PostgreSQL through a proxy a test can cut: pg_schema, db_proxy, proxied_url
]


class FakeEmbedder:
    """Hashes words and character trigrams into a normalised vector: similar texts, similar vectors.

    Deterministic and instant, so unit tests need no model; it counts what it encodes.
    """

    def __init__(self, dimension: int = 256, model_id: str = "fake-hashing") -> None:
        self._dimension = dimension
        self._model_id = model_id
        self.encoded: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = normalise(text).split()
            grams = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self._dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


def sample_kb_texts() -> list[str]:
    """Every customer-style text of the sample KB: its evaluation questions, and each article's
    title and alternate questions."""
    import frontmatter

    from bot.quality.evaluate import load_eval_set

    kb = REPO / "kb_articles"
    texts = [item.text for item in load_eval_set(kb / "eval")]
    for path in sorted(kb.glob("*/*.md")):
        article = frontmatter.load(path)
        texts += [article["title"], *article.get("questions", [])]
    return texts


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own FAQBOT_HOME, so nothing touches the repository's index or var."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FAQBOT_HOME", str(home))
    monkeypatch.setenv("FAQBOT_TUNE_EPOCHS", "0")  # builds use the model as is; test_tuning.py tunes
    for name in ("FAQBOT_KB_DIR", "FAQBOT_INDEX_DIR", "FAQBOT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def console_in_english(monkeypatch) -> None:
    """Tests read the staff console in its source language (English); the Italian default and the
    catalogs are tested in tests/web/admin/test_i18n.py, and the article workflow in a browser in
    Italian (tests/web/admin/test_articles_browser.py)."""
    monkeypatch.setenv("FAQBOT_CONSOLE_LANG", "en")


@pytest.fixture(autouse=True)
def real_model_needs_the_marker(request, monkeypatch) -> None:
    """Loading the real model in a test not marked `model` fails it, so `-m "not model"` really
    deselects every slow test (a test in a real server process is marked by its module)."""
    if request.node.get_closest_marker("model") is not None:
        return
    from bot.retrieval.embedder import SentenceTransformerEmbedder

    def refuse(self: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
        pytest.fail(f"{request.node.nodeid} loads the real model {self.model_name!r}: mark it `model`")

    monkeypatch.setattr(SentenceTransformerEmbedder, "warm_up", refuse)


@pytest.fixture
def fake_embedder(monkeypatch) -> FakeEmbedder:
    """A FakeEmbedder that `bot.retrieval.embedder.load_embedder` (and so the CLI) hands out."""
    embedder = FakeEmbedder()
    monkeypatch.setattr("bot.retrieval.embedder.load_embedder", lambda *args, **kwargs: embedder)
    monkeypatch.setattr("bot.compose.load_embedder", lambda *args, **kwargs: embedder)
    return embedder


def write_article(root: Path, lang: str, article_id: str, front: str, body: str = "") -> Path:
    """Write `<root>/<lang>/<id>.md` from a front-matter snippet (id and lang are added)."""
    path = root / lang / f"{article_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"id: {article_id}\nlang: {lang}\n" + textwrap.dedent(front).strip()
    path.write_text(f"---\n{header}\n---\n{body or 'An answer.'}\n", encoding="utf-8")
    return path


SMALL_KB = {
    ("it", "reset-password"): (
        """
        title: Come reimpostare la password
        questions: [Ho dimenticato la password, non riesco ad accedere, password persa cosa faccio]
        follow_ups: [shipping-costs]
        """,
        "Clicca su **Password dimenticata?** e segui il link che ti inviamo.\n\nIl link vale 60 minuti.",
    ),
    ("it", "shipping-costs"): (
        """
        title: Quanto costa la spedizione
        questions: [quanto costa spedire, spese di spedizione, spedizione gratuita sopra che cifra]
        """,
        "La spedizione standard costa 4,90 euro ed è gratuita sopra i 49 euro.",
    ),
    ("it", "returns-how"): (
        """
        title: Come fare un reso
        questions: [come restituisco un prodotto, voglio fare un reso, restituzione articolo]
        """,
        "Richiedi il reso dal tuo account entro 30 giorni dalla consegna.",
    ),
    ("it", "order-damaged"): (
        """
        title: Prodotto arrivato danneggiato
        questions: [il prodotto è arrivato rotto, pacco danneggiato, articolo rovinato alla consegna]
        handoff: true
        """,
        "Segnalaci il danno entro 7 giorni con delle foto.",
    ),
    ("en", "reset-password-en"): (
        """
        title: How to reset your password
        questions: [I forgot my password, cannot log in to my account, lost password what now]
        translation_of: reset-password
        """,
        "Click **Forgot password?** and follow the link we send you.",
    ),
    ("en", "shipping-costs-en"): (
        """
        title: How much does shipping cost
        questions: [how much is delivery, shipping costs, free shipping over what amount]
        translation_of: shipping-costs
        """,
        "Standard shipping costs 4.90 euros and is free over 49 euros.",
    ),
}


@pytest.fixture
def small_kb(isolated_home) -> Path:
    """A six-article KB (four Italian, two English) under FAQBOT_HOME/kb_articles."""
    root = isolated_home / "kb_articles"
    for (lang, article_id), (front, body) in SMALL_KB.items():
        write_article(root, lang, article_id, front, body)
    return root


@pytest.fixture
def settings(isolated_home) -> Settings:
    return Settings()


def database_urls() -> list[str]:
    """SQLite always; PostgreSQL too when FAQBOT_TEST_DATABASE_URL is set (CI sets it)."""
    import os

    urls = ["sqlite"]
    if os.environ.get("FAQBOT_TEST_DATABASE_URL"):
        urls.append("postgresql")
    return urls


@contextmanager
def scratch_database(kind: str, folder: Path, prefix: str = "t") -> Iterator[str]:
    """A fresh, empty database: a SQLite file in `folder`, or a throw-away PostgreSQL schema
    (named `prefix`_…, dropped afterwards) in the database FAQBOT_TEST_DATABASE_URL names."""
    import os
    import uuid

    if kind == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    from sqlalchemy import create_engine, text

    base = os.environ["FAQBOT_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=database_urls())
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL schema."""
    with scratch_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> Path:
    """A FAQBOT_HOME with the real sample KB indexed by the real bundled model (built once)."""
    from bot.index.build import build_index
    from bot.retrieval.embedder import load_embedder

    home = tmp_path_factory.mktemp("sample")
    settings = Settings(home=home, kb_dir=REPO / "kb_articles")
    build_index(settings.build, load_embedder(settings.model))
    return home


@pytest.fixture(scope="module")
def small_index_home(tmp_path_factory) -> Path:
    """A FAQBOT_HOME with the small KB built once per module by the fake embedder (read only)."""
    from bot.index.build import build_index

    home = tmp_path_factory.mktemp("small-index")
    for (lang, article_id), (front, body) in SMALL_KB.items():
        write_article(home / "kb_articles", lang, article_id, front, body)
    build_index(Settings(home=home).build, FakeEmbedder())
    return home


@pytest.fixture
def quick_service(small_index_home, tmp_path):
    """Chat services over the module's small index, each with a fresh SQLite store: a cheaper
    `service_factory` for tests that never change the index or the articles."""
    from bot.dialogue.bot import Bot
    from bot.dialogue.policy import Thresholds
    from bot.retrieval.language import LanguageDetector
    from bot.retrieval.search import Retriever
    from bot.service.chat import ChatService
    from bot.storage.store import Store

    stores = []

    def make() -> ChatService:
        index = small_index_home / "index"
        retriever = Retriever.from_root(index, FakeEmbedder(), LanguageDetector()).load()
        stores.append(Store(f"sqlite:///{tmp_path / f'quick-{len(stores)}.db'}").open())
        return ChatService(Bot(retriever, Thresholds()), stores[-1])

    yield make
    for store in stores:
        store.close()
