"""Bitget private websocket: the spot ``orders`` channel, each push an order with its last fill.

https://www.bitget.com/api-doc/spot/websocket/private/Order-Channel : connect to
``wss://ws.bitget.com/v2/ws/private``, log in (``op: login``, answered ``{"event": "login",
"code": 0}``; a refusal is ``{"event": "error", "code": 30005, ...}``), subscribe
``{"instType": "SPOT", "channel": "orders", "instId": "default"}`` (every symbol). A push
carries ``clientOid``, ``status`` and ``accBaseVolume``, and for a fill ``tradeId`` (the id
``trade/fills`` reports, so a fill seen here and by a poll counts once), ``fillPrice``,
``baseVolume`` (this fill), ``fillTime``, ``fillFee`` (negative when charged) in
``fillFeeCoin`` and ``tradeScope`` (``T`` taker, ``M`` maker). Keepalive: the text ``ping``.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .execution import STATUS
from .signing import ws_login

DEFAULT_PRIVATE_WS_URL = "wss://ws.bitget.com/v2/ws/private"


def private_url(settings: dict) -> str:
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url")
    return public.replace("/ws/public", "/ws/private") if public else DEFAULT_PRIVATE_WS_URL


def _state(o: dict, inst) -> OrderState:
    fills = ()
    if o.get("tradeId") and o.get("baseVolume") and inst is not None:
        price, fee = Decimal(o["fillPrice"]), -Decimal(o.get("fillFee") or "0")
        if o.get("fillFeeCoin") == inst.base:
            fee *= price
        fills = (VenueFill(str(o["tradeId"]), price, Decimal(o["baseVolume"]), fee, inst.quote,
                           "maker" if o.get("tradeScope") == "M" else "taker", int(o.get("fillTime") or o["uTime"]) * 1_000_000),)
    return OrderState(o["clientOid"], str(o["orderId"]), STATUS.get(o["status"], "NEW"), Decimal(o.get("accBaseVolume") or "0"),
                      fills, price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["size"]) if o.get("size") else None, venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


class BitgetUserStream(UserStream):
    venue = "bitget"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    async def url(self) -> str:
        return private_url(self.settings)

    def login(self) -> list:
        c = self.client
        return [ws_login(c._key, c._secret, c._passphrase, c.clock.now_ms() // 1000)]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("event") in ("login", "error"):
            return message.get("event") == "login" and str(message.get("code")) == "0"
        return None

    def subscribe(self) -> list:
        return [{"op": "subscribe", "args": [{"instType": "SPOT", "channel": "orders", "instId": "default"}]}]

    def ping(self):
        return "ping"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or message.get("arg", {}).get("channel") != "orders" or "data" not in message:
            return []
        return [_state(o, instruments.get(o["instId"])) for o in message["data"]]
