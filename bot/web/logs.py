"""Structured logs: one JSON object per line, with the request id, and no customer text unredacted.

Every line carries `time`, `level`, `logger`, `message`, the `request_id` of the request being
served (when there is one) and the record's extra fields. Free text (the message, string fields,
tracebacks) goes through `bot.text.redact` before it is written, so an e-mail address or a phone number
typed by a customer never reaches a log file, whoever logged it. Identifiers and enumerations
(`SAFE_FIELDS`) are written as they are.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

from bot.text.redact import redact

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("faqbot_request_id", default=None)

# An incoming X-Request-ID is echoed only if it looks like an id, not like a payload.
_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_TEXT = 500  # characters of customer text kept in one log field

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
SAFE_FIELDS = {
    "request_id", "method", "route", "status", "duration_ms", "conversation_id", "message_id",
    "decision", "reason", "confidence", "article_id", "lang", "channel", "latency_ms", "index_version",
    "kind", "retry_after", "exception",
}  # fmt: skip


def stamp_request_ids() -> None:
    """Make every log record carry the request id current when it is created (idempotent), so
    the id survives deferred or queued formatting."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory.stamps_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def new_request_id(incoming: str | None) -> str:
    """The client's X-Request-ID if it is sane, otherwise a fresh random one."""
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key in _STANDARD or key in entry or key == "request_id" or key.startswith("_"):
                continue
            entry[key] = value if key in SAFE_FIELDS else _clean(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        line = json.dumps(entry, ensure_ascii=False, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: escape it rather than fail to write the line
            line = json.dumps(entry, default=str)
        return line


class TextFormatter(logging.Formatter):
    """`time level logger: message` for a terminal, redacted as the JSON lines are, on one line:
    a new line or another control character typed by a client (a `%0A` in a path) is escaped, so
    it cannot forge a line of its own."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        clean = logging.makeLogRecord(vars(record))
        clean.msg, clean.args = _one_line(redact(record.getMessage())), None
        return super().format(clean)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)[:MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return redact(str(value))[:MAX_TEXT]


def log_config(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server: faqbot's and uvicorn's loggers, one format."""
    formatter = {"()": "bot.web.logs.JsonFormatter" if fmt == "json" else "bot.web.logs.TextFormatter"}
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    loggers = {
        name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
        for name in ("faqbot", "uvicorn", "uvicorn.error")
    }
    loggers["uvicorn.access"] = {"handlers": [], "level": "WARNING", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": loggers,
        "root": {"handlers": ["default"], "level": "WARNING"},
    }


_turns = logging.getLogger("faqbot.chat")


def log_turn(
    conversation_id: str,
    message_id: str,
    text: str,
    decision: str,
    reason: str,
    confidence: float,
    lang: str,
    channel: str,
    article_id: str | None,
    with_text: bool = True,
) -> None:
    """One line per customer turn; the customer's words only redacted (and only if `with_text`)."""
    fields: dict[str, Any] = {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "decision": decision,
        "reason": reason,
        "confidence": round(confidence, 4),
        "lang": lang,
        "channel": channel,
        "article_id": article_id,
    }
    if with_text:
        fields["text"] = redact(text)[:MAX_TEXT]
    _turns.info("turn %s", decision, extra=fields)
