"""Bybit private websocket: ``order`` (status changes) and ``execution`` (fills) topics.

https://bybit-exchange.github.io/docs/v5/websocket/private/order and .../execution : connect
to ``wss://stream.bybit.com/v5/private``, authenticate (``op: auth``, answered ``{"op":
"auth", "success": true}``; ``success: false`` with ``retMsg`` when refused), subscribe
``["order", "execution"]``. An ``order`` push carries ``orderLinkId``, ``orderStatus`` and
``cumExecQty``; an ``execution`` push carries one fill per item: ``execId`` (the id
``/v5/execution/list`` reports, so a fill seen here and by a poll counts once), ``execPrice``,
``execQty``, ``execFee`` in ``feeCurrency`` (on this topic since 2025-09-18:
https://bybit-exchange.github.io/docs/changelog/v5) and ``isMaker``; only ``execType`` Trade is a
fill (not Funding, Delivery, ... nor ``CorporateAction``, a stock split, added 2026-07-23).
Both name the ``category`` (spot, linear). Keepalive ``{"op": "ping"}`` every 20 s, as Bybit
recommends.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import _fill, _state, ours
from .feed import beside
from .signing import ws_auth

DEFAULT_PRIVATE_WS_URL = "wss://stream.bybit.com/v5/private"


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else the private endpoint beside the public ``ws_url``."""
    return settings.get("private_ws_url") or beside(settings, "/v5/private", DEFAULT_PRIVATE_WS_URL)


def _symbol(item: dict) -> str:
    """Our venue symbol: linear perps carry ``_LINEAR`` (see execution.where)."""
    return ours(item.get("category", ""), item["symbol"])


class BybitUserStream(UserStream):
    venue = "bybit"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    async def url(self) -> str:
        return private_url(self.settings)

    def login(self) -> list:
        return [ws_auth(self.client._key, self.client._secret, self.client.clock.now_ms() + 10_000)]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("op") == "auth":
            return bool(message.get("success"))
        return None

    def subscribe(self) -> list:
        return [{"op": "subscribe", "args": ["order", "execution"]}]

    def ping(self):
        return {"op": "ping"}

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or message.get("topic") not in ("order", "execution"):
            return []
        if message["topic"] == "order":
            return [_state(o) for o in message["data"]]
        out = []
        for e in message["data"]:
            inst = instruments.get(_symbol(e))
            if inst is not None and e.get("execType", "Trade") == "Trade":
                # a fill says nothing of the order's status: "NEW" never overrides one the engine knows
                out.append(OrderState(e["orderLinkId"], str(e["orderId"]), "NEW", Decimal(0), (_fill(e, inst),)))
        return out
