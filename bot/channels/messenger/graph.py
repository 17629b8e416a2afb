"""The Graph API client: Send API, Handover Protocol and Page settings calls (httpx + tenacity).

What Meta documents as temporary is retried with exponential back-off and jitter, or after the
wait Meta names (`Retry-After`, or the usage headers' `estimated_time_to_regain_access`): 5xx and
429 answers, the Graph error codes in TRANSIENT_CODES (rate limits, "temporary send message
failure"), errors flagged `is_transient`, timeouts and refused connections. Anything else is final
(retrying cannot fix it). A call whose request went out but whose answer never came (a read
timeout, a dropped connection) is `unsure`: it may have been carried out. Failures are logged with
the Graph error code, never with the access token.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from bot.config import MessengerSettings

log = logging.getLogger("faqbot.messenger")
_TOKEN = re.compile(r"(access_token=)[^&\s\"']+")
# Graph error codes Meta documents as temporary: 1200 temporary send message failure, 2 service
# temporarily unavailable, 4 application request limit, 17 user request limit, 32 Page request
# limit, 613 calls within one hour exceeded, 80006 Messenger rate limit.
TRANSIENT_CODES = frozenset({1200, 2, 4, 17, 32, 613, 80006})
# Usage headers whose JSON may name how long until calls are accepted again (in minutes).
_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
METADATA_LIMIT = 1000  # characters of a message's or a thread-control call's metadata


class _HideToken(logging.Filter):
    """httpx logs each request's URL, which carries the access token: blank it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = _TOKEN.sub(r"\1***", message), ()
        return True


for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, _HideToken) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_HideToken())


@dataclass(eq=False)
class GraphError(Exception):
    """A Graph API call that failed for good (`status` 0: no answer at all)."""

    status: int
    code: int | None = None
    subcode: int | None = None
    detail: str = ""
    trace: str | None = None
    retry_after: float | None = None  # seconds Meta asked us to wait, when it said
    unsure: bool = False  # the request went out but no answer came: it may have been carried out
    flagged_transient: bool = False  # the error body said `is_transient: true`

    def __str__(self) -> str:
        code = f", Graph error code {self.code}" if self.code is not None else ""
        sub = f" (subcode {self.subcode})" if self.subcode is not None else ""
        trace = f" [fbtrace_id {self.trace}]" if self.trace else ""
        return f"HTTP {self.status}{code}{sub}: {self.detail}{trace}"

    @property
    def transient(self) -> bool:
        """Worth trying again later: Meta says the failure is temporary, or never answered."""
        return (
            self.status in (0, 429)
            or self.status >= 500
            or self.code in TRANSIENT_CODES
            or self.flagged_transient
        )

    @property
    def label(self) -> str:
        """A bounded name for metrics: the Graph code if it is one we know, else the HTTP class."""
        if self.code in TRANSIENT_CODES or self.code in KNOWN_FINAL_CODES:
            return str(self.code)
        if self.status == 0:
            return "unsure" if self.unsure else "unreachable"
        return "http_5xx" if self.status >= 500 else ("http_429" if self.status == 429 else "other")


# Final errors worth their own metric label: 10 outside the messaging window / permission, 100
# invalid parameter, 190 bad access token, 200 permission, 230 no messaging permission, 368
# blocked for policy, 551 the person is unavailable.
KNOWN_FINAL_CODES = frozenset({10, 100, 190, 200, 230, 368, 551})


