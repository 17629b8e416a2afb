"""Nightly rebuild: quality gate, refusals and failures that keep the live index, hot reload."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_index
from bot.index.rebuild import rebuild, regressions
from bot.index.reload import IndexWatcher
from bot.index.versions import current_version, resolve
from bot.kb.articles import InvalidKnowledgeBase
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from tests.conftest import REPO, FakeEmbedder, write_article

SCRIPT = REPO / "scripts" / "nightly_rebuild.sh"
EVAL = [
    ("password persa cosa fare", "reset-password"),
    ("non riesco ad accedere al mio account", "reset-password"),
    ("quanto costa spedire un pacco", "shipping-costs"),
    ("spese spedizione gratuita", "shipping-costs"),
    ("restituire un prodotto", "returns-how"),
    ("voglio fare un reso di un articolo", "returns-how"),
    ("pacco arrivato danneggiato", "order-damaged"),
    ("che tempo fa a Roma domani", "none"),
]


@pytest.fixture
def kb(small_kb):
    (small_kb / "eval").mkdir()
    body = "".join(f'  - text: "{t}"\n    article: {a}\n' for t, a in EVAL)
    (small_kb / "eval" / "it.yaml").write_text(f"lang: it\nitems:\n{body}", encoding="utf-8")
    return small_kb


def test_gate_names_what_regressed():
    live = {"languages": {"it": {"top1": 0.90, "handoff_precision": 0.95}}}
    fine = {"languages": {"it": {"top1": 0.89, "handoff_precision": 0.94}}, "own_question_failures": []}
    worse = {"languages": {"it": {"top1": 0.80, "handoff_precision": 0.95}}, "own_question_failures": ["a"]}
    assert regressions(fine, live, 0.02) == []
    found = regressions(worse, live, 0.02)
    assert any("it top1 fell from 0.900 to 0.800" in r for r in found)
    assert any("'a' no longer answers its own first question" in r for r in found)


def test_one_question_handed_off_differently_does_not_refuse_a_publish():
    """With 37 hand-offs, one question more or less moves handoff_precision by 0.027: over the
    margin, but one question is noise, not a regression (seen on the sample KB adding one article)."""
    live = {
        "languages": {
            "en": {
                "top1": 0.9,
                "handoff_precision": 0.973,
                "handoff": 0.125,
                "n_queries": 296,
                "n_answerable": 250,
            }
        }
    }
    one = {
        "languages": {
            "en": {
                "top1": 0.9,
                "handoff_precision": 0.946,
                "handoff": 0.125,
                "n_queries": 296,
                "n_answerable": 250,
            }
        }
    }
    three = {
        "languages": {
            "en": {
                "top1": 0.9,
                "handoff_precision": 0.892,
                "handoff": 0.125,
                "n_queries": 296,
                "n_answerable": 250,
            }
        }
    }
    assert regressions(one, live, 0.02) == []
    assert regressions(three, live, 0.02) == [
        "en handoff_precision fell from 0.973 to 0.892 (more than the 0.020 margin)"
    ]


def test_first_rebuild_publishes_and_reports(kb, settings):
    report = rebuild(settings.build, settings.dialogue, FakeEmbedder())
    assert report.status == "published" and current_version(settings.index_path) == report.candidate
    saved = json.loads((settings.index_path / "reports" / "latest.json").read_text())
    assert saved["status"] == "published" and saved["metrics"]["languages"]["it"]["n_queries"] == len(EVAL)
    manifest = json.loads((resolve(settings.index_path) / "manifest.json").read_text())
    assert manifest["metrics"]["languages"]["it"]["top1"] == saved["metrics"]["languages"]["it"]["top1"]


def test_a_kb_that_loses_quality_is_refused_then_forced(kb, settings):
    live = rebuild(settings.build, settings.dialogue, FakeEmbedder()).candidate
    # staff rewrite the returns article into something unrelated: its eval questions stop finding it
    path = kb / "it" / "returns-how.md"
    text = path.read_text().replace(
        "come restituisco un prodotto, voglio fare un reso, restituzione articolo", "orari"
    )
    path.write_text(text.replace("Come fare un reso", "Informazioni varie"))
    report = rebuild(settings.build, settings.dialogue, FakeEmbedder())
    assert report.status == "refused" and current_version(settings.index_path) == live
    assert any("top1 fell" in r for r in report.regressions)
    forced = rebuild(settings.build, settings.dialogue, FakeEmbedder(), force=True)
    assert forced.status == "published" and forced.forced
    assert current_version(settings.index_path) == forced.candidate


def test_a_broken_article_fails_naming_the_file_and_keeps_serving(kb, settings):
    live = rebuild(settings.build, settings.dialogue, FakeEmbedder()).candidate
    write_article(kb, "it", "broken", "title: X\nquestions: [q]\nprice: 10")
    with pytest.raises(InvalidKnowledgeBase, match="broken.md: price"):
        rebuild(settings.build, settings.dialogue, FakeEmbedder())
    assert current_version(settings.index_path) == live
    saved = json.loads((settings.index_path / "reports" / "latest.json").read_text())
    assert saved["status"] == "failed" and "broken.md" in saved["error"]


def make_bot(settings: Settings, embedder: FakeEmbedder) -> Bot:
    retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
    return Bot(retriever, Thresholds())


def test_watcher_swaps_in_a_new_version(kb, settings):
    embedder = FakeEmbedder()
    first = build_index(settings.build, embedder).version
    bot = make_bot(settings, embedder)
    swaps = []
    watcher = IndexWatcher(bot, settings.index_path, on_swap=lambda old, new: swaps.append((old, new)))
    assert watcher.check() == first and swaps == []
    second = build_index(settings.build, embedder).version
    assert watcher.check() == second and bot.retriever.version == second
    assert swaps == [(first, second)]


def test_corrupted_version_is_rejected_on_reload(kb, settings):
    embedder = FakeEmbedder()
    first = build_index(settings.build, embedder).version
    bot = make_bot(settings, embedder)
    watcher = IndexWatcher(bot, settings.index_path)
    second = build_index(settings.build, embedder).version
    vectors = settings.index_path / second / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:-100])  # half-written
    assert watcher.check() == first and bot.retriever.version == first
    assert "checksum" in watcher.refused[second] or "vectors.faiss" in watcher.refused[second]
    reply, _ = bot.reply("Ho dimenticato la password")
    assert reply.article.article_id == "reset-password"


def run_script(env_home: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAQBOT_HOME": str(env_home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_two_runs_never_overlap(isolated_home):
    index = isolated_home / "index"
    index.mkdir()
    with open(index / ".rebuild.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run in progress
        second = run_script(isolated_home, timeout=30)
    assert second.returncode == 4 and "another rebuild holds" in second.stdout


def test_script_rejects_unknown_arguments(isolated_home):
    assert run_script(isolated_home, "--frobnicate", timeout=30).returncode == 2


def test_script_stops_at_validation_naming_the_file(small_kb, isolated_home):
    write_article(small_kb, "it", "bad", "title: X\nquestions: [q]\nmood: grumpy")
    result = run_script(isolated_home, timeout=120)
    assert result.returncode == 1
    assert "bad.md: mood: unknown field" in result.stdout + result.stderr
    assert "step validate failed" in result.stdout
    assert current_version(isolated_home / "index") is None
