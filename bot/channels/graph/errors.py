"""Graph API errors: what Meta documents as temporary (worth another try), the wait it names, and a
bounded label per failure for metrics. Shared by Messenger and WhatsApp (Graph error codes of the
two products do not overlap)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

# Graph error codes Meta documents as temporary.
# Graph API: 2 service temporarily unavailable, 4 application
# request limit, 17 user request limit, 32 Page request limit, 613 calls within one hour exceeded.
# Messenger: 1200 temporary send message failure, 80006 Messenger rate limit.
# WhatsApp Cloud API: 80007 business account rate limit, 130429 throughput reached, 131000
# something went wrong, 131016 service unavailable, 131056 too many messages to one customer in a
# short time (pair rate limit), 133004 server temporarily unavailable.
MESSENGER_TRANSIENT = frozenset({1200, 2, 4, 17, 32, 613, 80006})
WHATSAPP_TRANSIENT = frozenset({2, 4, 80007, 130429, 131000, 131016, 131056, 133004})
TRANSIENT_CODES = MESSENGER_TRANSIENT | WHATSAPP_TRANSIENT
# Final errors worth their own metric label.
# Graph API and Messenger: 10 outside the messaging window / permission, 100 invalid parameter,
# 190 bad access token, 200 permission, 230 no messaging permission, 368 blocked for policy, 551
# the person is unavailable.
# WhatsApp: 131008 required parameter missing, 131009 parameter value not valid, 131026 message
# undeliverable, 131030 recipient not in the allowed list (test numbers), 131031 account locked,
# 131047 re-engagement (over 24 hours since the customer wrote), 131048 spam rate limit, 131051
# unsupported message type, 132000 template parameter count mismatch, 132001 template does not
# exist, 133010 phone number not registered.
KNOWN_FINAL_CODES = frozenset(
    {10, 100, 190, 200, 230, 368, 551}
    | {131008, 131009, 131026, 131030, 131031, 131047, 131048, 131051, 132000, 132001, 133010}
)
# Usage headers whose JSON may name how long until calls are accepted again (in minutes).
_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")


def code_label(code: int | None) -> str:
    """A bounded metric label for a Graph error code: the code if we know it, else "other"."""
    return str(code) if code in TRANSIENT_CODES or code in KNOWN_FINAL_CODES else "other"


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


def answer(response: httpx.Response) -> dict:
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
    details = (
        error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    message = str(error.get("message") or response.reason_phrase)
    if details and str(details) not in message:  # WhatsApp says what was wrong in error_data.details
        message = f"{message} ({details})"
    raise GraphError(
        response.status_code,
        code if isinstance(code, int) else None,
        subcode if isinstance(subcode, int) else None,
        message[:300],
        error.get("fbtrace_id"),
        retry_after=wait_named(response.headers),
        flagged_transient=error.get("is_transient") is True,
    )


def wait_named(headers: httpx.Headers) -> float | None:
    """Seconds to wait that Meta named: `Retry-After` (seconds), else the longest
    `estimated_time_to_regain_access` (minutes) in the usage headers."""
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    minutes = [m for name in _USAGE_HEADERS for m in regain_minutes(headers.get(name))]
    return max(minutes) * 60.0 if minutes and max(minutes) > 0 else None


def regain_minutes(value: str | None) -> list[float]:
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
