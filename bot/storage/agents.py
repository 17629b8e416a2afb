"""Agent accounts in the store (the console signs agents in; bot.service.agents hashes passwords)."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.connection import StoreBase
from bot.storage.schema import Agent, now


class Agents(StoreBase):
    def add_agent(self, name: str, lang: str, password_hash: str) -> Agent:
        """A new agent; ValueError if the name is taken."""
        with self.session() as session:
            if session.get(Agent, name) is not None:
                raise ValueError(f"an agent named {name!r} exists already")
            agent = Agent(name=name, lang=lang, password_hash=password_hash, created_at=now())
            session.add(agent)
            return agent

    def agent(self, name: str) -> Agent | None:
        """The agent named `name`, if there is one and it is not disabled."""
        with self.reading() as session:
            found = session.get(Agent, name)
        return found if found is not None and found.disabled_at is None else None

    def agents(self) -> list[Agent]:
        with self.reading() as session:
            return list(session.scalars(select(Agent).order_by(Agent.name)).all())

    def set_agent_password(self, name: str, password_hash: str) -> None:
        with self.session() as session:
            found = session.get(Agent, name)
            if found is None:
                raise LookupError(f"no agent {name!r}")
            found.password_hash = password_hash

    def disable_agent(self, name: str) -> None:
        with self.session() as session:
            found = session.get(Agent, name)
            if found is None:
                raise LookupError(f"no agent {name!r}")
            found.disabled_at = now()
