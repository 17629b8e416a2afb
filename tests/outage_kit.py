"""Fixtures for outage tests: a throw-away schema on the test PostgreSQL, reached through a TCP proxy
the test can cut (the shared server itself is never stopped); a SQLite store that can be taken
away; and a bot over the small KB with the fake embedder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.storage.store import Store, StoreUnavailable
from tests.tcp_proxy import TcpProxy


def base_url() -> str:
    url = os.environ.get("FAQBOT_TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs PostgreSQL: set FAQBOT_TEST_DATABASE_URL")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def schema_url(base: str, schema: str, port: int | None = None) -> str:
    """`base` with its search path set to `schema` (and its port changed, to go through a proxy)."""
    url = make_url(base)
    if port is not None:
        url = url.set(host="127.0.0.1", port=port)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """The name of a fresh, empty schema on the test PostgreSQL, dropped afterwards."""
    base = base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def db_proxy() -> Iterator[TcpProxy]:
    """A proxy to the test PostgreSQL that the test cuts and restores."""
    url = make_url(base_url())
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_url(pg_schema, db_proxy) -> str:
    """A database URL for a fresh schema, reached through `db_proxy`."""
    return schema_url(base_url(), pg_schema, db_proxy.port)


class SwitchableStore(Store):
    """A store whose database can be taken away (every transaction then fails as an unreachable
    one does) or made to fail right after committing (the connection dropped before the answer)."""

    down = False
    drop_after_commit = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self.down:
            raise StoreUnavailable("database unreachable (taken away by the test)")
        with super().session() as session:
            yield session
        if self.drop_after_commit:
            self.drop_after_commit = False
            raise StoreUnavailable("connection lost after COMMIT was sent (test)", in_doubt=True)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        if self.down:
            raise StoreUnavailable("database unreachable (taken away by the test)")
        with super().reading() as session:
            yield session


@dataclass
class Outage:
    """A store, and how to take its database away and give it back."""

    store: Store
    cut: Callable[[], None]
    restore: Callable[[], None]


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, tmp_path) -> Iterator[Outage]:
    """SQLite taken away by a switch, or PostgreSQL cut off for real behind a TCP proxy."""
    if request.param == "sqlite":
        store = SwitchableStore(f"sqlite:///{tmp_path / 'outage.db'}").open()

        def switch(down: bool) -> Callable[[], None]:
            return lambda: setattr(store, "down", down)

        yield Outage(store, switch(True), switch(False))
    else:
        proxy = request.getfixturevalue("db_proxy")
        store = Store(request.getfixturevalue("proxied_url")).open()
        yield Outage(store, proxy.cut, proxy.restore)
    store.close()
