"""Agents with names: `faqbot agents add` creates one (argon2id hash, never the password), the
console signs them in with their own password and language, and their replies carry their name."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.config import Settings
from bot.service.agents import add_agent, authenticate
from bot.web.app import create_app
from tests.web.admin.test_console import CSRF, TOKEN, chat
from tests.web.test_app import service_factory  # noqa: F401 - fixture

PASSWORD = "lungo-e-segreto-42"


@pytest.fixture
def console(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    service = service_factory()
    add_agent(service.store, "Giulia", "it", PASSWORD)
    with TestClient(create_app(Settings(), service), follow_redirects=False) as client:
        client.service = service
        yield client


def sign_in(client, name: str, secret: str):
    page = client.get("/admin/login")
    return client.post(
        "/admin/login", data={"csrf": CSRF.search(page.text).group(1), "token": secret, "name": name}
    )


def test_the_password_is_kept_only_as_an_argon2id_hash(console):
    agent = console.service.store.agent("Giulia")
    assert agent.password_hash.startswith("$argon2id$") and PASSWORD not in agent.password_hash
    assert authenticate(console.service.store, "Giulia", PASSWORD).name == "Giulia"
    assert authenticate(console.service.store, "Giulia", "wrong-password") is None
    assert authenticate(console.service.store, "Nobody", PASSWORD) is None
    with pytest.raises(ValueError, match="at least"):
        add_agent(console.service.store, "Marco", "it", "short")
    with pytest.raises(ValueError, match="exists already"):
        add_agent(console.service.store, "Giulia", "en", PASSWORD)


def test_an_agent_signs_in_with_their_password_and_language_and_their_reply_carries_their_name(console):
    assert sign_in(console, "Giulia", "wrong-password").status_code == 401
    signed = sign_in(console, "Giulia", PASSWORD)
    assert signed.status_code == 303 and "faqbot_console_lang=it" in signed.headers.get("set-cookie", "")
    cid = chat(console, "voglio parlare con un operatore")["conversation_id"]
    page = console.get(f"/admin/conversations/{cid}")
    assert '<html lang="it">' in page.text  # the agent's own language
    csrf = CSRF.search(page.text).group(1)
    assert (
        console.post(f"/admin/conversations/{cid}/reply", data={"csrf": csrf, "text": "Ciao!"}).status_code
        == 303
    )
    (reply,) = [m for m in console.service.store.messages(cid) if m.role == "agent"]
    assert reply.author == "Giulia"
    page = console.get(f"/admin/conversations/{cid}").text
    assert (
        "operatore (Giulia)" in page and "Ti risponde Giulia del servizio clienti." in page
    )  # her reply claimed it
    transcript = console.get(
        f"/api/v1/admin/conversations/{cid}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert [m["author"] for m in transcript.json()["messages"] if m["role"] == "agent"] == ["Giulia"]


def test_a_disabled_agent_cannot_sign_in(console):
    console.service.store.disable_agent("Giulia")
    assert sign_in(console, "Giulia", PASSWORD).status_code == 401
    assert sign_in(console, "Giulia", TOKEN).status_code == 303  # the admin token still works


def test_faqbot_agents_add_list_password_disable(isolated_home):
    runner = CliRunner()
    added = runner.invoke(cli, ["agents", "add", "Marco", "--lang", "en", "--password", PASSWORD])
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    listed = runner.invoke(cli, ["agents", "list"])
    assert "Marco\ten\tactive" in listed.output
    again = runner.invoke(cli, ["agents", "add", "Marco", "--password", PASSWORD])
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(cli, ["agents", "add", "Anna", "--password", "short"])
    assert short.exit_code == 1 and "at least" in short.output
    prompted = runner.invoke(cli, ["agents", "add", "Anna"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert (
        runner.invoke(cli, ["agents", "password", "Anna", "--password", "nuova-password-99"]).exit_code == 0
    )
    assert runner.invoke(cli, ["agents", "disable", "Marco"]).exit_code == 0
    assert "Marco\ten\tdisabled" in runner.invoke(cli, ["agents", "list"]).output
