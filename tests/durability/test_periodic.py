"""The background job runner of the spool replayer and the channel inbox."""

from __future__ import annotations

import threading

import pytest

from bot.durability.periodic import Periodic


def test_the_job_runs_repeatedly_survives_failures_and_runs_once_more_on_stop():
    calls: list[str] = []
    twice = threading.Event()

    def job() -> None:
        calls.append(threading.current_thread().name)
        if len(calls) >= 3:
            twice.set()
        if len(calls) == 1:
            raise RuntimeError("a bad moment")  # must not end the thread

    loop = Periodic("test-periodic", 0.01, job)
    loop.start()
    assert twice.wait(5)
    loop.stop()
    assert calls[0] == "test-periodic"
    assert calls[-1] == threading.current_thread().name  # the last run happens in stop()


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError, match="interval"):
        Periodic("x", 0, lambda: None)
