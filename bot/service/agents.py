"""Agents sign in to the console with their own name and password (argon2id hashes, argon2-cffi);
the admin token stays for scripts and the first sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.storage.schema import Agent
from bot.storage.store import Store

MIN_PASSWORD = 10  # characters
_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("not a password of anyone's")


def add_agent(store: Store, name: str, lang: str, password: str) -> Agent:
    """A new agent; ValueError for a bad name, language or a short password, or a taken name."""
    name = " ".join(name.split())
    if not name or len(name) > 64:
        raise ValueError("name: 1 to 64 characters")
    if lang not in ("it", "en"):
        raise ValueError("lang: it or en")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    return store.add_agent(name, lang, _hasher.hash(password))


def set_password(store: Store, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    store.set_agent_password(name, _hasher.hash(password))


def authenticate(store: Store, name: str, password: str) -> Agent | None:
    """The agent, if `name` is one (not disabled) and `password` is theirs; None otherwise."""
    agent = store.agent(name)
    try:
        _hasher.verify(agent.password_hash if agent is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if agent is None:
        return None
    if _hasher.check_needs_rehash(agent.password_hash):
        store.set_agent_password(agent.name, _hasher.hash(password))
    return agent
