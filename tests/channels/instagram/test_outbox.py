"""Instagram replies survive a Graph API outage: kept in the outbox (rows of channel "instagram"),
sent in order when it ends, and counted in /metrics under channel="instagram"."""

from __future__ import annotations

import time

from tests.messenger_kit import text

QUESTIONS = ["spese di spedizione", "come faccio un reso", "ho dimenticato la password"]


def eventually(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_an_outage_keeps_replies_and_the_outbox_drains_in_order(open_account, ig_graph):
    account = open_account(replay_interval=0.1)
    ig_graph.down(60)
    for question in QUESTIONS:
        assert account.deliver(text("igsid-1", question)) == 200
        account.settle()
    store = account.store
    assert ig_graph.sent("igsid-1") == [] and store.outbound_depth("instagram") == 3
    assert store.outbound_depth("messenger") == 0
    assert account.metric('faqbot_channel_outbox_depth{channel="instagram"}') == 3
    assert account.metric('faqbot_channel_send_failures_total{channel="instagram",code="2"}') >= 1
    ig_graph.up()
    ig_graph.wait(lambda calls: len(ig_graph.sent("igsid-1")) == 3, timeout=15)
    replies = [m["text"].lower() for m in ig_graph.sent("igsid-1")]
    assert "spedizione" in replies[0] and "reso" in replies[1] and "password" in replies[2]
    eventually(lambda: store.outbound_depth("instagram") == 0)
    time.sleep(0.3)
    assert len(ig_graph.sent("igsid-1")) == 3  # each once
