"""Binance request signing (SIGNED endpoints, HMAC-SHA256 keys).

https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security :
``signature`` = hex(HMAC-SHA256(secret, totalParams)), where totalParams is the query string
concatenated with the request body, exactly as sent; the request also carries
``timestamp`` (ms) and optionally ``recvWindow`` (ms, default 5000), and the API key in the
``X-MBX-APIKEY`` header. The server rejects a timestamp outside the recv window (-1021).
USD-M futures sign the same way (https://developers.binance.com/docs/derivatives/
usds-margined-futures/general-info, "SIGNED Endpoint Examples for POST /fapi/v1/order - HMAC
Keys": its worked example is a test), with the same accept rule: timestamp < serverTime + 1000
and serverTime - timestamp <= recvWindow.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

RECV_WINDOW_MS = 5000


def signature(secret: str, total_params: str) -> str:
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def signed_query(secret: str, params: dict, timestamp_ms: int, recv_window_ms: int = RECV_WINDOW_MS) -> str:
    """The query string to send: params, recvWindow, timestamp, then the signature of all of it."""
    query = urlencode({**params, "recvWindow": recv_window_ms, "timestamp": timestamp_ms})
    return f"{query}&signature={signature(secret, query)}"
