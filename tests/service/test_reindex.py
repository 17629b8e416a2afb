"""Rebuilds started from the admin API: one at a time, under the nightly job's lock."""

from __future__ import annotations

import fcntl
import threading

from bot.index.versions import current_version
from bot.service.reindex import start_rebuild
from tests.conftest import FakeEmbedder


def test_a_rebuild_runs_in_the_background_then_calls_back(small_kb, settings):
    done = threading.Event()
    assert start_rebuild(settings.build, settings.dialogue, FakeEmbedder(), done.set)
    assert done.wait(60)
    assert current_version(settings.index_path) is not None
    again = threading.Event()  # the lock was released: another may start
    assert start_rebuild(settings.build, settings.dialogue, FakeEmbedder(), again.set)
    assert again.wait(60)


def test_no_rebuild_starts_while_another_holds_the_lock(settings):
    settings.index_path.mkdir(parents=True)
    with open(settings.index_path / ".rebuild.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the nightly job, running
        assert not start_rebuild(settings.build, settings.dialogue, FakeEmbedder(), lambda: None)
