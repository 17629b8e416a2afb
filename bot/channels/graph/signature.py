"""Webhook signatures: Meta signs every delivery with `X-Hub-Signature-256`, an HMAC-SHA256 of the
raw body keyed by the app secret. Check the raw bytes before parsing, in constant time."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends: sha256= and the HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_by(secret: bytes, body: bytes, header: str | None) -> bool:
    """Does `header` sign `body` with `secret`? Compared in constant time."""
    if not secret or not header:
        return False
    return hmac.compare_digest(header.strip().lower().encode(), signature(secret, body).encode())
