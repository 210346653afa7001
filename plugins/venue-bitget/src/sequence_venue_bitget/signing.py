"""Bitget v2 request signing (https://www.bitget.com/api-doc/common/signature).

``ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), where
requestPath carries ``?`` + the query string when there is one and body is the JSON text as
sent (empty for GET); ``ACCESS-TIMESTAMP`` in ms, ``ACCESS-PASSPHRASE`` as set at key
creation, ``locale``. Bitget refuses a timestamp more than 30 s from its clock (40008).
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(secret: str, timestamp_ms: int, method: str, request_path: str, body: str = "") -> str:
    prehash = f"{timestamp_ms}{method.upper()}{request_path}{body}"
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def headers(api_key: str, secret: str, passphrase: str, timestamp_ms: int, method: str, request_path: str,
            body: str = "") -> dict:
    return {"ACCESS-KEY": api_key, "ACCESS-SIGN": signature(secret, timestamp_ms, method, request_path, body),
            "ACCESS-TIMESTAMP": str(timestamp_ms), "ACCESS-PASSPHRASE": passphrase, "locale": "en-US",
            "Content-Type": "application/json"}


def ws_login(api_key: str, secret: str, passphrase: str, seconds: int) -> dict:
    """The private websocket's login (https://www.bitget.com/api-doc/common/websocket-intro):
    the same HMAC over ``timestamp + "GET" + "/user/verify"``, the timestamp in Unix seconds."""
    return {"op": "login", "args": [{"apiKey": api_key, "passphrase": passphrase, "timestamp": str(seconds),
                                     "sign": signature(secret, seconds, "GET", "/user/verify")}]}
