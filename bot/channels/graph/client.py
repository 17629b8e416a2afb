"""The Graph API client both of Meta's channels use (httpx + tenacity).

What Meta documents as temporary is retried with exponential back-off and jitter, or after the
wait Meta names (`Retry-After`, or the usage headers' `estimated_time_to_regain_access`): 5xx and
429 answers, the Graph error codes in TRANSIENT_CODES, errors flagged `is_transient`, timeouts and
refused connections. Anything else is final (retrying cannot fix it). A call whose request went out
but whose answer never came (a read timeout, a dropped connection) is `unsure`: it may have been
carried out. Failures are logged with the Graph error code, never with the access token.
"""

from __future__ import annotations

import logging
import re

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from bot.channels.graph.errors import GraphError, answer

TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s\"']+")


def hide_token(text: str) -> str:
    """`text` with any `access_token=…` blanked out."""
    return TOKEN_IN_URL.sub(r"\1***", text)


class HideToken(logging.Filter):
    """httpx logs each request's URL, which may carry the access token: blank it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = hide_token(message), ()
        return True


for _name in ("httpx", "httpcore"):
    if not any(isinstance(f, HideToken) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(HideToken())


class Graph:
    """Calls `{base_url}/{version}/{path}` with an access token: in the query string
    (`access_token=`, as Messenger's Send API documents it) or, with `bearer`, in an
    `Authorization: Bearer` header (as the WhatsApp Cloud API documents it)."""

    def __init__(
        self,
        base_url: str,
        version: str,
        token: str,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        bearer: bool = False,
        logger: str = "faqbot.graph",
    ) -> None:
        if not token:
            raise ValueError("the access token must not be empty")
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}")
        self.base = f"{base_url.rstrip('/')}/{version}"
        self._token = token
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.log = logging.getLogger(logger)
        self._params = {} if bearer else {"access_token": token}
        headers = {"Authorization": f"Bearer {token}"} if bearer else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> dict:
        """GET a Graph object (tried once: reads here are conveniences, never needed to answer)."""
        try:
            response = self._http.get(f"{self.base}/{path}", params={**(params or {}), **self._params})
        except httpx.TransportError as exc:
            raise GraphError(0, detail=hide_token(f"{type(exc).__name__}: {exc}")) from None
        return answer(response)

    def post(self, path: str, body: dict, attempts: int | None = None, resend_unsure: bool = True) -> dict:
        """POST `body` as JSON; the decoded answer, or GraphError once retries are spent. A wait
        Meta names that is longer than `max_backoff` is not slept here: the error is raised with
        its `retry_after`, for the caller to try later. With `resend_unsure` off, a call whose
        answer was lost is not sent again (the caller decides: Meta's send APIs have no
        idempotency key)."""
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
            before_sleep=lambda state: self.log.warning(
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
            self.log.error("Graph %s failed: %s", path, exc)
            raise

    def _post_once(self, path: str, body: dict) -> dict:
        try:
            response = self._http.post(f"{self.base}/{path}", params=self._params, json=body)
        except httpx.TransportError as exc:  # timeouts and refused or dropped connections
            detail = hide_token(f"{type(exc).__name__}: {exc}")
            # Not connected (or no connection free): the request never left. Otherwise it did.
            sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
            raise GraphError(0, detail=detail, unsure=sent) from None
        return answer(response)
