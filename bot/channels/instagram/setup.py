"""What `faqbot instagram setup` checks with the linked Page's token: the Page, the Instagram
account linked to it, and the app subscribed to the Page's `messages` field (added with --apply).

Instagram's own webhook fields are chosen in the App Dashboard (the Instagram object), which a Page
token cannot read: they are listed in FIELDS for the README and the command's output."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.channels.graph.client import Graph
from bot.config import InstagramSettings

# The Instagram object's webhook fields the bot needs: messages (and quick replies, and the echoes of
# our own messages), postbacks (ice breakers), thread control, messages while the inbox holds a
# thread; seen, reactions and referrals are read and not answered.
FIELDS = [
    "messages", "messaging_postbacks", "messaging_handover", "standby", "messaging_seen",
    "message_reactions", "messaging_referral",
]  # fmt: skip
PAGE_FIELDS = ["messages"]  # the Page subscription Instagram's webhooks need (any field would do)


@dataclass
class Report:
    """What the checks found: `lines` to show, `problems` that stop the channel from working."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check(graph: Graph, settings: InstagramSettings, apply: bool = False) -> Report:
    """Check the Page and its Instagram account, and the app's subscription to the Page (with
    `apply`, subscribe it, keeping the fields it already has)."""
    report = Report()
    page = graph.get("me", {"fields": "id,name,instagram_business_account"})
    page_id = str(page.get("id") or "")
    report.lines.append(f"Page {page_id} ({page.get('name', '?')})")
    if settings.page_id and settings.page_id != page_id:
        report.problems.append(
            f"the token is the Page {page_id}'s, not FAQBOT_INSTAGRAM_PAGE_ID's {settings.page_id}"
        )
    linked = str((page.get("instagram_business_account") or {}).get("id") or "")
    if not linked:
        report.problems.append(f"no Instagram professional account is linked to the Page {page_id}")
    elif settings.account_id and settings.account_id != linked:
        report.problems.append(
            f"the Page is linked to the Instagram account {linked}, not to "
            f"FAQBOT_INSTAGRAM_ACCOUNT_ID's {settings.account_id}"
        )
    else:
        report.lines.append(f"Instagram account {linked} linked to the Page")
        if not settings.account_id:
            report.lines.append(f"hint: export FAQBOT_INSTAGRAM_ACCOUNT_ID={linked}")
    _subscription(graph, settings, apply, report)
    report.lines.append("Instagram webhook fields (App Dashboard, Instagram object): " + ", ".join(FIELDS))
    return report


def _subscription(graph: Graph, settings: InstagramSettings, apply: bool, report: Report) -> None:
    apps = [a for a in graph.get("me/subscribed_apps").get("data") or [] if isinstance(a, dict)]
    ours = [a for a in apps if not settings.app_id or str(a.get("id")) == settings.app_id]
    fields = {str(f) for a in ours for f in a.get("subscribed_fields") or []}
    if ours and set(PAGE_FIELDS) <= fields:
        names = ", ".join(str(a.get("name") or a.get("id") or "?") for a in ours)
        report.lines.append(f"app subscribed to the Page's messages: {names}")
        return
    if not apply:
        report.problems.append(
            "the app is not subscribed to the Page's messages field: run again with --apply"
        )
        return
    graph.post("me/subscribed_apps", {"subscribed_fields": ",".join(sorted(fields | set(PAGE_FIELDS)))})
    report.lines.append("done: the app subscribed to the Page's messages field")
