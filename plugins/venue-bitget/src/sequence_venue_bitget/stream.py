"""Bitget private websocket: the spot and USDT-M futures ``orders`` channels, each push an
order with its last fill.

https://www.bitget.com/api-doc/spot/websocket/private/Order-Channel : connect to
``wss://ws.bitget.com/v2/ws/private``, log in (``op: login``, answered ``{"event": "login",
"code": 0}``; a refusal is ``{"event": "error", "code": 30005, ...}``), subscribe
``{"instType": "SPOT", "channel": "orders", "instId": "default"}`` (every symbol). A push
carries ``clientOid``, ``status`` and ``accBaseVolume``, and for a fill ``tradeId`` (the id
``trade/fills`` reports, so a fill seen here and by a poll counts once), ``fillPrice``,
``baseVolume`` (this fill), ``fillTime``, ``fillFee`` (negative when charged) in
``fillFeeCoin`` and ``tradeScope`` (``T`` taker, ``M`` maker). Keepalive: the text ``ping``.

USDT-M futures (https://www.bitget.com/api-doc/contract/websocket/private/Order-Channel): the
same socket and login, subscribed ``{"instType": "USDT-FUTURES", "channel": "orders",
"instId": "default"}``; a push carries the same fill fields (``tradeId`` is the id
``/api/v2/mix/order/fills`` reports; ``fillFee`` negative, in ``fillFeeCoin``; ``tradeScope``
T/M; ``baseVolume`` this fill, ``accBaseVolume`` the order's total; status ``canceled``); its
page's example spells the client id ``clientOId``, the spot push and SDKs checked against the
live futures push ``clientOid``: either is read. Its ``instId`` is the bare ``BTCUSDT``: the push's
``arg.instType`` says it is the perp (``BTCUSDT_UMCBL`` here).

A unified trading account (UTA) is not served here: the v3 private socket is not spoken. The
session offers no stream for an account known to be UTA, and this one refuses to start for an
``auto`` account found to be UTA only at connect time, so the engine polls such an account's
orders over REST.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import SequenceError, StreamNotOffered
from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .execution import STATUS, charged
from .signing import ws_login
from .symbols import PRODUCT_TYPE, ours

DEFAULT_PRIVATE_WS_URL = "wss://ws.bitget.com/v2/ws/private"


def private_url(settings: dict) -> str:
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url")
    return public.replace("/ws/public", "/ws/private") if public else DEFAULT_PRIVATE_WS_URL


def _state(o: dict, inst) -> OrderState:
    cid = o.get("clientOid") or o.get("clientOId")
    fills = ()
    if o.get("tradeId") and o.get("baseVolume") and inst is not None:
        fills = (VenueFill(str(o["tradeId"]), Decimal(o["fillPrice"]), Decimal(o["baseVolume"]),
                           *charged(o.get("fillFee"), o.get("fillFeeCoin"), inst),
                           "maker" if o.get("tradeScope") == "M" else "taker", int(o.get("fillTime") or o["uTime"]) * 1_000_000),)
    return OrderState(cid, str(o["orderId"]), STATUS.get(o["status"], "NEW"), Decimal(o.get("accBaseVolume") or "0"),
                      fills, price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["size"]) if o.get("size") else None, venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


class BitgetUserStream(UserStream):
    venue = "bitget"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    async def url(self) -> str:
        if await self._mode() == "uta":
            raise StreamNotOffered("bitget: a unified trading account's orders are polled over REST "
                                   "(the v3 private websocket is not used)")
        return private_url(self.settings)

    async def _mode(self) -> str | None:
        # a detection Bitget refuses (bad key, no network) is left to the login to report, as before
        try:
            return await self.client.account_mode(self.settings.get("account", "auto"))
        except SequenceError:
            return None

    def login(self) -> list:
        c = self.client
        return [ws_login(c._key, c._secret, c._passphrase, c.clock.now_ms() // 1000)]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("event") in ("login", "error"):
            return message.get("event") == "login" and str(message.get("code")) == "0"
        return None

    def subscribe(self) -> list:
        # one message per product: a key Bitget refuses futures for keeps its spot updates
        return [{"op": "subscribe", "args": [{"instType": t, "channel": "orders", "instId": "default"}]}
                for t in ("SPOT", PRODUCT_TYPE)]

    def ping(self):
        return "ping"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or message.get("arg", {}).get("channel") != "orders" or "data" not in message:
            return []
        inst_type = message["arg"].get("instType")
        return [_state(o, instruments.get(ours(o["instId"], inst_type))) for o in message["data"]]
