"""Kraken spot REST signing (https://docs.kraken.com/api/docs/guides/spot-rest-auth).

``API-Sign`` = base64(HMAC-SHA512(key = base64-decoded API secret,
message = URI path + SHA256(nonce + POST data))), where the POST data is the url-encoded
body exactly as sent (it carries ``nonce``, which must rise with every call of the key) and
``API-Key`` carries the key. The guide publishes a worked example (secret, nonce, body, path
and the expected signature); tests/test_kraken_signing.py checks it.

Nonce (same guide, and https://docs.kraken.com/api/docs/guides/spot-errors): an unsigned
64-bit integer that must exceed the last one the key used, else ``EAPI:Invalid nonce``; the
guide's example is a millisecond timestamp, which is what :class:`Nonces` issues.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode


def signature(secret_b64: str, uri_path: str, nonce: str, post_data: str) -> str:
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class Nonces:
    """Strictly increasing millisecond nonces for one key. ``next(venue_ms)`` never goes below
    this machine's clock, the venue's clock (``venue_ms``: learnt after an ``Invalid nonce``,
    covers a key last used by a machine whose clock runs ahead) or the last nonce + 1
    (several calls in one millisecond)."""

    def __init__(self):
        self.last = 0

    def next(self, venue_ms: int = 0) -> int:
        self.last = max(self.last + 1, time.time_ns() // 1_000_000, venue_ms)
        return self.last


def signed_request(api_key: str, secret_b64: str, uri_path: str, params: dict, nonce: int) -> tuple[str, dict]:
    """The form body (``nonce`` first) and the headers of one private call."""
    body = urlencode({"nonce": str(nonce), **params})
    return body, {"API-Key": api_key, "API-Sign": signature(secret_b64, uri_path, str(nonce), body),
                  "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
