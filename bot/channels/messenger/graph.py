"""The Graph API client: Send API, Handover Protocol and Page settings calls (httpx + tenacity).

5xx answers, timeouts and connection failures are retried with exponential back-off and jitter;
a 4xx is final (retrying cannot fix it). Failures are logged with the Graph error code, never
with the access token.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from bot.config import MessengerSettings

log = logging.getLogger("faqbot.messenger")
_TOKEN = re.compile(r"(access_token=)[^&\s\"']+")


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

    def __str__(self) -> str:
        code = f", Graph error code {self.code}" if self.code is not None else ""
        sub = f" (subcode {self.subcode})" if self.subcode is not None else ""
        trace = f" [fbtrace_id {self.trace}]" if self.trace else ""
        return f"HTTP {self.status}{code}{sub}: {self.detail}{trace}"

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status >= 500


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
        self, psid: str, message: dict, messaging_type: str = "RESPONSE", tag: str | None = None
    ) -> dict:
        """Send one message (`{"text": …, "quick_replies": […]}`) to the user `psid`."""
        body: dict[str, Any] = {
            "recipient": {"id": psid},
            "messaging_type": messaging_type,
            "message": message,
        }
        if tag is not None:
            body["tag"] = tag
        return self.post("me/messages", body)

    def sender_action(self, psid: str, action: str) -> None:
        """typing_on, typing_off or mark_seen: tried once, since a late indicator is worse than none."""
        self.post("me/messages", {"recipient": {"id": psid}, "sender_action": action}, retry=False)

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: str) -> dict:
        body = {"recipient": {"id": psid}, "target_app_id": target_app_id, "metadata": metadata[:1000]}
        return self.post("me/pass_thread_control", body)

    def take_thread_control(self, psid: str, metadata: str) -> dict:
        return self.post("me/take_thread_control", {"recipient": {"id": psid}, "metadata": metadata[:1000]})

    def post(self, path: str, body: dict, retry: bool = True) -> dict:
        """POST `body` as JSON; the decoded answer, or GraphError once retries are spent."""
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, GraphError) and exc.transient),
            stop=stop_after_attempt(self.attempts if retry else 1),
            wait=wait_exponential_jitter(multiplier=self.backoff, max=self.max_backoff, jitter=self.backoff),
            before_sleep=lambda state: log.warning(
                "Graph %s failed (%s), attempt %d of %d; retrying",
                path,
                state.outcome.exception(),
                state.attempt_number,
                self.attempts,
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
            raise GraphError(0, detail=detail) from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.is_success:
            return data if isinstance(data, dict) else {}
        error = data.get("error", {}) if isinstance(data, dict) else {}
        raise GraphError(
            response.status_code,
            error.get("code"),
            error.get("error_subcode"),
            str(error.get("message") or response.reason_phrase)[:300],
            error.get("fbtrace_id"),
        )
