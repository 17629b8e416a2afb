"""Front matter read safely: no YAML aliases (a few hundred bytes of nested ones expand to
gigabytes) and a size cap, so that one file cannot take a validation, a build or a replica down."""

from __future__ import annotations

from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import SafeLoader, YAMLHandler

MAX_FRONT_MATTER = 64 * 1024  # bytes: a long list of alternate questions is a few KiB


def _refuse_aliases(text: str) -> None:
    """Scan the YAML events (libyaml's, when built: the same parser as the load) for an alias."""
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise yaml.YAMLError(f"YAML aliases (*{event.anchor}) are not allowed (line {line})")


class _Handler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        if len(fm.encode("utf-8")) > MAX_FRONT_MATTER:
            raise yaml.YAMLError(f"front matter over {MAX_FRONT_MATTER // 1024} KiB")
        return safe_load(fm)


def loads(text: str) -> frontmatter.Post:
    """`frontmatter.loads` with the safe handler; yaml.YAMLError for aliases or an oversized block."""
    return frontmatter.loads(text, handler=_Handler())


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, refusing aliases (for other YAML files staff write, as the eval set)."""
    _refuse_aliases(text)
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - the safe loader


def short(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters: an error message never prints a huge value."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
