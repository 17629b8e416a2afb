"""A fake WhatsApp Business Cloud API for WhatsApp tests: a real HTTP server on 127.0.0.1
(ephemeral port) that records every request and answers as Meta documents the Cloud API.

Written from Meta's documentation (messages endpoint, interactive messages, templates, error
codes), not from the code under test. It refuses what the Cloud API refuses:
- a missing or wrong `Authorization: Bearer` token: HTTP 401, code 190;
- `messaging_product` other than "whatsapp", a missing `to`, a `recipient_type` other than
  "individual", an unknown `type`: code 100 (invalid parameter), HTTP 400;
- text: a body of 1 to 4096 characters;
- interactive reply buttons: 1 to 3 buttons, titles of 1 to 20 characters, ids of 1 to 256
  characters and unique; list: a button label of 1 to 20 characters, 1 to 10 sections, at most 10
  rows in all, row titles of 1 to 24 characters, descriptions of at most 72, ids of 1 to 200
  characters and unique; a body of 1 to 1024 characters (code 131009, parameter value not valid);
- `biz_opaque_callback_data` over 512 characters (131009);
- free-form messages (anything but a template) to a customer who has not written within 24 hours:
  code 131047, re-engagement message (see `customer_wrote`);
- templates: an unknown name or language, code 132001; a wrong number of body parameters, 132000;
  a parameter with a new line, a tab or more than four spaces in a row, or over 1024 characters,
  132018 (see `template`);
- a number that cannot receive messages: code 131026 (see `undeliverable`).

The read receipt with the typing indicator (`status: read`, `message_id`, `typing_indicator`)
is answered `{"success": true}`. On top, tests script failures (`then`), an outage (`down`: 503,
code 2), rate limiting (`rate_limit`: code 130429), and build the status webhooks Meta would send
for a message (`status`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"
TYPES = {"text", "interactive", "template", "image", "audio", "video", "document", "sticker", "location",
         "contacts", "reaction"}  # fmt: skip


@dataclass
class Call:
    path: str
    query: dict[str, str]
    body: dict
    headers: dict[str, str]
    method: str = "POST"
    status: int = 0
    answer: dict = field(default_factory=dict)


@dataclass
class Scripted:
    path: str
    status: int
    body: dict = field(default_factory=dict)
    delay: float = 0.0
    accept: bool = False  # carry the call out anyway (a 2xx always is), answered after `delay`


def cloud_error(message: str, code: int, details: str = "", transient: bool = False) -> dict:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if transient:
        error["is_transient"] = True
    return {"error": error}


def invalid(details: str) -> dict:
    return cloud_error("(#131009) Parameter value is not valid", 131009, details)


class FakeWhatsApp:
    def __init__(self, token: str = "wa-t0ken") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.script: list[Scripted] = []
        self.last_customer: dict[str, dt.datetime] = {}
        self.undeliverable_numbers: set[str] = set()
        self.templates: dict[tuple[str, str], int] = {}  # (name, language) -> body parameters
        self.subscribed: list[dict] = []
        self.quality = "GREEN"
        self.outage_until = 0.0
        self._rate: tuple[int, float] | None = None
        self._stamps: list[float] = []
        self._ids = 0
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._serve("POST", json.loads(raw or b"{}"))

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET", {})

            def _serve(self, method: str, body: dict) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                call = Call(url.path, query, body, {k.lower(): v for k, v in self.headers.items()}, method)
                status, answer, delay = fake._answer(call)
                time.sleep(delay)
                call.status, call.answer = status, answer
                with fake._changed:
                    fake.calls.append(call)
                    fake._changed.notify_all()
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeWhatsApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests set up ---------------------------------------------------------------------

    def then(
        self, path: str, status: int, body: dict | None = None, delay: float = 0.0, accept: bool = False
    ) -> None:
        """Answer the next message (not a read receipt) to `path` with `status` and `body`."""
        with self._changed:
            self.script.append(Scripted(path, status, body or {}, delay, accept))

    def down(self, seconds: float) -> None:
        """An outage: for `seconds`, every call is answered 503, code 2, `is_transient`."""
        self.outage_until = time.monotonic() + seconds

    def up(self) -> None:
        self.outage_until = 0.0

    def rate_limit(self, calls: int, window: float) -> None:
        """Allow `calls` messages per `window` seconds; over that, code 130429 (throughput)."""
        self._rate = (calls, window)

    def customer_wrote(self, wa_id: str, at: dt.datetime) -> None:
        """The customer's last message: it opens the 24-hour customer-service window."""
        if wa_id not in self.last_customer or self.last_customer[wa_id] < at:
            self.last_customer[wa_id] = at

    def undeliverable(self, wa_id: str) -> None:
        self.undeliverable_numbers.add(wa_id)

    def template(self, name: str, language: str, parameters: int = 1) -> None:
        """An approved template with `parameters` body parameters."""
        self.templates[(name, language)] = parameters

    # --- what tests read -----------------------------------------------------------------------

    def wait(self, predicate, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake WhatsApp API: condition not met; calls: {self.calls}")
                self._changed.wait(left)
            return list(self.calls)

    def accepted(self, wa_id: str | None = None) -> list[Call]:
        """The message calls the fake carried out (not read receipts), in order."""
        return [
            c for c in self.calls
            if c.path.endswith("/messages") and "type" in c.body and c.answer.get("messages")
            and (wa_id is None or c.body.get("to") == wa_id)
        ]  # fmt: skip

    def sent(self, wa_id: str | None = None) -> list[dict]:
        """What the customer received, in order: each message's type and content only."""
        return [
            {"type": c.body["type"], c.body["type"]: c.body[c.body["type"]]} for c in self.accepted(wa_id)
        ]

    def texts(self, wa_id: str | None = None) -> list[str]:
        """The text each message shows: a text's body, an interactive's body, a template's parameters."""
        shown = []
        for message in self.sent(wa_id):
            if message["type"] == "text":
                shown.append(message["text"]["body"])
            elif message["type"] == "interactive":
                shown.append(message["interactive"]["body"]["text"])
            else:
                shown.append(" ".join(p["text"] for c in message["template"].get("components", [])
                                      for p in c.get("parameters", [])))  # fmt: skip
        return shown

    def reads(self, wa_id: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.body.get("status") == "read"]

    def status(self, call: Call, status: str = "sent", error: tuple[int, str] | None = None) -> dict:
        """The `messages` webhook delivery Meta sends with the status of a message it carried out."""
        entry: dict = {
            "id": call.answer["messages"][0]["id"], "status": status, "timestamp": str(int(time.time())),
            "recipient_id": call.body["to"],
        }  # fmt: skip
        if "biz_opaque_callback_data" in call.body:
            entry["biz_opaque_callback_data"] = call.body["biz_opaque_callback_data"]
        if error is not None:
            entry["errors"] = [{"code": error[0], "title": error[1], "message": error[1]}]
        return webhook({"statuses": [entry]})

    # --- how it answers ------------------------------------------------------------------------

    def _answer(self, call: Call) -> tuple[int, dict, float]:
        with self._changed:
            for i, scripted in enumerate(self.script):
                if call.path.endswith(scripted.path) and "type" in call.body:
                    del self.script[i]
                    if scripted.accept or 200 <= scripted.status < 300:
                        status, answer = self._carry_out(call)
                        return status, answer, scripted.delay
                    return scripted.status, scripted.body, scripted.delay
        if time.monotonic() < self.outage_until:
            return 503, cloud_error("(#2) Service temporarily unavailable", 2, transient=True), 0.0
        status, answer = self._carry_out(call)
        return status, answer, 0.0

    def _carry_out(self, call: Call) -> tuple[int, dict]:
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return 401, cloud_error("Invalid OAuth access token - Cannot parse access token", 190)
        parts = call.path.strip("/").split("/")[1:]  # without the version
        if call.method == "GET":
            return self._get(parts, call)
        if parts == [BUSINESS_ACCOUNT_ID, "subscribed_apps"]:
            self.subscribed = [{"whatsapp_business_api_data": {"id": "faqbot-app", "name": "faqbot"}}]
            return 200, {"success": True}
        if parts != [PHONE_NUMBER_ID, "messages"]:
            return 400, cloud_error("(#100) Unsupported post request", 100)
        if call.body.get("messaging_product") != "whatsapp":
            return 400, cloud_error("(#100) The parameter messaging_product is required", 100)
        if call.body.get("status") == "read":
            return self._read(call.body)
        problem = self._message_problem(call.body)
        if problem is not None:
            return 400, problem
        self._ids += 1
        to = str(call.body["to"])
        return 200, {
            "messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.OUT{self._ids}"}],
        }  # fmt: skip

    def _get(self, parts: list[str], call: Call) -> tuple[int, dict]:
        if parts == [PHONE_NUMBER_ID]:
            return 200, {
                "id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-078-3881",
                "verified_name": "Faqbot Shop",
                "quality_rating": self.quality, "code_verification_status": "VERIFIED",
            }  # fmt: skip
        if parts == [BUSINESS_ACCOUNT_ID, "subscribed_apps"]:
            return 200, {"data": self.subscribed}
        return 400, cloud_error(
            f"(#100) Unsupported get request. Object with ID '{parts[0]}' does not exist", 100
        )

    @staticmethod
    def _read(body: dict) -> tuple[int, dict]:
        if not isinstance(body.get("message_id"), str) or not body["message_id"]:
            return 400, cloud_error("(#100) The parameter message_id is required", 100)
        typing = body.get("typing_indicator")
        if typing is not None and typing != {"type": "text"}:
            return 400, cloud_error("(#100) Param typing_indicator[type] must be text", 100)
        return 200, {"success": True}

    def _message_problem(self, body: dict) -> dict | None:
        to, kind = body.get("to"), body.get("type", "text")
        if not isinstance(to, str) or not to:
            return cloud_error("(#100) The parameter to is required", 100)
        if body.get("recipient_type", "individual") != "individual":
            return cloud_error("(#100) Param recipient_type must be individual", 100)
        if kind not in TYPES or not isinstance(body.get(kind), dict):
            return cloud_error(f"(#100) Param {kind} must be a valid message object", 100)
        opaque = body.get("biz_opaque_callback_data")
        if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
            return invalid("biz_opaque_callback_data must be at most 512 characters")
        if to in self.undeliverable_numbers:
            return cloud_error(
                "(#131026) Message undeliverable", 131026, "the recipient cannot receive messages"
            )
        if kind == "template":
            return self._template_problem(body["template"])
        limited = self._over_rate()
        if limited is not None:
            return limited
        last = self.last_customer.get(to)
        if last is None or dt.datetime.now(dt.UTC) - last > dt.timedelta(hours=24):
            return cloud_error(
                "(#131047) Re-engagement message", 131047,
                "Message failed to send because more than 24 hours have passed since the customer last "
                "replied to this number.",
            )  # fmt: skip
        if kind == "text":
            text = body["text"].get("body")
            if not isinstance(text, str) or not text.strip() or len(text) > 4096:
                return invalid("text.body must have 1 to 4096 characters")
            return None
        if kind == "interactive":
            return _interactive_problem(body["interactive"])
        return None

    def _template_problem(self, template: dict) -> dict | None:
        name, language = template.get("name"), (template.get("language") or {}).get("code")
        if (name, language) not in self.templates:
            return cloud_error("(#132001) Template name does not exist in the translation", 132001,
                               f"template name ({name}) does not exist in {language}")  # fmt: skip
        bodies = [c for c in template.get("components") or [] if c.get("type") == "body"]
        parameters = [p for c in bodies for p in c.get("parameters") or []]
        if len(parameters) != self.templates[(name, language)]:
            return cloud_error(
                "(#132000) Number of parameters does not match the expected number of params", 132000
            )
        for parameter in parameters:
            text = parameter.get("text")
            if parameter.get("type") != "text" or not isinstance(text, str) or not text:
                return invalid("a body parameter must be text")
            if re.search(r"[\n\t]| {5,}", text) or len(text) > 1024:
                why = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
                return cloud_error(
                    "(#132018) There was an issue with the parameters in your template", 132018, why
                )
        return None

    def _over_rate(self) -> dict | None:
        if self._rate is None:
            return None
        calls, window = self._rate
        moment = time.monotonic()
        self._stamps = [s for s in self._stamps if moment - s < window]
        if len(self._stamps) < calls:
            self._stamps.append(moment)
            return None
        return cloud_error(
            "(#130429) Rate limit hit", 130429, "Cloud API message throughput has been reached."
        )


