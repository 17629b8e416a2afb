"""Quality commands: the KB's evaluation set, threshold calibration, public benchmarks."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import IndexOption, KbOption, fail, load_bot, settings_for

if TYPE_CHECKING:
    from bot.quality.calibrate import Calibration

app = typer.Typer()


@app.command("eval")
def evaluate_kb(
    kb: KbOption = None,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the KB's evaluation set (kb_articles/eval/) through the bot; report quality per language."""
    from bot.quality.evaluate import bot_asker, by_language, run

    settings = settings_for(kb, index)
    items = _eval_items(settings.kb_path / "eval")
    if not items:
        fail(f"no evaluation items in {settings.kb_path / 'eval'}", 2)
    bot = load_bot(index)
    report = by_language(run(items, bot_asker(bot)))
    if as_json:
        typer.echo(json_text({"index_version": bot.retriever.version, "languages": report}))
    else:
        typer.echo(metrics_table(report, f"{len(items)} questions, index {bot.retriever.version}"))


@app.command()
def calibrate(
    kb: KbOption = None,
    index: IndexOption = None,
    target_wrong: Annotated[float, typer.Option(help="Highest acceptable share of wrong answers.")] = 0.05,
    plot: Annotated[Path | None, typer.Option(help="PNG to write (default: var/calibration.png).")] = None,
    write: Annotated[bool, typer.Option(help="Write the thresholds to faqbot.yaml.")] = True,
) -> None:
    """Pick answer/clarify thresholds from the evaluation set for a target wrong-answer rate."""
    from bot.config import update_config_file
    from bot.quality.calibrate import pick_by_language, pick_thresholds
    from bot.quality.evaluate import bot_asker, run
    from bot.quality.plot import plot as draw

    if not 0.0 <= target_wrong < 1.0:
        fail(f"--target-wrong must be in [0, 1), got {target_wrong}", 2)
    settings = settings_for(kb, index)
    items = _eval_items(settings.kb_path / "eval")
    if not items:
        fail(f"no evaluation items in {settings.kb_path / 'eval'}", 2)
    bot = load_bot(index)
    outcomes = run(items, bot_asker(bot))
    chosen = pick_thresholds(outcomes, target_wrong)
    per_language = pick_by_language(outcomes, target_wrong)
    image = draw(
        outcomes, chosen, plot or settings.var_path / "calibration.png", f"faqbot {bot.retriever.version}"
    )
    typer.echo(f"{_picked(chosen, len(items))}; plot: {image}")
    for lang, picked in per_language.items():
        n = sum(item.lang == lang for item in items)
        typer.echo(f"  {lang}: {_picked(picked, n)}")
    if write:
        values = {
            "answer_threshold": chosen.answer_threshold,
            "clarify_threshold": chosen.clarify_threshold,
            "language_thresholds": {
                lang: {"answer": c.answer_threshold, "clarify": c.clarify_threshold}
                for lang, c in per_language.items()
            },
        }
        typer.echo(f"written to {update_config_file(settings, values)}")


def _picked(chosen: Calibration, n: int) -> str:
    return (
        f"answer_threshold={chosen.answer_threshold} clarify_threshold={chosen.clarify_threshold} "
        f"(on {n} questions: correct {chosen.correct:.1%}, wrong {chosen.wrong:.1%}, "
        f"clarify {chosen.clarify:.1%}, hand-off {chosen.handoff:.1%})"
    )


@app.command()
def bench(
    folder: Annotated[Path, typer.Argument(help="Data set folder with kb.jsonl and queries.jsonl.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    target_wrong: Annotated[float, typer.Option(help="Wrong-answer rate the dev thresholds aim at.")] = 0.05,
    head_on_dev: Annotated[
        bool, typer.Option(help="Also train the classification head on the dev questions.")
    ] = True,
    tune_epochs: Annotated[
        int,
        typer.Option(
            min=0, max=20, help="Epochs of tuning the model on kb.jsonl's questions (0: the model as is)."
        ),
    ] = 3,
    protocol: Annotated[
        str,
        typer.Option(
            help="labelled: fit weights and thresholds on dev; curated: dev questions become alternate "
            "questions; day-one: the KB alone. curated and day-one serve as `faqbot build` would."
        ),
    ] = "labelled",
) -> None:
    """Quality on a benchmark data set: throw-away index, the model tuned on the entries'
    questions, every figure reported on test (see --protocol for what is learned from dev)."""
    from bot.quality.bench import run_bench
    from bot.retrieval.embedder import load_embedder

    settings = settings_for().model_copy(update={"tune_epochs": tune_epochs})
    try:
        report = run_bench(
            folder,
            settings.build,
            settings.dialogue,
            load_embedder(settings.model, settings.embed_batch_size),
            target_wrong,
            head_on_dev,
            protocol,
        )
    except (OSError, ValueError) as exc:
        fail(f"bench failed: {exc}", 2)
    if as_json:
        typer.echo(json_text(report))
    else:
        rows = {"test": report, **{f"test {lang}": m for lang, m in report.get("by_language", {}).items()}}
        learned = {
            "labelled": f"fitted on {report['n_dev']} dev questions",
            "curated": f"{report['n_dev']} dev questions added as alternate questions",
            "day-one": "the KB alone",
        }
        typer.echo(metrics_table(rows, f"{folder.name} ({protocol}): {learned[protocol]}"))


def _eval_items(folder: Path) -> list:
    from bot.quality.evaluate import load_eval_set

    try:
        return load_eval_set(folder)
    except ValueError as exc:
        fail(f"bad evaluation set: {exc}", 2)


def json_text(value: Any) -> str:
    """Strict JSON: an undefined metric (NaN, such as AUROC on a set with no unanswerable question)
    is null, not the NaN that JSON parsers reject."""
    return json.dumps(_defined(value), allow_nan=False)


def _defined(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _defined(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_defined(v) for v in value]
    return value


def _cell(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "–"


def metrics_table(report: dict[str, dict[str, float]], caption: str) -> str:
    """A readable table of `by_language` metrics."""
    from rich.console import Console
    from rich.table import Table

    columns = [
        "top1",
        "top3",
        "mrr10",
        "auroc",
        "correct",
        "wrong",
        "clarify",
        "clarify_right",
        "self_served",
        "handoff",
        "handoff_precision",
    ]
    table = Table("lang", "n_queries", *columns, "p50_ms", caption=caption)
    for lang, m in report.items():
        cells = [_cell(m[c]) for c in columns]
        table.add_row(lang, str(m["n_queries"]), *cells, f"{m['p50_ms']:.1f}" if "p50_ms" in m else "")
    console = Console(width=160, record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()
