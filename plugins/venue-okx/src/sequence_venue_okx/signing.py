"""OKX v5 request signing (https://www.okx.com/docs-v5/en/#overview-rest-authentication).

``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)):
the timestamp is the ``OK-ACCESS-TIMESTAMP`` header (ISO 8601 UTC with milliseconds,
``2020-12-08T09:08:57.715Z``), requestPath includes the query string (``/api/v5/account/
balance?ccy=BTC``), body is the JSON text exactly as sent (empty for GET). The passphrase goes
as chosen at key creation in ``OK-ACCESS-PASSPHRASE``. A timestamp more than 30 s from
OKX's clock is refused (50102). OKX publishes the formula but no fixed worked example.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone


def timestamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def signature(secret: str, ts: str, method: str, request_path: str, body: str = "") -> str:
    prehash = f"{ts}{method.upper()}{request_path}{body}"
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def headers(api_key: str, secret: str, passphrase: str, ms: int, method: str, request_path: str, body: str = "") -> dict:
    ts = timestamp(ms)
    return {"OK-ACCESS-KEY": api_key, "OK-ACCESS-SIGN": signature(secret, ts, method, request_path, body),
            "OK-ACCESS-TIMESTAMP": ts, "OK-ACCESS-PASSPHRASE": passphrase, "Content-Type": "application/json"}


def ws_login(api_key: str, secret: str, passphrase: str, seconds: int) -> dict:
    """The private websocket's login (https://www.okx.com/docs-v5/en/#overview-websocket-login):
    the same HMAC over ``timestamp + "GET" + "/users/self/verify"``, the timestamp in Unix
    seconds; OKX refuses one more than 30 s from its clock."""
    ts = str(seconds)
    return {"op": "login", "args": [{"apiKey": api_key, "passphrase": passphrase, "timestamp": ts,
                                     "sign": signature(secret, ts, "GET", "/users/self/verify")}]}