def _interactive_problem(interactive: dict) -> dict | None:
    body = (interactive.get("body") or {}).get("text")
    if not isinstance(body, str) or not body.strip() or len(body) > 1024:
        return invalid("interactive.body.text must have 1 to 1024 characters")
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return invalid("interactive.action.buttons must have 1 to 3 buttons")
        replies = [b.get("reply") or {} for b in buttons if b.get("type") == "reply"]
        if len(replies) != len(buttons):
            return invalid("every button must be of type reply")
        for reply in replies:
            if not isinstance(reply.get("title"), str) or not 1 <= len(reply["title"]) <= 20:
                return invalid("a button title must have 1 to 20 characters")
            if not isinstance(reply.get("id"), str) or not 1 <= len(reply["id"]) <= 256:
                return invalid("a button id must have 1 to 256 characters")
        if len({r["id"] for r in replies}) != len(replies):
            return invalid("button ids must be unique")
        return None
    if interactive.get("type") == "list":
        label, sections = action.get("button"), action.get("sections")
        if not isinstance(label, str) or not 1 <= len(label) <= 20:
            return invalid("interactive.action.button must have 1 to 20 characters")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            return invalid("interactive.action.sections must have 1 to 10 sections")
        if len(sections) > 1 and any(not s.get("title") for s in sections):
            return invalid("each section needs a title when there are several")
        rows = [r for s in sections for r in s.get("rows") or []]
        if not 1 <= len(rows) <= 10:
            return invalid("a list must have 1 to 10 rows in all")
        for row in rows:
            if not isinstance(row.get("title"), str) or not 1 <= len(row["title"]) <= 24:
                return invalid("a row title must have 1 to 24 characters")
            if len(str(row.get("description", ""))) > 72:
                return invalid("a row description must have at most 72 characters")
            if not isinstance(row.get("id"), str) or not 1 <= len(row["id"]) <= 200:
                return invalid("a row id must have 1 to 200 characters")
        if len({r["id"] for r in rows}) != len(rows):
            return invalid("row ids must be unique")
        return None
    return invalid("interactive.type must be button or list")


def webhook(value: dict) -> dict:
    """A `messages` webhook delivery for our number holding `value` (messages, statuses…)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
        **value,
    }
    change = {"value": value, "field": "messages"}
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "changes": [change]}],
    }
