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

A unified trading account (UTA) has a private socket of its own, chosen here at each connect
(``url()``: the account mode, http.py ``account_mode``, is known from the setting or learnt
then), so ``BitgetSession.user_stream()`` needs not know it. ``wss://ws.bitget.com/v3/ws/private``
(the ``bitget-api`` npm package's ``WS_BASE_URL_MAP.v3Private``, src/util/websocket-util.ts;
ccxt's ``utaPrivate``, js/src/pro/bitget.js), logged in exactly as v2 (the same ``op: login``
signed over ``timestamp + GET + /user/verify`` in Unix seconds, answered ``{"event": "login",
"code": 0}``: ``WebsocketClientV3.getWsAuthSignature`` in the same package, and ccxt's
``authenticate`` for both sockets), keepalive the same text ``ping``/``pong``. Subscribed
``{"instType": "UTA", "topic": "order"}`` and ``{"instType": "UTA", "topic": "fill"}`` (every
category at once; https://www.bitget.com/api-doc/uta/websocket/private/Order-Channel and
.../Fill-Channel, "No push on first-time subscription"). Their pushes are read by uta.py
(``uta_pushed``): an ``order`` push is the order (``orderStatus``, ``cumExecQty``), a ``fill``
push one fill with the ``execId`` ``/api/v3/trade/fills`` reports, so a fill seen here and by a
poll counts once.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import AuthenticationError
from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .execution import STATUS, charged
from .signing import ws_login
from .symbols import PRODUCT_TYPE, ours
from .uta import uta_pushed

DEFAULT_PRIVATE_WS_URL = "wss://ws.bitget.com/v2/ws/private"
UTA_TOPICS = ("order", "fill")


def private_url(settings: dict, unified: bool = False) -> str:
    """The v2 private socket (``private_ws_url``, else beside the public ``ws_url``), or for a
    unified account the v3 one beside it."""
    public = settings.get("ws_url")
    url = settings.get("private_ws_url") or (public.replace("/ws/public", "/ws/private") if public else DEFAULT_PRIVATE_WS_URL)
    return url.replace("/v2/ws/", "/v3/ws/") if unified else url


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
    """The v2 socket for a Classic account, the v3 one for a unified account: which, decided at
    each connect by ``url()`` (login, subscribe and parse follow it)."""

    venue = "bitget"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings
        self.unified = False

    async def url(self) -> str:
        self.unified = await self._mode() == "uta"
        return private_url(self.settings, self.unified)

    async def _mode(self) -> str | None:
        # a detection Bitget refuses (a bad key) is left to the login to report, which says so
        # plainly; any other failure (network, rate limit) fails this connect, retried later
        try:
            return await self.client.account_mode(self.settings.get("account", "auto"))
        except AuthenticationError:
            return None

    def login(self) -> list:
        c = self.client
        return [ws_login(c._key, c._secret, c._passphrase, c.clock.now_ms() // 1000)]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("event") in ("login", "error"):
            return message.get("event") == "login" and str(message.get("code")) == "0"
        return None

    def subscribe(self) -> list:
        if self.unified:
            return [{"op": "subscribe", "args": [{"instType": "UTA", "topic": t} for t in UTA_TOPICS]}]
        # one message per product: a key Bitget refuses futures for keeps its spot updates
        return [{"op": "subscribe", "args": [{"instType": t, "channel": "orders", "instId": "default"}]}
                for t in ("SPOT", PRODUCT_TYPE)]

    def ping(self):
        return "ping"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or "data" not in message:
            return []
        arg = message.get("arg") or {}
        if arg.get("topic") in UTA_TOPICS:
            return uta_pushed(arg["topic"], message["data"], instruments)
        if arg.get("channel") != "orders":
            return []
        return [_state(o, instruments.get(ours(o["instId"], arg.get("instType")))) for o in message["data"]]
