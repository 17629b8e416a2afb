"""`faqbot bench --protocol`: day-one (the KB alone) and curated (dev questions added as alternate
questions), on tiny hand-made FAQs whose entries have exactly one question, the title."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings
from bot.kb.articles import Article
from bot.quality.bench import run_bench
from bot.quality.evaluate import EvalItem
from bot.quality.protocols import curated
from tests.cli.test_main import invoke
from tests.conftest import FakeEmbedder

# An imported FAQ on day one: one question per entry, and it is the title; long answers.
FAQ = {
    "pay": ("How can I pay for my order?", "We accept credit cards, PayPal and bank transfers. " * 4),
    "ship": ("How long does shipping take?", "Parcels arrive in two to four working days. " * 4),
    "return": ("How do I return an item?", "Fill in the return form within thirty days. " * 4),
    "hours": ("When is customer service open?", "We answer from Monday to Friday, nine to six. " * 4),
    "account": ("How do I delete my account?", "Write to us and we erase your account and data. " * 4),
}
# dev: rephrasings staff would add; test: the same rephrasings (so curation must pay off) and
# questions the FAQ cannot answer.
DEV = [("which payment methods do you take", "pay"), ("my parcel is late, when does it come", "ship")]
TEST = [(text, gold) for text, gold in DEV] + [("do you sell gift cards", None), ("is it raining", None)]


def write_faq(folder: Path, dev: list = DEV, test: list = TEST) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "kb.jsonl").open("w", encoding="utf-8") as kb:
        for entry, (question, answer) in FAQ.items():
            row = {"id": entry, "lang": "en", "title": question, "questions": [question], "answer": answer}
            kb.write(json.dumps(row) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for split, rows in (("dev", dev), ("test", test)):
            for text, gold in rows:
                row = {"text": text, "lang": "en", "gold": [gold] if gold else [], "split": split}
                queries.write(json.dumps(row) + "\n")
    return folder


def _article(entry: str, question: str) -> Article:
    return Article(id=entry, lang="en", title=question, questions=(question,), body="", path=Path("kb.jsonl"))


def test_curated_adds_each_answerable_dev_question_to_its_first_gold_entry_once():
    articles = [_article("pay", "How can I pay?"), _article("ship", "Shipping time?")]
    dev = [
        EvalItem("which   payment methods", "en", ("pay", "ship")),  # spaces collapsed, as the console writes
        EvalItem("Which payment methods?", "en", ("ship",)),  # the same text once normalised: skipped
        EvalItem("how can i pay", "en", ("ship",)),  # already the KB's own question: skipped
        EvalItem("the weather", "en", ()),  # out of scope: nothing to add it to
    ]
    pay, ship = curated(articles, dev)
    assert pay.questions == ("How can I pay?", "which payment methods")
    assert ship.questions == ("Shipping time?",)
    assert articles[0].questions == ("How can I pay?",)  # the KB given is left as it was


def test_day_one_runs_on_the_kb_alone_and_reads_no_dev(tmp_path):
    folder = write_faq(tmp_path / "faq", dev=[])  # no dev split at all: day-one needs none
    settings = Settings()
    report = run_bench(folder, settings.build, settings.dialogue, FakeEmbedder(), protocol="day-one")
    assert report["protocol"] == "day-one" and report["n_dev"] == 0
    assert report["n_queries"] == len(TEST) and report["answer_threshold"] == settings.answer_threshold
    with pytest.raises(ValueError, match="needs dev and test"):
        run_bench(folder, settings.build, settings.dialogue, FakeEmbedder(), protocol="curated")


@pytest.mark.parametrize("protocol", ["day-one", "curated", "labelled"])
def test_a_blank_query_in_the_data_is_skipped_under_every_protocol(tmp_path, protocol):
    """banking77-oos holds six empty texts: no message a customer can send (the API refuses it)."""
    folder = write_faq(tmp_path / "faq", dev=[*DEV, ("", None)], test=[*TEST, ("  ", None)])
    settings = Settings()
    report = run_bench(folder, settings.build, settings.dialogue, FakeEmbedder(), protocol=protocol)
    assert report["n_queries"] == len(TEST) and report["n_blank_skipped"] == 2


def test_curation_answers_what_day_one_could_not(tmp_path):
    """The dev rephrasings, added as alternate questions, are matched as the KB's own questions."""
    folder = write_faq(tmp_path / "faq")
    settings = Settings()
    runs = {
        protocol: run_bench(folder, settings.build, settings.dialogue, FakeEmbedder(), protocol=protocol)
        for protocol in ("day-one", "curated")
    }
    answerable = sum(1 for _, gold in TEST if gold)
    assert runs["curated"]["n_dev"] == len(DEV)
    assert runs["curated"]["correct"] * len(TEST) == answerable  # both rephrasings answered right
    assert runs["day-one"]["correct"] < runs["curated"]["correct"]


def test_the_cli_names_the_protocol_and_refuses_an_unknown_one(tmp_path, fake_embedder):
    folder = write_faq(tmp_path / "faq")
    result = invoke("bench", str(folder), "--protocol", "day-one", "--tune-epochs", "0", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["protocol"] == "day-one"
    table = invoke("bench", str(folder), "--protocol", "curated", "--tune-epochs", "0")
    assert (
        table.exit_code == 0 and "faq (curated): 2 dev questions added as alternate questions" in table.output
    )
    wrong = invoke("bench", str(folder), "--protocol", "zero-shot")
    assert wrong.exit_code == 2 and "protocol must be one of labelled, curated, day-one" in wrong.output
