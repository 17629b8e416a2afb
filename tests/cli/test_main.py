"""The faqbot command line, driven through typer's runner."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli.main import app
from tests.conftest import write_article

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_validate_reports_ok_kb(small_kb):
    result = invoke("validate")
    assert result.exit_code == 0, result.output
    assert "6 articles checked" in result.output and "0 errors" in result.output


def test_validate_names_file_and_field_and_fails(small_kb):
    write_article(small_kb, "it", "bad", "title: X\nquestions: [q]\ncolour: red")
    result = invoke("validate", "--kb", str(small_kb))
    assert result.exit_code == 1
    assert "bad.md: colour: unknown field" in result.output


def test_build_then_ask_json(small_kb, fake_embedder):
    built = invoke("build")
    assert built.exit_code == 0, built.output
    assert "6 articles" in built.output
    result = invoke("ask", "Ho dimenticato la password", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["decision"] == "answer" and data["article_id"] == "reset-password"
    assert data["lang"] == "it" and 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["suggestions"], list)
    assert data["index_version"].startswith("v-")


def test_ask_json_for_unrelated_question_is_a_handoff_without_article(small_kb, fake_embedder):
    invoke("build")
    data = json.loads(invoke("ask", "qual è la distanza tra la Terra e Giove?", "--json").output)
    assert data["decision"] == "handoff" and data["article_id"] is None


def test_ask_answers_small_talk_in_kind(small_kb, fake_embedder):
    invoke("build")
    result = invoke("ask", "grazie mille!")
    assert result.exit_code == 0 and result.output.startswith("[smalltalk: thanks]\nPrego!")


def test_ask_json_clarification_lists_suggestions(small_kb, fake_embedder, monkeypatch):
    invoke("build")
    monkeypatch.setenv("FAQBOT_ANSWER_THRESHOLD", "1.0")
    monkeypatch.setenv("FAQBOT_CLARIFY_THRESHOLD", "0.0")
    data = json.loads(invoke("ask", "spedizione", "--lang", "it", "--json").output)
    assert data["decision"] == "clarify" and data["article_id"] is None
    assert data["suggestions"][0]["article_id"] == "shipping-costs"
    assert set(data["suggestions"][0]) == {"article_id", "title", "score"}


def test_ask_without_index_explains_how_to_build(small_kb, fake_embedder):
    result = invoke("ask", "ciao")
    assert result.exit_code == 2 and "faqbot build" in result.output


@pytest.mark.parametrize("args", [["ask", "ciao", "--lang", "fr"], ["ask", "   "]])
def test_ask_rejects_bad_input(small_kb, fake_embedder, args):
    invoke("build")
    assert invoke(*args).exit_code == 2


def test_build_with_broken_kb_fails_naming_the_file(small_kb, fake_embedder):
    (small_kb / "it" / "returns-how.md").write_text("---\nid: [oops\n---\nbody\n")
    result = invoke("build")
    assert result.exit_code == 1 and "returns-how.md" in result.output


def test_chat_session_clarifies_then_answers_the_pick(small_kb, fake_embedder, monkeypatch):
    invoke("build")
    monkeypatch.setenv("FAQBOT_ANSWER_THRESHOLD", "0.999")
    result = invoke("chat", "--lang", "it", input="spedizione costi\n1\n\n")
    assert result.exit_code == 0, result.output
    assert "[clarify" in result.output and "[answer: shipping-costs" in result.output


def test_eval_reports_metrics_per_language(small_kb, fake_embedder):
    (small_kb / "eval").mkdir()
    (small_kb / "eval" / "it.yaml").write_text(
        'lang: it\nitems:\n  - text: "password persa"\n    article: reset-password\n'
        '  - text: "che tempo fa a Roma"\n    article: none\n',
        encoding="utf-8",
    )
    invoke("build")
    result = invoke("eval", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["languages"]
    assert report["it"]["n_queries"] == 2 and report["it"]["n_answerable"] == 1
    assert report["it"]["top1"] == 1.0
    assert report["it"]["self_served"] == report["it"]["correct"] * 2 + report["it"]["clarify_right"] * 2
    table = invoke("eval")
    assert "top1" in table.output and "handoff_precision" in table.output and "self_served" in table.output


def test_calibrate_writes_thresholds_and_plot(small_kb, fake_embedder, isolated_home):
    (small_kb / "eval").mkdir()
    items = [("password persa", "reset-password"), ("spese di spedizione?", "shipping-costs")]
    items += [("come faccio un reso", "returns-how"), ("che tempo fa a Roma", "none")]
    body = "".join(f'  - text: "{t}"\n    article: {a}\n' for t, a in items)
    (small_kb / "eval" / "it.yaml").write_text(f"lang: it\nitems:\n{body}", encoding="utf-8")
    invoke("build")
    result = invoke("calibrate", "--target-wrong", "0.0")
    assert result.exit_code == 0, result.output
    assert "answer_threshold=" in result.output
    config = (isolated_home / "faqbot.yaml").read_text(encoding="utf-8")
    assert "answer_threshold" in config and "clarify_threshold" in config
    assert (isolated_home / "var" / "calibration.png").is_file()


def test_calibrate_gives_each_language_its_own_thresholds(
    small_kb, fake_embedder, isolated_home, monkeypatch
):
    import bot.quality.calibrate

    monkeypatch.setattr(bot.quality.calibrate, "MIN_LANGUAGE_QUESTIONS", 3)
    (small_kb / "eval").mkdir()
    italian = [("password persa", "reset-password"), ("spese di spedizione?", "shipping-costs")]
    italian += [("come faccio un reso", "returns-how"), ("che tempo fa a Roma", "none")]
    english = [("lost my password", "reset-password-en"), ("weather in rome", "none")]
    for lang, items in (("it", italian), ("en", english)):
        body = "".join(f'  - text: "{t}"\n    article: {a}\n' for t, a in items)
        (small_kb / "eval" / f"{lang}.yaml").write_text(f"lang: {lang}\nitems:\n{body}", encoding="utf-8")
    invoke("build")
    result = invoke("calibrate")
    assert result.exit_code == 0, result.output
    assert "  it: answer_threshold=" in result.output and "  en:" not in result.output  # 2 < 3
    config = yaml.safe_load((isolated_home / "faqbot.yaml").read_text(encoding="utf-8"))
    assert set(config["language_thresholds"]) == {"it"}
    assert set(config["language_thresholds"]["it"]) == {"answer", "clarify"}
    assert invoke("eval").exit_code == 0  # the written file loads


def test_eval_and_calibrate_refuse_a_malformed_eval_file(small_kb, fake_embedder):
    (small_kb / "eval").mkdir(exist_ok=True)
    (small_kb / "eval" / "it.yaml").write_text("lang: it\nitems:\n  - text: [\n", encoding="utf-8")
    invoke("build")
    for command in ("eval", "calibrate"):
        result = invoke(command)
        assert result.exit_code == 2, result.output
        assert "bad evaluation set" in result.output and "it.yaml: not valid YAML" in result.output


def test_calibrate_rejects_a_bad_target(small_kb, fake_embedder):
    assert invoke("calibrate", "--target-wrong", "1.5").exit_code == 2


def write_benchmark(folder, n_entries=8, per=6, langs=("en",), out_of_scope=4):
    """A tiny data set in the shared benchmark format; entry i (and its queries) in langs[i % len]."""
    import random

    folder.mkdir()
    topics = ["password", "shipping", "refund", "invoice", "store", "gift", "warranty", "account"]
    rng = random.Random(0)
    with (folder / "kb.jsonl").open("w") as kb:
        for n, t in enumerate(topics[:n_entries]):
            questions = [f"{t} question number {i} about {t}" for i in range(per)]
            lang = langs[n % len(langs)]
            kb.write(
                json.dumps(
                    {"id": t, "lang": lang, "title": t, "questions": questions, "answer": f"About {t}"}
                )
                + "\n"
            )
    with (folder / "queries.jsonl").open("w") as qs:
        for split in ("dev", "test"):
            for n, t in enumerate(topics[:n_entries]):
                lang = langs[n % len(langs)]
                for k in range(3):
                    text = f"help with my {t} {rng.choice(['now', 'please', 'today'])} {k} {split}"
                    qs.write(json.dumps({"text": text, "lang": lang, "gold": [t], "split": split}) + "\n")
            for k in range(out_of_scope):
                qs.write(
                    json.dumps(
                        {"text": f"weather on mars {k} {split}", "lang": langs[0], "gold": [], "split": split}
                    )
                    + "\n"
                )


def test_bench_reports_test_metrics_in_json(tmp_path, fake_embedder):
    write_benchmark(tmp_path / "tiny")
    result = invoke("bench", str(tmp_path / "tiny"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for key in ("top1", "top3", "mrr10", "auroc", "correct", "wrong", "coverage", "p50_ms", "n_queries"):
        assert key in report
    assert 0 <= report["clarify_right"] <= report["clarify"] and report["self_served"] > 0.9
    assert report["n_queries"] == 8 * 3 + 4 and report["n_dev"] == 8 * 3 + 4
    assert report["top1"] > 0.9
    assert 0 < report["p50_ms"] <= report["p95_ms"]  # both timed (p95 was once left at 0)
    assert report["out_of_scope_class"]  # dev's out-of-scope questions train a class of the head


@pytest.mark.parametrize(
    ("out_of_scope", "flag"), [(0, "--head-on-dev"), (4, "--no-head-on-dev"), (1, "--head-on-dev")]
)
def test_bench_head_has_no_out_of_scope_class_without_such_dev_questions(
    tmp_path, fake_embedder, out_of_scope, flag
):
    """Nor with one (a half of dev would score its questions without the class)."""
    write_benchmark(tmp_path / "tiny", out_of_scope=out_of_scope)
    result = invoke("bench", str(tmp_path / "tiny"), "--json", flag)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert not report["out_of_scope_class"] and report["top1"] > 0.9


@pytest.mark.parametrize("langs", [("de",), ("xx",), ("de", "fr"), ("it", "xx")])
def test_bench_runs_a_data_set_in_any_language(tmp_path, fake_embedder, langs):
    """Not only Italian and English: a language lingua knows, one it does not, and mixes (each
    language of a mix reported on its own too)."""
    write_benchmark(tmp_path / "tiny", langs=langs)
    result = invoke("bench", str(tmp_path / "tiny"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n_queries"] == 8 * 3 + 4 and report["top1"] > 0.9
    per_language = report.get("by_language", {})
    assert sorted(per_language) == (sorted(langs) if len(langs) > 1 else [])
    assert sum(m["n_queries"] for m in per_language.values()) in (0, report["n_queries"])


def test_bench_table_has_a_row_per_language_of_a_mix(tmp_path, fake_embedder):
    write_benchmark(tmp_path / "tiny", langs=("it", "en"))
    result = invoke("bench", str(tmp_path / "tiny"))
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")[1:3]] for line in result.output.splitlines()]
    assert [r for r in rows if r and r[0].startswith("test")] == [
        ["test", "28"],
        ["test en", "12"],
        ["test it", "16"],  # the out-of-scope questions are Italian
    ]


def test_bench_reads_locale_tags_as_languages(tmp_path, fake_embedder):
    """ "it-IT" and "en-US" get Italian and English processing; with 12 questions an entry, each
    language has enough of its own to fit its ranker, while every dev question reads as English
    (the texts are), so the Italian confidence has to fall back to the pooled one."""
    from bot.quality.bench import load_dataset

    write_benchmark(tmp_path / "tiny", per=12, langs=("it-IT", "en-US"))
    articles, queries = load_dataset(tmp_path / "tiny")
    assert {a.lang for a in articles} == {q.lang for q in queries} == {"it", "en"}
    result = invoke("bench", str(tmp_path / "tiny"), "--json", "--tune-epochs", "0")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n_queries"] == 8 * 3 + 4 and report["top1"] > 0.9


def test_an_id_in_two_languages_names_one_entrys_translations(tmp_path):
    from bot.quality.bench import load_dataset

    write_benchmark(tmp_path / "tiny", n_entries=2)
    with (tmp_path / "tiny" / "kb.jsonl").open("a") as kb:
        kb.write(json.dumps({"id": "password", "lang": "it", "questions": ["ho perso la password"]}) + "\n")
    with (tmp_path / "tiny" / "queries.jsonl").open("a") as qs:
        qs.write(
            json.dumps({"text": "password persa", "lang": "it", "gold": ["password"], "split": "dev"}) + "\n"
        )
    articles, queries = load_dataset(tmp_path / "tiny")
    italian = articles[-1]
    assert (italian.id, italian.lang, italian.translation_of) == ("password@it", "it", "password")
    assert queries[-1].gold == ("password@it", "password")  # its own language's version first
    assert queries[0].gold == ("password", "password@it")


def test_bench_runs_a_bilingual_data_set_whose_entries_share_ids(tmp_path, fake_embedder):
    write_benchmark(tmp_path / "tiny")
    kb = tmp_path / "tiny" / "kb.jsonl"
    entries = [json.loads(line) for line in kb.read_text().splitlines()]
    italian = [dict(e, lang="it", questions=[f"domanda {q}" for q in e["questions"]]) for e in entries]
    kb.write_text("".join(json.dumps(e) + "\n" for e in entries + italian))
    result = invoke("bench", str(tmp_path / "tiny"), "--json", "--tune-epochs", "0")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n_queries"] == 8 * 3 + 4 and report["top1"] > 0.9


def test_bench_json_is_strict_when_a_metric_is_undefined(tmp_path, fake_embedder):
    """No out-of-scope query: AUROC is undefined, printed as null (NaN is not JSON) and as – in the table."""
    write_benchmark(tmp_path / "tiny", out_of_scope=0)
    result = invoke("bench", str(tmp_path / "tiny"), "--json")
    assert result.exit_code == 0, result.output

    def reject(constant):
        raise ValueError(f"not JSON: {constant}")

    report = json.loads(result.output, parse_constant=reject)
    assert report["auroc"] is None and report["top1"] > 0.9
    table = invoke("bench", str(tmp_path / "tiny"))
    assert table.exit_code == 0 and "–" in table.output and "nan" not in table.output


def test_bench_names_the_broken_line(tmp_path, fake_embedder):
    write_benchmark(tmp_path / "tiny")
    with (tmp_path / "tiny" / "queries.jsonl").open("a") as qs:
        qs.write("{not json\n")
    result = invoke("bench", str(tmp_path / "tiny"))
    assert result.exit_code == 2 and "queries.jsonl:" in result.output


@pytest.mark.parametrize(
    ("file", "line", "error"),
    [
        (
            "kb.jsonl",
            {"id": "password", "lang": "en", "questions": []},
            "kb.jsonl:9: id 'password' is already used in 'en'",
        ),
        (
            "kb.jsonl",
            {"id": "x", "lang": "en", "questions": "one question"},
            "kb.jsonl:9: questions must be a list",
        ),
        (
            "kb.jsonl",
            {"id": "x", "lang": "en", "questions": [["nested"]]},
            "questions must be a list of strings",
        ),
        ("kb.jsonl", ["not", "an", "object"], "kb.jsonl:9: expected a JSON object"),
        (
            "queries.jsonl",
            {"text": "hi", "lang": "en", "gold": "password", "split": "dev"},
            "gold must be a list",
        ),
        ("queries.jsonl", {"text": 3, "lang": "en", "gold": [], "split": "dev"}, "text must be a string"),
        ("queries.jsonl", {"text": "hi", "lang": "en", "gold": []}, "missing split"),
        (
            "queries.jsonl",
            {"text": "hi", "lang": "en", "gold": ["nowhere"], "split": "dev"},
            "queries.jsonl:57: gold ids not in kb.jsonl: ['nowhere']",
        ),
        (
            "queries.jsonl",
            {"text": "hi", "lang": "", "gold": [], "split": "dev"},
            "lang must be a language code",
        ),
    ],
)
def test_bench_data_errors_name_the_line_and_field(tmp_path, file, line, error):
    from bot.quality.bench import load_dataset

    write_benchmark(tmp_path / "tiny")
    with (tmp_path / "tiny" / file).open("a") as out:
        out.write(json.dumps(line) + "\n")
    with pytest.raises(ValueError, match=error.replace("[", r"\[")):
        load_dataset(tmp_path / "tiny")


def test_bench_data_may_start_with_a_byte_order_mark(tmp_path):
    from bot.quality.bench import load_dataset

    write_benchmark(tmp_path / "tiny")
    kb = tmp_path / "tiny" / "kb.jsonl"
    kb.write_bytes(b"\xef\xbb\xbf" + kb.read_bytes())
    articles, queries = load_dataset(tmp_path / "tiny")
    assert articles[0].id == "password" and len(articles) == 8 and len(queries) == 2 * (8 * 3 + 4)


def test_purge_reports_what_it_deleted(isolated_home):
    result = invoke("purge", "--days", "30")
    assert result.exit_code == 0, result.output
    assert "purged data older than 30 days" in result.output and "0 missed_queries" in result.output
    assert (isolated_home / "var" / "faqbot.db").is_file()
    assert invoke("purge", "--days", "0").exit_code == 2


def test_missed_and_stats_commands(small_kb, fake_embedder):
    invoke("build")
    from bot.compose import load_bot
    from bot.config import Settings
    from bot.service.chat import ChatService
    from bot.storage.store import Store

    settings = Settings()
    store = Store.for_settings(None, settings.var_path).open()
    service = ChatService(load_bot(settings), store)
    service.handle("qual è la distanza da Giove? mario@rossi.it", None, None, "web")
    service.handle("quanto dista Giove dalla Terra?", None, None, "web")
    store.close()
    listed = invoke("missed")
    assert listed.exit_code == 0, listed.output
    assert "[EMAIL]" in listed.output and "2 of 2 open missed questions" in listed.output
    grouped = json.loads(invoke("missed", "--clusters", "--json").output)
    assert sum(c["size"] for c in grouped["clusters"]) == 2
    data = json.loads(invoke("stats").output)
    assert data["conversations"] == 2 and data["handoff_rate"] == 1.0
