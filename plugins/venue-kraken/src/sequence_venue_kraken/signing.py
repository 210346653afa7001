"""Kraken spot REST signing (https://docs.kraken.com/api/docs/guides/spot-rest-auth).

``API-Sign`` = base64(HMAC-SHA512(key = base64-decoded API secret,
message = URI path + SHA256(nonce + POST data))), where the POST data is the url-encoded
body exactly as sent (it carries ``nonce``, which must rise with every call of the key) and
``API-Key`` carries the key. The guide publishes a worked example (secret, nonce, body, path
and the expected signature); tests/test_kraken_signing.py checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(secret_b64: str, uri_path: str, nonce: str, post_data: str) -> str:
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()
