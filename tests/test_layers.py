"""The core never imports the web layer, the CLI or channel adapters."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = [
    "articles", "text", "config", "embed", "lexical", "index", "fusion", "fusion_fit", "retrieve",
    "language", "policy", "escalation", "messages", "dialog", "evaluate", "build", "head", "calibrate",
    "bench", "conversations", "store", "render", "migrate", "metrics", "rebuild", "reload", "redact",
    "cluster", "article_writer", "handoff", "curation", "models", "threads", "outbound", "ratelimit",
    "logs", "fields", "gdpr", "engine", "spool", "records", "replay", "offline", "durable", "group_commit",
    "query_encoder", "compute", "inbox", "erasure", "ratelimit_shared", "periodic", "near_duplicates",
    "tune", "model_switch",
]  # fmt: skip
FORBIDDEN = ("fastapi", "starlette", "typer", "click", "httpx", "bot.cli", "bot.api", "bot.channels")
PACKAGE = Path(__file__).resolve().parent.parent / "bot"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_modules_exist():
    assert all((PACKAGE / f"{name}.py").is_file() for name in CORE)


def test_core_does_not_import_adapters():
    offenders = {
        name: sorted(i for i in imports(PACKAGE / f"{name}.py") if i.startswith(FORBIDDEN)) for name in CORE
    }
    assert {k: v for k, v in offenders.items() if v} == {}
