"""The Bot: one customer turn in, one reply out (policy, intents, messages, business hours)."""
