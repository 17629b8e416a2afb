"""A fake Graph API for Messenger tests: a real HTTP server on 127.0.0.1 (ephemeral port) that
records every request and answers as Meta documents the Send API, the Handover Protocol and the
User Profile API, so retries and errors are real HTTP.

Written from Meta's documentation, not from the code under test, it refuses what Meta refuses
(error code 100, "invalid parameter", with HTTP 400):
- /me/messages: a recipient id; exactly one of `message` and `sender_action`; a `messaging_type`
  of RESPONSE, UPDATE or MESSAGE_TAG, and a `tag` only (and always) with MESSAGE_TAG; text of at
  most 2000 characters; at most 13 quick replies, a text one with a title of at most 20 characters
  and a payload of at most 1000; `metadata` of at most 1000 characters;
- /me/pass_thread_control and /me/take_thread_control: `metadata` of at most 1000 characters,
  a `target_app_id` to pass to;
- a wrong access token: code 190 (OAuthException);
- the messaging window: a RESPONSE or UPDATE over 24 hours after the customer's last message, or
  a HUMAN_AGENT message over 7 days after it, gets code 10, subcode 2018278 (see `customer_wrote`);
- a customer who blocked the Page: code 551 (see `blocked`).

With `instagram=True` it is the Send API of a Page linked to an Instagram professional account,
whose recipients are Instagram-scoped ids, and it refuses what Instagram refuses on top: text over
1000 characters, quick replies other than text ones, the button template, and a User Profile
request for `locale` (Instagram's profile has none); its echoes are of `object: "instagram"`. The
Page itself answers GET /me (its id, name and `instagram_business_account`) and GET
/me/subscribed_apps (the apps and fields POST /me/subscribed_apps subscribed).

On top, tests script failures (`then`: the next answer to a path), an outage (`down`: every
call answered 503 with code 2, `is_transient`), rate limiting (`rate_limit`: code 613 with the
usage header naming the wait), and read the webhook echo Meta would send for a message (`echo`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
TAGS = {"HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"}
SENDER_ACTIONS = {"typing_on", "typing_off", "mark_seen"}
QUICK_REPLY_TYPES = {"text", "user_phone_number", "user_email"}
PAGE_ID = "page-1"
APP_ID = "faqbot-app"


@dataclass
class Call:
    path: str  # e.g. /v21.0/me/messages
    query: dict[str, str]
    body: dict
    status: int = 0  # what the fake answered
    method: str = "POST"
    answer: dict = field(default_factory=dict)


@dataclass
class Scripted:
    path: str  # answered for the first request whose path ends with this
    status: int
    body: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    headers: dict[str, str] = field(default_factory=dict)
    accept: bool = False  # carry the call out anyway (a 2xx status always is)
    actions: bool = False  # answers a sender action (typing_on, mark_seen), not a message


def graph_error(message: str, code: int, subcode: int | None = None, transient: bool = False) -> dict:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient:
        error["is_transient"] = True
    return {"error": error}


class FakeGraph:
    def __init__(self, token: str | None = None, instagram: bool = False) -> None:
        self.token = token  # the Page access token it accepts (None: any)
        self.instagram = instagram  # the Page speaks for an Instagram account: Instagram's limits
        self.instagram_account: str | None = None  # the account linked to the Page (GET /me)
        self.subscriptions: dict[str, list[str]] = {}  # app id -> the Page fields it is subscribed to
        self.calls: list[Call] = []
        self.script: list[Scripted] = []
        self.last_customer: dict[str, dt.datetime] = {}  # psid -> when they last wrote
        self.blocked_users: set[str] = set()
        self.locales: dict[str, str] = {}  # psid -> locale the User Profile API returns
        self.outage_until = 0.0  # monotonic time until which every call gets 503
        self._rate: tuple[int, float] | None = None  # (calls allowed, window in seconds)
        self._stamps: list[float] = []
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
                call = Call(url.path, {k: v[0] for k, v in parse_qs(url.query).items()}, body, method=method)
                status, answer, delay, headers = fake._answer(call)
                time.sleep(delay)
                call.status, call.answer = status, answer
                with fake._changed:  # recorded before answering, so the client never runs ahead of it
                    fake.calls.append(call)
                    fake._changed.notify_all()
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeGraph:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests set up ---------------------------------------------------------------------

    def then(
        self,
        path: str,
        status: int,
        body: dict | None = None,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        accept: bool = False,
        actions: bool = False,
    ) -> None:
        """Answer the next request to `path` with `status` (and `body`), after `delay` seconds. A
        2xx (or `accept`) carries the call out as usual and answers it late: with a `delay` over
        the client's timeout, a message that went out whose answer never came. Sender actions
        (typing_on, mark_seen) are answered by what is scripted with `actions` only."""
        with self._changed:
            self.script.append(Scripted(path, status, body or {}, delay, headers or {}, accept, actions))

    def down(self, seconds: float) -> None:
        """A Graph outage: for `seconds`, every call is answered 503, code 2, `is_transient`."""
        self.outage_until = time.monotonic() + seconds

    def up(self) -> None:
        self.outage_until = 0.0

    def rate_limit(self, calls: int, window: float) -> None:
        """Allow `calls` Send API calls per `window` seconds; over that, code 613 (HTTP 400) with
        the X-Business-Use-Case-Usage header naming the wait."""
        self._rate = (calls, window)

    def customer_wrote(self, psid: str, at: dt.datetime) -> None:
        self.last_customer[psid] = at

    def blocked(self, psid: str) -> None:
        self.blocked_users.add(psid)

    # --- what tests read -----------------------------------------------------------------------

    def wait(self, predicate, timeout: float = 10.0) -> list[Call]:
        """Block until `predicate(calls)` holds; fail the test if it does not in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Graph API: condition not met; calls: {self.calls}")
                self._changed.wait(left)
            return list(self.calls)

    def accepted(self, psid: str | None = None) -> list[Call]:
        """The /me/messages calls carrying a message that the fake carried out, in order."""
        return [
            c
            for c in self.calls
            if c.path.endswith("/me/messages") and "message" in c.body and "message_id" in c.answer
            if psid is None or c.body["recipient"]["id"] == psid
        ]

    def sent(self, psid: str | None = None) -> list[dict]:
        """Messages the customer received, in order: the `message` objects, without the `metadata`
        (which the customer never sees; it comes back in the echo)."""
        return [{k: v for k, v in c.body["message"].items() if k != "metadata"} for c in self.accepted(psid)]

    def echo(self, call: Call) -> dict:
        """The webhook delivery Meta sends (field `message_echoes`) for a message it carried out."""
        message = call.body["message"]
        echoed = {"is_echo": True, "app_id": APP_ID, "mid": call.answer["message_id"]}
        if "metadata" in message:
            echoed["metadata"] = message["metadata"]
        if "text" in message:
            echoed["text"] = message["text"]
        stamp = int(time.time() * 1000)
        event = {
            "sender": {"id": PAGE_ID},
            "recipient": {"id": call.body["recipient"]["id"]},
            "timestamp": stamp,
            "message": echoed,
        }
        kind, owner = (
            ("instagram", self.instagram_account or PAGE_ID) if self.instagram else ("page", PAGE_ID)
        )
        return {"object": kind, "entry": [{"id": owner, "time": stamp, "messaging": [event]}]}

    def requests(self) -> list[Call]:
        """Every call but the sender actions (typing_on, mark_seen), in order."""
        return [c for c in self.calls if "sender_action" not in c.body]

    def paths(self) -> list[str]:
        """The last part of each call's path, sender actions left out (see `actions`)."""
        return [c.path.rsplit("/", 1)[-1] for c in self.requests()]

    def actions(self, psid: str | None = None) -> list[str]:
        """The sender actions (typing_on, mark_seen…) sent, in order."""
        return [
            c.body["sender_action"]
            for c in self.calls
            if "sender_action" in c.body and (psid is None or c.body["recipient"]["id"] == psid)
        ]

    # --- how it answers ------------------------------------------------------------------------

    def _answer(self, call: Call) -> tuple[int, dict, float, dict[str, str]]:
        with self._changed:
            for i, scripted in enumerate(self.script):
                if call.path.endswith(scripted.path) and scripted.actions == ("sender_action" in call.body):
                    del self.script[i]
                    if scripted.accept or 200 <= scripted.status < 300:  # carried out, answered late
                        status, answer, headers = self._carry_out(call)
                        return status, answer, scripted.delay, {**headers, **scripted.headers}
                    return scripted.status, scripted.body, scripted.delay, scripted.headers
        if time.monotonic() < self.outage_until:
            return 503, graph_error("(#2) Service temporarily unavailable", 2, transient=True), 0.0, {}
        status, answer, headers = self._carry_out(call)
        return status, answer, 0.0, headers

    def _carry_out(self, call: Call) -> tuple[int, dict, dict[str, str]]:
        if self.token is not None and call.query.get("access_token") != self.token:
            return 400, graph_error("Invalid OAuth access token - Cannot parse access token", 190), {}
        if call.method == "GET":
            return self._read(call)
        path = call.path.rsplit("/me/", 1)[-1]
        if path == "messages":
            limited = self._over_rate()
            if limited is not None:
                return limited
            problem = self._messages_problem(call.body)
        elif path in ("pass_thread_control", "take_thread_control"):
            problem = self._control_problem(call.body, path)
        else:
            problem = None
        if problem is not None:
            return 400, problem, {}
        if path == "messages" and "message" in call.body:
            recipient = call.body["recipient"]["id"]
            return 200, {"recipient_id": recipient, "message_id": f"m_{len(self.calls) + 1}"}, {}
        if path == "messages":
            return 200, {"recipient_id": call.body["recipient"]["id"]}, {}
        if path == "subscribed_apps":
            fields = str(call.body.get("subscribed_fields") or call.query.get("subscribed_fields") or "")
            self.subscriptions[APP_ID] = [f for f in fields.split(",") if f]
        return 200, {"success": True}, {}

    def _over_rate(self) -> tuple[int, dict, dict[str, str]] | None:
        if self._rate is None:
            return None
        calls, window = self._rate
        moment = time.monotonic()
        self._stamps = [s for s in self._stamps if moment - s < window]
        if len(self._stamps) < calls:
            self._stamps.append(moment)
            return None
        wait = max(1, round((window - (moment - self._stamps[0])) / 60 + 0.5))  # whole minutes
        usage = {PAGE_ID: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": wait}]}
        error = graph_error("(#613) Calls to this api have exceeded the rate limit.", 613, transient=True)
        return 400, error, {"X-Business-Use-Case-Usage": json.dumps(usage)}

    def _messages_problem(self, body: dict) -> dict | None:
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient.get("id"):
            return graph_error("(#100) The parameter recipient is required", 100)
        psid = str(recipient["id"])
        if ("message" in body) == ("sender_action" in body):
            return graph_error("(#100) Exactly one of message and sender_action must be given", 100)
        if psid in self.blocked_users:
            return graph_error("(#551) This person isn't available right now.", 551, 1545041)
        if "sender_action" in body:
            if body["sender_action"] not in SENDER_ACTIONS:
                return graph_error("(#100) Param sender_action must be one of " + str(SENDER_ACTIONS), 100)
            return None
        kind, tag = body.get("messaging_type"), body.get("tag")
        if kind not in MESSAGING_TYPES:
            return graph_error("(#100) Param messaging_type must be one of " + str(MESSAGING_TYPES), 100)
        if (kind == "MESSAGE_TAG") != (tag is not None) or (tag is not None and tag not in TAGS):
            return graph_error("(#100) Param tag goes with messaging_type MESSAGE_TAG only", 100)
        problem = _message_problem(body["message"])
        if problem is None and self.instagram:
            problem = _instagram_problem(body["message"])
        if problem is not None:
            return problem
        return self._window_problem(psid, tag)

    def _window_problem(self, psid: str, tag: str | None) -> dict | None:
        last = self.last_customer.get(psid)
        if last is None:
            return None
        age = dt.datetime.now(dt.UTC) - last
        allowed = dt.timedelta(days=7) if tag == "HUMAN_AGENT" else dt.timedelta(hours=24)
        if age > allowed:
            return graph_error("(#10) This message is sent outside of allowed window.", 10, 2018278)
        return None

    @staticmethod
    def _control_problem(body: dict, path: str) -> dict | None:
        if not isinstance(body.get("recipient"), dict) or not body["recipient"].get("id"):
            return graph_error("(#100) The parameter recipient is required", 100)
        if path == "pass_thread_control" and not body.get("target_app_id"):
            return graph_error("(#100) The parameter target_app_id is required", 100)
        metadata = body.get("metadata")
        if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 1000):
            return graph_error("(#100) Param metadata must be at most 1000 characters long", 100)
        return None

    def _read(self, call: Call) -> tuple[int, dict, dict[str, str]]:
        if call.path.endswith("/me"):
            page: dict = {"id": PAGE_ID, "name": "Negozio di prova"}
            if self.instagram_account is not None:
                page["instagram_business_account"] = {"id": self.instagram_account}
            return 200, page, {}
        if call.path.endswith("/me/subscribed_apps"):
            apps = [
                {"id": app, "name": "faqbot", "subscribed_fields": f} for app, f in self.subscriptions.items()
            ]
            return 200, {"data": apps}, {}
        if self.instagram and "locale" in call.query.get("fields", ""):
            return 400, graph_error("(#100) Tried accessing nonexisting field (locale)", 100), {}
        return self._profile(call)

    def _profile(self, call: Call) -> tuple[int, dict, dict[str, str]]:
        psid = call.path.rsplit("/", 1)[-1]
        if psid not in self.locales:
            return 400, graph_error("(#100) Unsupported get request or missing permission", 100, 33), {}
        return 200, {"id": psid, "locale": self.locales[psid]}, {}


