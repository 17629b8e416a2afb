"""`import_faq`: entries become articles that validate and answer; a re-import updates them in
place and keeps what staff curated; nothing is lost or deleted silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.exchange.apply import import_faq
from bot.exchange.plan import Options
from bot.index.build import build_index
from bot.kb.articles import load_kb
from bot.kb.writer import add_question
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from tests.conftest import FakeEmbedder, write_article

DATA = Path(__file__).parent / "data"


@pytest.fixture
def kb(isolated_home) -> Path:
    return isolated_home / "kb_articles"


def articles(kb: Path) -> dict:
    return {a.id: a for a in load_kb(kb).articles}


def test_an_excel_csv_becomes_articles_that_validate_build_and_answer(kb):
    report = import_faq(DATA / "faq_it_excel.csv", kb)
    assert report.format == "csv" and report.skipped == 1  # the row with no question
    assert sorted(report.created) == [
        "come-faccio-un-reso", "come-faccio-un-reso-it", "dove-si-trova-il-negozio-di-milano",
        "posso-pagare-con-paypal", "quanto-costa-la-spedizione",
    ]  # fmt: skip
    notes = {str(f) for f in report.findings}
    assert "faq_it_excel.csv:6: empty answer: imported as a draft" in notes
    assert any(n.startswith("faq_it_excel.csv:7: its question is also another article's") for n in notes)
    loaded = load_kb(kb)
    assert not loaded.errors
    got = articles(kb)
    reso = got["come-faccio-un-reso"]
    assert reso.lang == "it" and reso.path == kb / "it" / "come-faccio-un-reso.md"  # detected language
    assert reso.questions == (
        "Come faccio un reso?",
        "Voglio restituire un articolo",
        "Posso rendere un prodotto?",
    )
    assert (
        reso.tags == ("resi", "ordini")
        and reso.published
        and reso.source == "faq_it_excel:come-faccio-un-reso"
    )
    assert got["dove-si-trova-il-negozio-di-milano"].status == "draft"
    assert got["come-faccio-un-reso-it"].status == "draft"  # same question, another answer: staff decide

    build_index(Settings().build, FakeEmbedder())
    bot = Bot(
        Retriever.from_root(Settings().index_path, FakeEmbedder(), LanguageDetector()).load(), Thresholds()
    )
    for article in (a for a in got.values() if a.published):
        reply, _ = bot.reply(article.questions[-1])
        assert reply.article is not None and reply.article.article_id == article.id


def test_a_re_import_updates_in_place_and_keeps_the_questions_staff_added(kb, tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text(
        "domanda;risposta\nCome faccio un reso?;Entro 30 giorni.\nSpedite all'estero?;Sì, in UE.\n",
        encoding="utf-8",
    )
    first = import_faq(source, kb, options=Options(lang="it"))
    assert len(first.created) == 2
    add_question(kb, "come-faccio-un-reso", "posso rimandare indietro un pacco?")  # curated in the console
    source.write_text(
        "domanda;risposta\nCome faccio un reso?;Entro 60 giorni, gratis.\nSpedite all'estero?;Sì, in UE.\n",
        encoding="utf-8",
    )
    second = import_faq(source, kb, options=Options(lang="it"))
    assert second.updated == ["come-faccio-un-reso"] and second.unchanged == 1 and not second.created
    reso = articles(kb)["come-faccio-un-reso"]
    assert reso.body == "Entro 60 giorni, gratis."
    assert reso.questions == ("Come faccio un reso?", "posso rimandare indietro un pacco?")
    third = import_faq(source, kb, options=Options(lang="it"))
    assert third.unchanged == 2 and not third.updated and not third.created


def test_an_entry_gone_from_the_source_is_reported_and_archived_only_with_prune(kb, tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text(
        "question,answer\nWhere is my order?,In My orders.\nDo you ship abroad?,Yes.\n", encoding="utf-8"
    )
    import_faq(source, kb, options=Options(lang="en"))
    source.write_text("question,answer\nWhere is my order?,In My orders.\n", encoding="utf-8")
    kept = import_faq(source, kb, options=Options(lang="en"))
    assert kept.gone == ["do-you-ship-abroad"] and articles(kb)["do-you-ship-abroad"].published
    pruned = import_faq(source, kb, options=Options(lang="en", prune=True))
    assert pruned.archived == ["do-you-ship-abroad"]
    assert articles(kb)["do-you-ship-abroad"].status == "draft"  # archived, not deleted


def test_a_dry_run_reports_the_same_and_writes_nothing(kb):
    dry = import_faq(DATA / "faq_it_excel.csv", kb, dry_run=True)
    assert not kb.exists() and dry.dry_run
    real = import_faq(DATA / "faq_it_excel.csv", kb)
    assert (dry.created, dry.skipped, [str(f) for f in dry.findings]) == (
        real.created,
        real.skipped,
        [str(f) for f in real.findings],
    )


def test_a_hand_written_article_is_never_overwritten_by_an_entry_of_the_same_title(kb, tmp_path):
    path = write_article(kb, "it", "orari", 'title: "Orari"\nquestions: ["a che ora aprite"]', "Dalle 9.")
    before = path.read_text(encoding="utf-8")
    source = tmp_path / "faq.csv"
    source.write_text(
        "domanda;risposta\nOrari;Dalle 10 alle 20.\nA che ora aprite;Alle 10.\n", encoding="utf-8"
    )
    report = import_faq(source, kb, options=Options(lang="it"))
    assert report.created == ["orari-it", "a-che-ora-aprite"] and path.read_text(encoding="utf-8") == before
    # its question stays the hand-written article's: the entry asking it waits as a draft
    assert articles(kb)["a-che-ora-aprite"].status == "draft"
    assert not load_kb(kb).errors


def test_an_over_long_question_is_shortened_to_a_title_and_kept_whole_as_a_question(kb, tmp_path):
    question = "Vorrei sapere " + "se e come posso cambiare il mio ordine dopo averlo pagato " * 4 + "?"
    source = tmp_path / "faq.csv"
    source.write_text(f"domanda;risposta\n{question};Scrivici entro un'ora.\n", encoding="utf-8")
    report = import_faq(source, kb, options=Options(lang="it"))
    article = articles(kb)[report.created[0]]
    assert len(article.title) <= 151 and article.title.endswith("…")
    assert article.questions == (" ".join(question.split()),)
    assert "title shortened" in str(report.findings[0])


def test_a_bad_row_is_reported_and_the_rest_imported(kb, tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text(
        "question;answer;follow_ups\nFirst?;One.;no-such-article\nSecond?;Two.;\n", encoding="utf-8"
    )
    report = import_faq(source, kb, options=Options(lang="en"))
    assert report.created == ["second"] and report.skipped == 1
    assert "faq.csv:2: not imported: follow_ups[0]: unknown article 'no-such-article'" in {
        str(f) for f in report.findings
    }
    assert set(articles(kb)) == {"second"} and not load_kb(kb).errors


def test_a_help_center_re_import_follows_its_article_ids_through_a_new_title(kb, tmp_path):
    report = import_faq(DATA / "zendesk_articles.json", kb)
    assert report.created == ["come-traccio-il-mio-ordine", "how-do-i-use-a-gift-card"]
    got = articles(kb)
    assert got["come-traccio-il-mio-ordine"].source == "zendesk:360001234567"
    assert got["how-do-i-use-a-gift-card"].lang == "en" and got["how-do-i-use-a-gift-card"].status == "draft"
    export = json.loads((DATA / "zendesk_articles.json").read_text(encoding="utf-8"))
    export["articles"][0]["title"] = "Dove vedo il mio ordine?"
    changed = tmp_path / "articles.json"
    changed.write_text(json.dumps(export), encoding="utf-8")
    again = import_faq(changed, kb)
    assert again.updated == ["come-traccio-il-mio-ordine"] and not again.created and not again.gone
    track = articles(kb)["come-traccio-il-mio-ordine"]
    assert track.title == "Dove vedo il mio ordine?"
    assert track.questions == (
        "Come traccio il mio ordine?",
        "Dove vedo il mio ordine?",
    )  # the old one still asks


def test_intercom_translations_are_linked(kb):
    report = import_faq(DATA / "intercom_articles.json", kb)
    got = articles(kb)
    assert sorted(report.created) == ["how-long-does-delivery-take", "quanto-tempo-impiega-la-consegna"]
    assert got["quanto-tempo-impiega-la-consegna"].translation_of == "how-long-does-delivery-take"
    assert not load_kb(kb).errors


def test_a_folder_of_pages(kb):
    report = import_faq(DATA / "pages", kb, options=Options(lang="it"))
    assert len(report.created) == 3 and not load_kb(kb).errors
    again = import_faq(DATA / "pages", kb, options=Options(lang="it"))
    assert again.unchanged == 3


def test_a_language_faqbot_does_not_serve_is_skipped_with_a_reason(kb, tmp_path):
    source = tmp_path / "faq.csv"
    source.write_text(
        "question;answer;lang\nWo ist meine Bestellung?;Unter Bestellungen.;de\n", encoding="utf-8"
    )
    report = import_faq(source, kb)
    assert report.skipped == 1 and "language 'de' is not served" in str(report.findings[0])


def test_the_shared_benchmark_format_imports_into_a_valid_kb(kb, tmp_path):
    rows = [
        {
            "id": "shop_01",
            "lang": "it",
            "title": "Come pago?",
            "questions": ["Come pago?"],
            "answer": "Con carta.",
        },
        {
            "id": "shop_02",
            "lang": "it",
            "title": "Come pago?",
            "questions": ["Come pago?"],
            "answer": "In contanti.",
        },
        {
            "id": "shop_03",
            "lang": "it",
            "title": "Come pago?",
            "questions": ["Come pago?"],
            "answer": "Con carta.",
        },
    ]
    (tmp_path / "kb.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    report = import_faq(tmp_path / "kb.jsonl", kb)
    assert report.created == ["shop-01", "shop-02"] and report.skipped == 1  # the third merged into the first
    assert not load_kb(kb).errors and articles(kb)["shop-02"].status == "draft"