class GraphClient:
    """Calls `{base_url}/{version}/me/...` with the Page access token."""

    def __init__(
        self,
        base_url: str,
        version: str,
        token: str,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        if not token:
            raise ValueError("the Page access token must not be empty")
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        self.base = f"{base_url.rstrip('/')}/{version}"
        self._token = token
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._http = httpx.Client(timeout=timeout)

    @classmethod
    def for_settings(cls, settings: MessengerSettings) -> GraphClient:
        """The client of the configured Page; the channel and `faqbot messenger setup` both use it.

        (Not in bot.compose, which sits under the channels and may not import them.)"""
        if settings.page_token is None:
            raise ValueError("set FAQBOT_MESSENGER_PAGE_TOKEN to the Page access token")
        token = settings.page_token.get_secret_value()
        return cls(
            settings.graph_url,
            settings.graph_version,
            token,
            timeout=settings.send_timeout,
            backoff=settings.send_backoff,
        )

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        psid: str,
        message: dict,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
        attempts: int | None = None,
    ) -> dict:
        """Send one message (`{"text": …, "quick_replies": […]}`) to the user `psid`. A send that
        is `unsure` is not sent again here: the Send API has no idempotency key, so whoever
        called decides (see bot.channels.messenger.sender)."""
        return self.post("me/messages", message_body(psid, message, messaging_type, tag), attempts, False)

    def sender_action(self, psid: str, action: str) -> None:
        """typing_on, typing_off or mark_seen: tried once, since a late indicator is worse than none."""
        self.post("me/messages", {"recipient": {"id": psid}, "sender_action": action}, attempts=1)

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: str) -> dict:
        """Metadata over Meta's 1000 characters is refused: build it with `bounded_metadata`."""
        body = {"recipient": {"id": psid}, "target_app_id": target_app_id, "metadata": metadata}
        return self.post("me/pass_thread_control", body)

    def take_thread_control(self, psid: str, metadata: str) -> dict:
        return self.post("me/take_thread_control", {"recipient": {"id": psid}, "metadata": metadata})

    def get(self, path: str, params: dict[str, str]) -> dict:
        """GET a Graph object (tried once: reads here are conveniences, never needed to answer)."""
        try:
            response = self._http.get(f"{self.base}/{path}", params={**params, "access_token": self._token})
        except httpx.TransportError as exc:
            raise GraphError(0, detail=_TOKEN.sub(r"\1***", f"{type(exc).__name__}: {exc}")) from None
        return _answer(response)

    def post(self, path: str, body: dict, attempts: int | None = None, resend_unsure: bool = True) -> dict:
        """POST `body` as JSON; the decoded answer, or GraphError once retries are spent. A wait
        Meta names that is longer than `max_backoff` is not slept here: the error is raised with
        its `retry_after`, for the caller to try later."""
        tries = self.attempts if attempts is None else attempts

        def again(exc: BaseException) -> bool:
            if not isinstance(exc, GraphError) or not exc.transient:
                return False
            if exc.unsure and not resend_unsure:
                return False
            return exc.retry_after is None or exc.retry_after <= self.max_backoff

        backoff = wait_exponential_jitter(multiplier=self.backoff, max=self.max_backoff, jitter=self.backoff)

        def wait(state) -> float:
            exc = state.outcome.exception() if state.outcome else None
            named = getattr(exc, "retry_after", None)
            return float(named) if named is not None else backoff(state)

        retrying = Retrying(
            retry=retry_if_exception(again),
            stop=stop_after_attempt(max(1, tries)),
            wait=wait,
            before_sleep=lambda state: log.warning(
                "Graph %s failed (%s), attempt %d of %d; retrying",
                path,
                state.outcome.exception(),
                state.attempt_number,
                tries,
            ),  # fmt: skip
            reraise=True,
        )
        try:
            return retrying(self._post_once, path, body)
        except GraphError as exc:
            log.error("Graph %s failed: %s", path, exc)
            raise

    def _post_once(self, path: str, body: dict) -> dict:
        try:
            response = self._http.post(f"{self.base}/{path}", params={"access_token": self._token}, json=body)
        except httpx.TransportError as exc:  # timeouts and refused or dropped connections
            detail = _TOKEN.sub(r"\1***", f"{type(exc).__name__}: {exc}")
            # Not connected (or no connection free): the request never left. Otherwise it did.
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise GraphError(0, detail=detail, unsure=sent) from None
        return _answer(response)


def message_body(psid: str, message: dict, messaging_type: str = "RESPONSE", tag: str | None = None) -> dict:
    """The Send API request for one message to `psid`."""
    body: dict[str, Any] = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": message}
    if tag is not None:
        body["tag"] = tag
    return body


def bounded_metadata(fields: dict[str, str], shorten: str, limit: int = METADATA_LIMIT) -> str:
    """`fields` as JSON of at most `limit` characters, shortening the field `shorten` (with "…")
    until it fits: cutting the JSON itself would leave it unreadable."""
    text = fields.get(shorten, "")
    encoded = json.dumps(fields, ensure_ascii=False)
    while len(encoded) > limit and text:
        over = len(encoded) - limit
        text = text[: max(0, len(text) - over - 1)].rstrip()
        encoded = json.dumps({**fields, shorten: f"{text}…" if text else ""}, ensure_ascii=False)
    if len(encoded) > limit:
        raise ValueError(f"metadata over {limit} characters even without {shorten!r}")
    return encoded


def _answer(response: httpx.Response) -> dict:
    """The decoded body of a 2xx answer; GraphError (with the wait Meta names) otherwise."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.is_success:
        return data if isinstance(data, dict) else {}
    error = data.get("error", {}) if isinstance(data, dict) else {}
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    raise GraphError(
        response.status_code,
        code if isinstance(code, int) else None,
        subcode if isinstance(subcode, int) else None,
        str(error.get("message") or response.reason_phrase)[:300],
        error.get("fbtrace_id"),
        retry_after=_wait_named(response.headers),
        flagged_transient=error.get("is_transient") is True,
    )


def _wait_named(headers: httpx.Headers) -> float | None:
    """Seconds to wait that Meta named: `Retry-After` (seconds), else the longest
    `estimated_time_to_regain_access` (minutes) in the usage headers."""
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    minutes = [m for name in _USAGE_HEADERS for m in _regain_minutes(headers.get(name))]
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def _regain_minutes(value: str | None) -> list[float]:
    """`estimated_time_to_regain_access` values anywhere in a usage header's JSON."""
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return []
    found: list[float] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            minutes = item.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and not isinstance(minutes, bool):
                found.append(float(minutes))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
