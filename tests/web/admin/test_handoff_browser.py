"""The whole hand-off in a real browser (Debian's Chromium) against a real `faqbot serve`, with a
customer (the widget on the demo page) and an agent (the console, signed in with her own password)
side by side: the customer asks for a person and is told the wait; the agent is alerted live,
claims, answers with a canned reply; the customer sees her name and bubble; the customer writes
again and the bot stays silent while the agent sees it arrive; the agent hands back to the bot and
the customer, with the panel closed, sees the unread badge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_kit import own_home, serving
from tests.web.test_widget_browser import ADMIN_TOKEN, ask, browser  # noqa: F401 - fixture

pytestmark = pytest.mark.model
PASSWORD = "una password lunga abbastanza"
FAQBOT = str(Path(sys.executable).with_name("faqbot"))


@pytest.fixture(scope="module")
def desk(sample_home, tmp_path_factory):
    """A server of its own, with agent Giulia created as a team creates her (`faqbot agents add`)."""
    home = tmp_path_factory.mktemp("handoff-browser")
    env = own_home(sample_home, home, FAQBOT_ADMIN_TOKEN=ADMIN_TOKEN, FAQBOT_CONSOLE_LANG="it")
    added = subprocess.run(
        [FAQBOT, "agents", "add", "Giulia", "--lang", "it", "--password", PASSWORD],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with serving(env, home / "server.log") as (base, _port):
        yield base


def widget(page):
    return page.locator("#faqbot-widget")


def test_a_customer_and_an_agent_side_by_side(desk, browser):  # noqa: F811
    errors: list[str] = []
    agent_context = browser.new_context(viewport={"width": 1280, "height": 900})
    customer_context = browser.new_context(viewport={"width": 1100, "height": 860})
    agent, customer = agent_context.new_page(), customer_context.new_page()
    for page in (agent, customer):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        # The agent signs in with her own password and prepares a canned reply.
        agent.goto(f"{desk}/admin/login")
        agent.fill("input[name=name]", "Giulia")
        agent.fill("input[name=token]", PASSWORD)
        agent.click("form.login button")
        agent.wait_for_url(f"{desk}/admin")
        agent.goto(f"{desk}/admin/canned")
        agent.select_option("#canned-lang", "it")
        agent.fill("#canned-title", "Saluto")
        agent.fill("#canned-text", "Buongiorno, sono Giulia: controllo subito il suo ordine.")
        with agent.expect_navigation():
            agent.click("form.canned-form button")
        agent.goto(f"{desk}/admin/handoffs")
        assert agent.locator("tr[data-conversation]").count() == 0

        # The customer asks for a person and is told the wait, with a short reference.
        customer.goto(f"{desk}/")
        customer.click(".fb-launcher")
        ask(customer, "voglio parlare con un operatore")
        notice = customer.locator('.fb-msg[data-decision="handoff"]').first
        notice.wait_for()
        told = notice.inner_text()
        assert "attesa stimata" in told and "minut" in told
        assert "nessun operatore è collegato" not in told, "Giulia has the console open"
        reference = customer.locator(".fb-handoff").first.inner_text()
        assert "LC-" in reference

        # The agent is alerted live: the row appears and the alert badge counts it, no reload.
        row = agent.locator("tr[data-conversation]").first
        row.wait_for(timeout=5_000)
        assert agent.locator("[data-alerts]").is_visible()
        assert agent.title().startswith("(")
        assert "voglio parlare con un operatore" in row.inner_text()
        with agent.expect_navigation():
            row.locator("a").click()

        # She claims it: the customer is told who answers.
        with agent.expect_navigation():
            agent.click("form[action$='/claim']:not(.assign) button")
        customer.locator('.fb-msg[data-role="system"]', has_text="Giulia").wait_for(timeout=10_000)

        # She answers with the canned reply: her name and her own bubble in the widget.
        agent.select_option("#canned", label="Saluto")
        assert agent.input_value("#reply-text").startswith("Buongiorno, sono Giulia")
        with agent.expect_navigation():
            agent.click("form[data-reply] button:not([name])")
        reply = customer.locator('.fb-msg[data-role="agent"]').first
        reply.wait_for(timeout=10_000)
        assert "controllo subito il suo ordine" in reply.inner_text()
        assert reply.locator(".fb-author").inner_text().startswith("Giulia")

        # The customer writes again: the bot stays silent; the agent sees it arrive live.
        bots_before = customer.locator('.fb-msg[data-role="bot"]').count()
        ask(customer, "grazie, aspetto")
        agent.locator('[data-transcript] li[data-role="user"]', has_text="grazie, aspetto").wait_for(
            timeout=5_000
        )
        customer.wait_for_timeout(500)
        assert customer.locator('.fb-msg[data-role="bot"]').count() == bots_before

        # The panel closed, the agent hands back to the bot: the customer sees the unread badge.
        customer.click(".fb-close")
        with agent.expect_navigation():
            agent.click("form.close button")
        badge = customer.locator(".fb-badge")
        badge.wait_for(timeout=10_000)
        assert int(badge.inner_text()) >= 1 and customer.title().startswith("(")
        customer.click(".fb-launcher")
        back = customer.locator('.fb-msg[data-role="system"]', has_text="assistente")
        assert back.count() == 1
        ask(customer, "Ho dimenticato la password")
        customer.locator('.fb-msg[data-role="bot"][data-decision="answer"]').last.wait_for()
        assert errors == []
    finally:
        agent_context.close()
        customer_context.close()
