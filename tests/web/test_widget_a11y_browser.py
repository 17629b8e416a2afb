"""The widget's accessibility in a real browser (Debian's Chromium) against a real `faqbot serve`:
keyboard focus, visible focus rings, touch targets, speaker labels, text direction, scrolling to a
long answer's start, and axe-core finding nothing in the shadow root."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.serve_kit import serving
from tests.web.test_widget_browser import ADMIN_TOKEN, agent_says, ask, bot_messages, browser, handoff_here  # noqa: F401

pytestmark = pytest.mark.model
SHADOW = "document.getElementById('faqbot-widget').shadowRoot"


@pytest.fixture(scope="module")
def server(sample_home, tmp_path_factory):
    """One `faqbot serve` for the module, on its own home (a copy of the sample index)."""
    home = tmp_path_factory.mktemp("a11y-home")
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',  # staffed now, whatever the clock says
        "FAQBOT_RATE_LIMIT_IP": "0",  # every test browses from 127.0.0.1
        "FAQBOT_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    with serving(env, tmp_path_factory.mktemp("a11y-server") / "server.log") as (base, _port):
        yield base


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


def active_class(page) -> str:
    """The class of the focused element inside the widget ("" when focus left the widget)."""
    return page.evaluate(f"() => {{ const a = {SHADOW}.activeElement; return a ? a.className : ''; }}")


def open_clarify(page, server: str) -> None:
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "spedizione")
    bot_messages(page, "clarify").first.wait_for()


def test_enter_on_a_did_you_mean_button_keeps_focus_in_the_widget_and_esc_closes(server, page):
    open_clarify(page, server)
    page.locator(".fb-suggestion").first.focus()
    page.keyboard.press("Enter")
    bot_messages(page, "answer").first.wait_for()
    assert page.evaluate("() => document.activeElement.id") == "faqbot-widget", "not <body>"
    assert "fb-input" in active_class(page)
    page.keyboard.press("Escape")
    assert page.locator(".fb-launcher").get_attribute("aria-expanded") == "false"
    assert "fb-launcher" in active_class(page)


def test_a_tapped_follow_up_leaves_focus_in_the_log_not_the_body(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    open_clarify(page, server)
    page.locator(".fb-suggestion").first.tap()
    bot_messages(page, "answer").first.wait_for()
    assert "fb-messages" in active_class(page), "the log, so a phone's keyboard stays down"
    page.keyboard.press("Escape")
    assert page.locator(".fb-launcher").get_attribute("aria-expanded") == "false"
    context.close()


# --- visible focus (WCAG 2.4.7) and its contrast (1.4.11) ---------------------------------------------

FOCUS_STYLE = """(el) => {
  const cs = getComputedStyle(el);
  const opaque = (c) => c && c !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(c);
  // What the ring is drawn on: the element itself when the ring is inset, else what is behind it.
  let node = parseFloat(cs.outlineOffset) < 0 ? el : (el.parentNode || el.host);
  let behind = "rgb(255, 255, 255)";
  while (node) {
    if (node.nodeType === 1 && opaque(getComputedStyle(node).backgroundColor)) {
      behind = getComputedStyle(node).backgroundColor;
      break;
    }
    node = node.parentNode || node.host;
  }
  return {visible: el.matches(":focus-visible"), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth),
          color: cs.outlineColor, behind};
}"""


def rgb(color: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", color)[:3])


def contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        ch = [v / 255 for v in rgb(c)]
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in ch]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def assert_focus_ring(page, selector: str) -> None:
    control = page.locator(selector).first
    page.keyboard.press("Shift")  # a keyboard user: programmatic focus then shows the ring
    control.focus()
    ring = control.evaluate(FOCUS_STYLE)
    assert ring["visible"], f"{selector} matches :focus-visible"
    assert ring["style"] != "none" and ring["width"] >= 2, f"{selector}: {ring}"
    assert contrast(ring["color"], ring["behind"]) >= 3, f"{selector}: ring {ring}"


def test_every_control_shows_a_focus_ring_with_enough_contrast(server, page):
    open_clarify(page, server)
    for selector in [
        ".fb-launcher", ".fb-reset", ".fb-close", ".fb-input", ".fb-send", ".fb-messages",
        ".fb-suggestion", ".fb-none", ".fb-person",
    ]:  # fmt: skip
        assert_focus_ring(page, selector)
    page.locator(".fb-suggestion").first.click()
    page.locator(".fb-feedback-up").first.wait_for()
    assert_focus_ring(page, ".fb-feedback-up")
    page.click(".fb-reset")
    assert_focus_ring(page, ".fb-confirm-yes")
    assert_focus_ring(page, ".fb-confirm-no")


# --- touch targets, text direction, speaker labels -----------------------------------------------------


def small_targets(page) -> list[str]:
    """Visible buttons and inputs in the widget smaller than 44 x 44 CSS pixels."""
    return page.evaluate(
        f"""() => [...{SHADOW}.querySelectorAll("button, input")]
          .map((b) => [b, b.getBoundingClientRect()])
          .filter(([b, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
          .map(([b, r]) => `${{b.className}} ${{r.width}}x${{r.height}}`)"""
    )


def count_targets(page) -> int:
    return page.evaluate(
        f"() => [...{SHADOW}.querySelectorAll('button, input')]"
        ".filter((b) => b.getBoundingClientRect().width).length"
    )


@pytest.mark.parametrize("viewport", [(1280, 860), (390, 844)], ids=["desktop", "phone"])
def test_touch_targets_are_at_least_44_px(server, browser, viewport):  # noqa: F811
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(f"{server}/")
    assert small_targets(page) == [], "the launcher"
    open_clarify(page, server)
    assert count_targets(page) >= 8 and small_targets(page) == []
    page.locator(".fb-suggestion").first.click()
    page.locator(".fb-feedback-up").first.wait_for()
    handoff_here(page, server)
    page.locator(".fb-contact-input").first.wait_for()
    page.click(".fb-reset")
    assert small_targets(page) == [], "answer, hand-off, e-mail form, the reset question"
    page.click(".fb-confirm-no")
    if viewport[0] > 480:  # on a phone the open panel covers the page, the launcher hides
        page.click(".fb-launcher")
        page.locator(".fb-nudge").wait_for()
        assert small_targets(page) == [], "the launcher and the e-mail offer beside it"
    context.close()


def test_message_text_and_input_have_dir_auto(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    assert page.get_attribute(".fb-input", "dir") == "auto"
    ask(page, "dove è il mio ordine?")
    bot_messages(page, "answer").first.wait_for()
    ticket = handoff_here(page, server)
    agent_says(server, ticket, "مرحبا، أنا جوليا")  # right-to-left text from an agent
    page.locator('.fb-msg[data-role="agent"]').first.wait_for(timeout=15_000)
    missing = page.evaluate(
        f"""() => [...{SHADOW}.querySelectorAll(
            '.fb-msg .fb-text, .fb-answer, .fb-answer-title, .fb-handoff p:first-child')]
          .filter((n) => n.getAttribute('dir') !== 'auto').map((n) => n.className || n.tagName)"""
    )
    assert missing == []
    agent = page.locator('.fb-msg[data-role="agent"] .fb-text').first
    assert agent.evaluate("(n) => getComputedStyle(n).direction") == "rtl"


def test_the_log_names_every_speaker_for_screen_readers(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    log = page.locator(".fb-messages")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    ask(page, "dove è il mio ordine?")
    bot_messages(page, "answer").first.wait_for()
    ticket = handoff_here(page, server)
    agent_says(server, ticket, "Buongiorno, eccomi.")
    page.locator('.fb-msg[data-role="agent"]').first.wait_for(timeout=15_000)
    said = page.evaluate(
        f"() => [...{SHADOW}.querySelectorAll('.fb-msg')].map((m) => [m.dataset.role, m.textContent])"
    )
    prefixes = {"user": "Tu: ", "bot": "Assistente: ", "agent": "Giulia:", "system": "Avviso: "}
    for role, text in said:
        assert text.startswith(prefixes[role]), (role, text)
    assert {role for role, _ in said} >= {"user", "bot", "agent"}
    # The labels are for screen readers only: nothing shows on screen.
    sizes = page.evaluate(
        f"() => [...{SHADOW}.querySelectorAll('.fb-msg > .fb-sr')]"
        ".map((n) => n.getBoundingClientRect().width)"
    )
    assert sizes and max(sizes) <= 1
    author = page.locator('.fb-msg[data-role="agent"] .fb-author').first
    assert author.inner_text().startswith("Giulia") and author.is_visible()


def test_a_long_answer_is_shown_from_its_start(server, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1000, "height": 470})  # a short panel
    page = context.new_page()
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "dove è il mio ordine?")
    answer = bot_messages(page, "answer").first
    answer.wait_for()
    page.wait_for_timeout(100)
    log = page.locator(".fb-messages").bounding_box()
    assert answer.bounding_box()["height"] > log["height"], "the answer is taller than the log"
    top = page.locator(".fb-answer-title").first.bounding_box()
    first = page.locator(".fb-answer > *").first.bounding_box()
    assert top["y"] >= log["y"] - 1 and first["y"] + min(first["height"], 40) <= log["y"] + log["height"]
    at_bottom = page.evaluate(
        f"() => {{ const l = {SHADOW}.querySelector('.fb-messages');"
        " return l.scrollTop + l.clientHeight >= l.scrollHeight - 2; }"
    )
    assert not at_bottom
    context.close()


# --- axe-core ----------------------------------------------------------------------------------------


def axe_source() -> str:
    """axe-core as shipped inside the axe-playwright-python package (a test dependency)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    assert spec is not None and spec.origin, "axe-playwright-python is a test dependency: make install"
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


AXE_RUN = """async () => {
  const result = await axe.run({include: [["#faqbot-widget"]]}, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    rules: {region: {enabled: false}},  // the host page's landmarks are the host page's business
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""


def axe_violations(page) -> list[str]:
    return page.evaluate(AXE_RUN)


def test_axe_finds_nothing_in_the_widget(server, page):
    source = axe_source()
    page.goto(f"{server}/")
    page.evaluate(source)
    assert axe_violations(page) == [], "closed"
    page.click(".fb-launcher")
    assert axe_violations(page) == [], "empty"
    ask(page, "spedizione")
    bot_messages(page, "clarify").first.wait_for()
    page.locator(".fb-suggestion").first.click()
    page.locator(".fb-feedback-up").first.wait_for()
    ticket = handoff_here(page, server)
    page.locator(".fb-contact-input").first.wait_for()
    assert axe_violations(page) == [], "answer, clarify, hand-off, e-mail form"
    page.click(".fb-reset")
    assert axe_violations(page) == [], "the reset question"
    page.click(".fb-confirm-no")
    page.click(".fb-close")
    page.locator(".fb-nudge").wait_for()
    assert axe_violations(page) == [], "the e-mail offer beside the launcher"
    agent_says(server, ticket, "Buongiorno, sono Giulia.")
    page.locator(".fb-badge").wait_for(timeout=15_000)
    page.click(".fb-launcher")
    assert axe_violations(page) == [], "an agent's reply"
