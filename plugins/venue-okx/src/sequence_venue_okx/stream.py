"""OKX private websocket: the ``orders`` channel pushes every order change with its last fill.

https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel : connect to
``wss://ws.okx.com:8443/ws/v5/private``, log in (``op: login``, answered ``{"event": "login",
"code": "0"}``; a refusal is ``{"event": "error", "code": "6xxxx"}``), subscribe
``{"channel": "orders", "instType": "SPOT"}`` and the same with ``"SWAP"`` (one argument each,
so an account that cannot subscribe swaps still gets its spot orders). Each push carries the
order (``clOrdId``, ``state``, ``accFillSz``) and, when it filled, the last fill: ``tradeId``
(the same id ``/trade/fills`` reports, so a fill seen here and by a poll counts once),
``fillPx``, ``fillSz``, ``fillTime`` and ``fillFee``/``fillFeeCcy`` (negative when charged;
``fee`` is the order's cumulative fee). For SWAP, ``sz``, ``fillSz`` and ``accFillSz`` are
contracts ("The unit is contract for FUTURES/SWAP/OPTION"), converted to base units here as
in execution.py; a swap this adapter does not declare (no known ``ctVal``) is skipped.
Keepalive: the text ``ping``.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.userstream import UserStream

from .execution import _fill, _state
from .signing import ws_login

DEFAULT_PRIVATE_WS_URL = "wss://ws.okx.com:8443/ws/v5/private"


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else the public ``ws_url``'s private sibling."""
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url")
    return public.replace("/public", "/private") if public else DEFAULT_PRIVATE_WS_URL


class OkxUserStream(UserStream):
    venue = "okx"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    async def url(self) -> str:
        return private_url(self.settings)

    def login(self) -> list:
        c = self.client
        return [ws_login(c._key, c._secret, c._passphrase, c.clock.now_ms() // 1000)]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("event") in ("login", "error"):
            return message.get("event") == "login" and message.get("code") == "0"
        return None

    def subscribe(self) -> list:
        return [{"op": "subscribe", "args": [{"channel": "orders", "instType": t} for t in ("SPOT", "SWAP")]}]

    def ping(self):
        return "ping"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or message.get("arg", {}).get("channel") != "orders":
            return []
        out = []
        for o in message.get("data", []):
            inst = instruments.get(o["instId"])
            if inst is None and o.get("instType", "SPOT") != "SPOT":
                continue                             # its sizes are contracts of an unknown value
            fills = ()
            # OKX also pushes a state change that repeats the last tradeId with fillSz "0": not a
            # fill (recorded under that id, it would have hidden the real one)
            if o.get("tradeId") and Decimal(o.get("fillSz") or "0") > 0 and inst is not None:
                fee = o.get("fillFee")
                if fee is None and o.get("fillSz") == o.get("accFillSz"):
                    fee = o.get("fee")               # the only fill so far: the cumulative fee is its fee
                if fee is not None:                  # else the next poll reads this fill with its fee
                    fills = (_fill({**o, "fee": fee, "feeCcy": o.get("fillFeeCcy") or o.get("feeCcy"),
                                    "ts": o.get("fillTime") or o["uTime"]}, inst),)
            out.append(_state(o, inst, fills))
        return out
