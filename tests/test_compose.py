"""The composition root: objects built from settings in one place."""

from __future__ import annotations

from bot.compose import open_store
from bot.config import Settings


def test_the_store_is_sqlite_under_var_with_the_configured_time_limits(isolated_home):
    store = open_store(Settings(db_connect_timeout=7.0, db_idle_timeout=30.0).storage)
    try:
        assert store.url == f"sqlite:///{isolated_home / 'var' / 'faqbot.db'}"
        assert (store.limits.connect, store.limits.lock, store.limits.idle_in_transaction) == (
            7.0,
            10.0,
            30.0,
        )
    finally:
        store.close()
