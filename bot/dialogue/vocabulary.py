"""What a reply's decision and reason can be: the strings replies, logs, the store and the API carry."""

from __future__ import annotations

from enum import StrEnum


class DecisionKind(StrEnum):
    """What the bot does with a message (a reply's `decision`, as stored and sent)."""

    ANSWER = "answer"
    CLARIFY = "clarify"  # "did you mean…", with the likely articles as choices
    HANDOFF = "handoff"
    # A greeting, thanks or goodbye: answered in kind before any search (see bot.dialogue.smalltalk).
    SMALLTALK = "smalltalk"
    # A person holds the conversation: the bot says nothing (the message waits for them).
    AGENT = "agent"


class Reason(StrEnum):
    """Why the bot decided what it did (a reply's, a bot message's or a hand-off ticket's `reason`)."""

    # answer
    CONFIDENT = "confident"
    PICKED = "picked"  # an article the last clarification offered, picked by number or title
    IN_CONTEXT = "in_context"  # a short follow-up, read after the title of the last answer
    # clarify
    UNCERTAIN = "uncertain"
    CLOSE_CALL = "close_call"  # confident, but the runner-up ranks as high
    NONE_FIT = "none_fit"  # "none of these" to a "did you mean": asked to say it in other words
    # handoff
    LOW_CONFIDENCE = "low_confidence"
    REQUESTED = "requested"  # the customer asked for a person
    REPEATED_MISS = "repeated_miss"
    NEGATIVE_FEEDBACK = "negative_feedback"  # said (or showed with 👎) that an answer did not help
    AGENT_HOLDS = "agent_holds"  # a person holds the conversation: the bot stays silent
    INBOX = "inbox"  # the channel's own inbox (Messenger's Page Inbox) took the thread
    # smalltalk: the kind of message
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    ACK = "ack"
    # a channel's messages outside a turn
    TEXT_ONLY = "text_only"  # an attachment, which the bot cannot read
    LINK_ONLY = "link_only"  # only a link, which the bot cannot open
    STALE_BUTTON = "stale_button"  # a button of an old menu or a message that no longer applies
    START_OVER = "start_over"
