"""Reading a team's FAQ: spreadsheets, JSON, help-center exports and folders of pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.exchange.html import html_to_markdown
from bot.exchange.sources import read_source

DATA = Path(__file__).parent / "data"


def by_title(path: Path, fmt: str = "auto"):
    source, kind = read_source(path, fmt)
    first = {}
    for entry in source.entries:
        first.setdefault(entry.title, entry)
    return first, source, kind


def test_an_italian_excel_csv_in_windows_1252_with_semicolons_and_multi_line_answers():
    entries, source, kind = by_title(DATA / "faq_it_excel.csv")
    assert kind == "csv" and source.origin == "faq_it_excel"
    reso = entries["Come faccio un reso?"]
    assert reso.questions == (
        "Come faccio un reso?",
        "Voglio restituire un articolo",
        "Posso rendere un prodotto?",
    )
    assert reso.answer.splitlines()[0] == "Puoi fare il reso entro 30 giorni."
    assert "corriere passerà" in reso.answer and "\n\n" in reso.answer  # accents, paragraphs kept
    assert reso.tags == ("resi", "ordini") and reso.where == "faq_it_excel.csv:2"
    assert entries["Posso pagare con PayPal?"].questions[1:] == (
        "Accettate PayPal?",
        "Si può pagare con carta?",
    )
    assert "49 €" in entries["Quanto costa la spedizione?"].answer
    # the row without a question is reported by its row number, and the rest is read
    assert [str(f) for f in source.findings] == ["faq_it_excel.csv:5: no question: skipped"]
    assert entries["Dove si trova il negozio di Milano?"].answer == ""


def test_two_columns_and_no_header_are_question_and_answer():
    entries, source, _ = by_title(DATA / "two_columns.csv")
    assert list(entries) == ["How do I reset my password?", "Can I change my delivery address?"]
    assert entries["How do I reset my password?"].answer.startswith("Open Settings, then Password")
    assert not source.findings


def test_a_table_with_no_question_column_is_refused_with_what_it_found(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("sku;price;stock\nA1;10;3\n", encoding="utf-8")
    source, _ = read_source(path)
    assert not source.entries
    assert "no header naming a question and an answer column" in str(source.findings[0])
    assert "'sku'" in str(source.findings[0])


def test_an_xlsx_with_english_headers_and_numbered_question_columns(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Question", "Question2", "Question3", "Answer", "Tags", "Language"])
    sheet.append(
        [
            "How do I return an item?",
            "Can I send it back?",
            None,
            "Within 30 days, from My orders.",
            "returns",
            "en-GB",
        ]
    )
    sheet.append(
        [
            "Come traccio l'ordine?",
            None,
            None,
            "Da **I miei ordini**.\nIl codice arriva via e-mail.",
            "ordini",
            "it",
        ]
    )
    sheet.append([12, None, None, "A number is a question too", None, None])
    workbook.save(tmp_path / "faq.xlsx")
    entries, source, kind = by_title(tmp_path / "faq.xlsx")
    assert kind == "xlsx" and not source.findings
    ret = entries["How do I return an item?"]
    assert ret.questions == ("How do I return an item?", "Can I send it back?") and ret.lang == "en-GB"
    assert entries["Come traccio l'ordine?"].answer == "Da **I miei ordini**.\nIl codice arriva via e-mail."
    assert "12" in entries


def test_a_file_that_is_no_workbook_names_itself(tmp_path):
    path = tmp_path / "faq.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="faq.xlsx: not an XLSX workbook"):
        read_source(path)


def test_json_lists_jsonl_and_the_benchmark_kb_format(tmp_path):
    (tmp_path / "faq.json").write_text(
        json.dumps(
            {
                "faqs": [
                    {"domanda": "Orari?", "risposta": "9-18", "domande_alternative": ["A che ora aprite?"]}
                ]
            }
        ),
        encoding="utf-8",
    )
    entries, _, kind = by_title(tmp_path / "faq.json")
    assert kind == "json" and entries["Orari?"].questions == ("Orari?", "A che ora aprite?")
    rows = [
        {
            "id": "shop-01",
            "lang": "it",
            "title": "Come pago?",
            "questions": ["Come pago?"],
            "answer": "Con carta.",
        },
        {
            "id": "shop-02",
            "lang": "it",
            "title": "Spedite all'estero?",
            "questions": ["Spedite all'estero?"],
            "answer": "Sì.",
        },
    ]
    (tmp_path / "kb.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    entries, _, _ = by_title(tmp_path / "kb.jsonl")
    assert entries["Come pago?"].key == "shop-01" and entries["Come pago?"].questions == ("Come pago?",)
    (tmp_path / "bad.jsonl").write_text('{"title": "x"}\n{broken\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not JSON"):
        read_source(tmp_path / "bad.jsonl")


def test_a_zendesk_guide_export_becomes_clean_markdown_with_labels_and_drafts():
    entries, source, kind = by_title(DATA / "zendesk_articles.json")
    assert kind == "zendesk" and source.origin == "zendesk"
    track = entries["Come traccio il mio ordine?"]
    assert track.key == "360001234567" and track.lang == "it" and track.status == "published"
    assert track.tags == ("ordini", "spedizioni")
    assert (
        "[Traccia](https://lumocasa.example/ordini)" in track.answer and "**I miei ordini**" in track.answer
    )
    assert "alert" not in track.answer and "onclick" not in track.answer and "script" not in track.answer
    assert "- Il codice arriva via e-mail." in track.answer
    gift = entries["How do I use a gift card?"]
    assert gift.status == "draft" and gift.lang == "en-us"
    assert gift.answer.startswith("## At checkout") and "& press Apply" in gift.answer
    assert "onerror" not in gift.answer and "img" not in gift.answer


def test_freshdesk_solution_articles_status_one_is_a_draft():
    entries, _, kind = by_title(DATA / "freshdesk_articles.json")
    assert kind == "freshdesk"
    invoice = entries["Posso avere la fattura elettronica?"]
    assert invoice.status == "published" and invoice.tags == ("pagamenti", "fattura")
    assert invoice.answer == (
        "Sì. Inserisci la **partita IVA** e il codice destinatario al momento dell'ordine.\n\n"
        "La fattura arriva al Sistema di Interscambio entro 24 ore."
    )
    assert entries["Pagamento in tre rate senza interessi"].status == "draft"


def test_intercom_articles_give_one_entry_per_language_sharing_the_article_id():
    entries, _, kind = by_title(DATA / "intercom_articles.json")
    assert kind == "intercom"
    english, italian = entries["How long does delivery take?"], entries["Quanto tempo impiega la consegna?"]
    assert (english.lang, italian.lang) == ("en", "it") and english.key == italian.key == "6871119"
    assert (
        italian.answer
        == "Gli ordini arrivano in **2-4 giorni lavorativi** in Italia e in 5-8 nel resto dell'UE."
    )
    assert len(entries) == 2  # "fr": null and the repeated default locale add nothing


def test_a_declared_help_center_format_that_does_not_match_is_refused():
    with pytest.raises(ValueError, match="does not look like a zendesk export"):
        read_source(DATA / "freshdesk_articles.json", "zendesk")


def test_a_folder_of_pages_takes_titles_from_headings_html_and_file_names():
    entries, source, kind = by_title(DATA / "pages")
    assert kind == "folder" and source.origin == "pages"
    hours = entries["Quali sono gli orari dei negozi?"]
    assert hours.answer.startswith("I negozi sono aperti") and hours.key == "orari-negozi"
    free = entries["Il reso è gratuito?"]
    assert (
        free.answer == "Sì, il **primo reso** di ogni ordine è gratuito." and free.key == "resi/reso-gratuito"
    )
    assert entries["Montaggio a domicilio"].answer.startswith("Il montaggio a domicilio costa 39 euro")


def test_html_keeps_structure_and_links_and_drops_what_could_run():
    markdown = html_to_markdown(
        '<h3>Titolo</h3><p onclick="x()">Testo <a href="javascript:alert(1)">link</a> '
        '<a href="https://ok.example">ok</a></p><iframe src="https://evil.example"></iframe><style>p{}</style>'
    )
    assert markdown == "### Titolo\n\nTesto link [ok](https://ok.example)"


def test_unknown_formats_and_missing_sources_are_refused(tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        read_source(DATA / "two_columns.csv", "docx")
    with pytest.raises(ValueError, match="no such file"):
        read_source(tmp_path / "missing.csv")
