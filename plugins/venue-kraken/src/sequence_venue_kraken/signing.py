"""Kraken spot REST signing (https://docs.kraken.com/api/docs/guides/spot-rest-auth).

``API-Sign`` = base64(HMAC-SHA512(key = base64-decoded API secret,
message = URI path + SHA256(nonce + POST data))), where the POST data is the url-encoded
body exactly as sent (it carries ``nonce``, which must rise with every call of the key) and
``API-Key`` carries the key. The guide publishes a worked example (secret, nonce, body, path
and the expected signature); tests/test_kraken_signing.py checks it.

Nonce (same guide, and https://docs.kraken.com/api/docs/guides/spot-errors): an unsigned
64-bit integer that must exceed the last one the key used, else ``EAPI:Invalid nonce``; the
guide's example is a millisecond timestamp, which is what :class:`Nonces` issues.

Kraken Futures (a separate API with its own keys, https://docs.kraken.com/api/docs/guides/futures-rest):
headers ``APIKey``, ``Nonce`` (optional; "a continuously incrementing integer", a millisecond
time is the docs' advice; :class:`Nonces` again) and ``Authent`` = base64(HMAC-SHA512(key =
base64-decoded secret, message = SHA256(postData + Nonce + endpointPath))). ``postData`` is
the url-encoded parameters exactly as sent (since 20 February 2024 the encoded form, e.g.
``greeting=hello%20world``); ``endpointPath`` is the path without the ``/derivatives`` prefix
(the docs' example: ``/api/v3/orderbook`` for ``/derivatives/api/v3/orderbook``; ccxt's
krakenfutures signs ``/api/`` + version + endpoint, and ``/api/history/...`` for history calls,
whose URL has no prefix). The docs publish the inputs of an example (postData
``symbol=fi_xbtusd_180615``, Nonce ``1415957147987``, endpointPath ``/api/v3/orderbook``, a secret
printed one ``=`` short of its padding) but not its Authent; tests/test_kraken_signing.py
checks the value two independent implementations agree on (roq-trading's kraken_futures hasher
test, and a C# client's test "computed by a SEPARATE implementation of the published steps").

Kraken Futures websocket challenge (https://docs.kraken.com/api/docs/guides/futures-websockets,
"Sign challenge"): the same steps with the challenge string alone as the message:
base64(HMAC-SHA512(key = base64-decoded secret, message = SHA256(challenge))). The guide publishes
a worked example (challenge ``c100b894-1729-464d-ace1-52dbce11db42``, its secret and the signed
output); tests/test_kraken_signing.py checks it.
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


def futures_authent(secret_b64: str, endpoint_path: str, nonce: str, post_data: str) -> str:
    """Kraken Futures ``Authent`` for one request (see the module docstring)."""
    return _futures_mac(secret_b64, (post_data + nonce + endpoint_path).encode())


def futures_signed_challenge(secret_b64: str, challenge: str) -> str:
    """The ``signed_challenge`` of a Kraken Futures websocket challenge (see the module docstring)."""
    return _futures_mac(secret_b64, challenge.encode())


def _futures_mac(secret_b64: str, message: bytes) -> str:
    """base64(HMAC-SHA512(base64-decoded secret, SHA256(message))): Kraken Futures' one recipe."""
    secret = base64.b64decode(secret_b64 + "=" * (-len(secret_b64) % 4))      # the docs' example lacks its padding
    digest = hashlib.sha256(message).digest()
    return base64.b64encode(hmac.new(secret, digest, hashlib.sha512).digest()).decode()


def futures_signed(api_key: str, secret_b64: str, url_path: str, post_data: str, nonce: int) -> dict:
    """The headers of one Kraken Futures private call to ``url_path`` (``/derivatives/api/v3/...``
    or ``/api/history/...``) carrying ``post_data``."""
    endpoint = url_path.removeprefix("/derivatives")
    return {"APIKey": api_key, "Nonce": str(nonce), "Authent": futures_authent(secret_b64, endpoint, str(nonce), post_data)}
