"""docs/reliability.md and docs/reliability-durability.md name only tests that exist, so the tables
cannot silently go stale."""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO

TOKEN = re.compile(r"`([^`]+)`")


def functions(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def lines():
    for name in ("reliability.md", "reliability-durability.md"):
        yield from (REPO / "docs" / name).read_text(encoding="utf-8").splitlines()


def test_every_test_named_in_the_reliability_tables_exists():
    named, missing = 0, []
    for line in lines():
        current = None
        for token in TOKEN.findall(line):
            file, _, name = token.partition("::")
            if file.startswith("tests/") and file.endswith(".py"):
                current = REPO / file
                if not current.is_file():
                    missing.append(file)
                    continue
            elif token.startswith("test_") and current is not None:
                name = token
            else:
                continue
            if name:
                named += 1
                if name not in functions(current):
                    missing.append(f"{current.name}::{name}")
    assert missing == []
    assert named > 50