def _message_problem(message) -> dict | None:
    if not isinstance(message, dict):
        return graph_error("(#100) Param message must be an object", 100)
    text = message.get("text")
    if text is None and "attachment" not in message:
        return graph_error("(#100) Must send either message text or an attachment", 100)
    if text is not None and (not isinstance(text, str) or not text.strip()):
        return graph_error("(#100) Param message[text] must be a non-empty UTF-8 encoded string", 100)
    if isinstance(text, str) and len(text) > 2000:
        return graph_error("(#100) Length of param message[text] must be less than or equal to 2000", 100)
    metadata = message.get("metadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > 1000):
        return graph_error("(#100) Length of param message[metadata] must be at most 1000", 100)
    quick = message.get("quick_replies")
    if quick is None:
        return None
    if not isinstance(quick, list) or len(quick) > 13:
        return graph_error("(#100) param message[quick_replies] must have at most 13 elements", 100)
    for reply in quick:
        if not isinstance(reply, dict) or reply.get("content_type") not in QUICK_REPLY_TYPES:
            return graph_error("(#100) Invalid content_type of a quick reply", 100)
        if reply["content_type"] != "text":
            continue
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not title or len(title) > 20:
            return graph_error("(#100) A quick reply's title must have 1 to 20 characters", 100)
        if not isinstance(payload, str | int) or not str(payload) or len(str(payload)) > 1000:
            return graph_error("(#100) A quick reply's payload must have 1 to 1000 characters", 100)
    return None


def _instagram_problem(message: dict) -> dict | None:
    """What Instagram refuses on top of Messenger's rules."""
    text = message.get("text")
    if isinstance(text, str) and len(text) > 1000:
        return graph_error("(#100) Length of param message[text] must be less than or equal to 1000", 100)
    for reply in message.get("quick_replies") or []:
        if reply.get("content_type") != "text":
            return graph_error("(#100) Instagram quick replies only support plain text", 100)
    payload = (message.get("attachment") or {}).get("payload") or {}
    if isinstance(payload, dict) and payload.get("template_type") not in (None, "generic"):
        return graph_error(
            f"(#100) Template {payload.get('template_type')} is not supported on Instagram", 100
        )
    return None
