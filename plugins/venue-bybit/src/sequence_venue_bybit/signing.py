"""Bybit v5 request signing (https://bybit-exchange.github.io/docs/v5/guide#authentication).

``X-BAPI-SIGN`` = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + payload)),
payload = the query string for GET, the JSON body exactly as sent for POST. Headers:
``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW`` (default 5000),
``X-BAPI-SIGN``, ``X-BAPI-SIGN-TYPE: 2`` (HMAC). Bybit refuses a timestamp outside
[server_time - recv_window, server_time + 1000) with retCode 10002.
"""

from __future__ import annotations

import hashlib
import hmac

RECV_WINDOW_MS = 5000


def signature(secret: str, timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp_ms}{api_key}{recv_window_ms}{payload}".encode(), hashlib.sha256).hexdigest()


def headers(api_key: str, secret: str, timestamp_ms: int, payload: str, recv_window_ms: int = RECV_WINDOW_MS) -> dict:
    return {"X-BAPI-API-KEY": api_key, "X-BAPI-TIMESTAMP": str(timestamp_ms), "X-BAPI-RECV-WINDOW": str(recv_window_ms),
            "X-BAPI-SIGN": signature(secret, timestamp_ms, api_key, recv_window_ms, payload), "X-BAPI-SIGN-TYPE": "2",
            "Content-Type": "application/json"}


def ws_auth(api_key: str, secret: str, expires_ms: int) -> dict:
    """The private websocket's auth (https://bybit-exchange.github.io/docs/v5/ws/connect#authentication):
    ``signature`` = hex(HMAC-SHA256(secret, "GET/realtime" + expires)), ``expires`` a ms time
    in the near future; Bybit refuses one already past."""
    sign = hmac.new(secret.encode(), f"GET/realtime{expires_ms}".encode(), hashlib.sha256).hexdigest()
    return {"op": "auth", "args": [api_key, expires_ms, sign]}
