"""Crypto.com Exchange user websocket: ``user.order`` and ``user.trade`` pushes.

https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html ("Websocket Root Endpoints",
"public/auth", "user.order.{instrument_name}", "user.trade.{instrument_name}"): connect to
``wss://stream.crypto.com/exchange/v1/user``, authenticate with ``public/auth`` (``api_key``,
``nonce`` and ``sig`` = hex(HMAC-SHA256(secret, method + id + api_key + nonce)), the REST
signature with no params; answered ``code`` 0, else 40101), then subscribe ``user.order`` and
``user.trade`` (every instrument, spot and perpetuals alike: ws-channel-user-trade names
``instrument_name`` "E.g. BTCUSD-PERP" and ``fee_instrument_name`` "E.g. USD"). An order push carries the fields of
``private/get-order-detail`` (``client_oid``, ``status``, ``cumulative_quantity``); a trade
push one fill each with ``trade_id`` (the id ``private/get-trades`` gives, so a fill seen on
both counts once), ``traded_price``, ``traded_quantity``, ``fees`` in ``fee_instrument_name``
and ``taker_side``. The server's ``public/heartbeat`` is answered with
``public/respond-heartbeat`` (else it closes the socket).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import _fill, _state
from .signing import signature

DEFAULT_USER_WS_URL = "wss://stream.crypto.com/exchange/v1/user"
AUTH_ID, SUBSCRIBE_ID = 1, 2


def user_url(settings: dict) -> str:
    if settings.get("user_ws_url"):
        return settings["user_ws_url"]
    market = settings.get("ws_url")
    return market.removesuffix("/market") + "/user" if market else DEFAULT_USER_WS_URL


class CryptocomUserStream(UserStream):
    venue = "cryptocom"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    async def url(self) -> str:
        return user_url(self.settings)

    def login(self) -> list:
        c, nonce = self.client, self.client.clock.now_ms()
        return [{"id": AUTH_ID, "method": "public/auth", "api_key": c._key, "nonce": nonce,
                 "sig": signature(c._secret, "public/auth", AUTH_ID, c._key, {}, nonce)}]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("method") == "public/auth":
            return str(message.get("code")) == "0"
        return None

    def subscribe(self) -> list:
        return [{"id": SUBSCRIBE_ID, "method": "subscribe", "params": {"channels": ["user.order", "user.trade"]},
                 "nonce": self.client.clock.now_ms()}]

    def reply(self, message) -> list:
        if isinstance(message, dict) and message.get("method") == "public/heartbeat":
            return [{"id": message["id"], "method": "public/respond-heartbeat"}]
        return []

    def parse(self, message, instruments) -> list:
        result = message.get("result") if isinstance(message, dict) else None
        if not isinstance(result, dict):
            return []
        channel, data = result.get("channel", ""), result.get("data") or []
        if channel.startswith("user.order"):
            return [_state(o) for o in data]
        if channel.startswith("user.trade"):
            return [OrderState(t["client_oid"], str(t["order_id"]), "NEW", Decimal(0), (_fill(t, inst),))
                    for t in data if (inst := instruments.get(t["instrument_name"])) is not None]
        return []
