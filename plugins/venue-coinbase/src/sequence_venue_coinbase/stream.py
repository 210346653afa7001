"""Coinbase Advanced Trade private websocket: the ``user`` channel pushes every change of this key's orders.

Endpoint (https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-overview):
``wss://advanced-trade-ws-user.coinbase.com`` serves ``user``, ``heartbeats`` and
``futures_balance_summary``; the market-data endpoint ``advanced-trade-ws`` serves them too (the
docs name it the failover). So the URL is the setting ``private_ws_url``, else the ``ws_url``
setting with its host's first label ``advanced-trade-ws`` renamed ``advanced-trade-ws-user``
(Coinbase's naming), else, for any other host (a proxy, a test server), ``ws_url`` itself.

Auth (https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-authentication):
each subscribe carries ``jwt``, the REST JWT of signing.py without the ``uri`` claim ("WebSocket
JWTs are not built with a request method or request path"), fresh for every message since it
lasts 2 minutes; the official SDK (coinbase-advanced-py ``websocket_base.py``) attaches one to
every subscribe of an authenticated client. The subscribe is therefore this socket's login:
``{"type": "subscribe", "channel": "user", "jwt": ..}``, one channel per message, within 5 s of
connecting. ``product_ids`` is left out: "product_ids is optional (omit for all products)"
(https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/websocket/user), so orders of
any product reach the engine. A bad JWT is answered ``{"type": "error", "message":
"authentication failure"}`` (github.com/coinbase/coinbase-advanced-py issues 19, 64, 92).
Accepted: the user channel's first message, its ``snapshot`` of open orders (before the
``subscriptions`` ack, sequence_num 0 then 1, in the transcript at
forums.coinbasecloud.dev/t/websockets-authenticating-user-and-subscribing-to-user-channel/1989),
or that ack naming ``user`` (it lists the user's id there, not products).
That snapshot is read during login and not applied: the engine reads every resting order over
REST after each (re)connect anyway. "Open orders are returned in the snapshot batched by 50"
(same user page): a second and later batch arrive after login and are parsed like updates,
order states without fills, which is harmless (the engine reads fills over REST).
``heartbeats`` (one a second) is subscribed as well: "Most channels close within 60-90 seconds if no updates are sent"
(https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels).

Messages (same page, "User Channel"; the shared sample ws_user.json): ``{"channel": "user",
"timestamp", "sequence_num", "events": [{"type": "snapshot" | "update", "orders": [..]}]}``;
each order has ``order_id``, ``client_order_id``, ``cumulative_quantity``, ``leaves_quantity``,
``avg_price``, ``total_fees``, ``status`` (PENDING, OPEN, FILLED, CANCEL_QUEUED, CANCELLED,
EXPIRED, FAILED), ``product_id``, ``order_side``, ``order_type``, ``limit_price``,
``cancel_reason``, ``reject_reason``. There is no fill in it: no trade id, price or fee per
execution. So each order becomes an ``OrderState`` with ``filled_qty`` = ``cumulative_quantity``
and no fills; the engine, seeing more filled than it has fills for, polls the order over REST at
once and records the fills from ``/orders/historical/fills`` with their ``trade_id`` (execution.py).
A CANCELLED, EXPIRED or FAILED order that had filled is reported as still PARTIALLY_FILLED:
applied as terminal, the engine would stop polling it and never read those fills; the REST read
that follows brings the terminal status with its fills. ``client_order_id`` is the engine's own
(execution.py sends it unchanged).
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from sequence_core.errors import AuthenticationError, NetworkError
from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import STATUS, iso_ns
from .signing import build_jwt

log = logging.getLogger(__name__)

DEFAULT_PRIVATE_WS_URL = "wss://advanced-trade-ws-user.coinbase.com"
PUBLIC_HOST, USER_HOST = "advanced-trade-ws", "advanced-trade-ws-user"
DEFERRED = ("CANCELLED", "EXPIRED", "REJECTED")      # terminal states whose fills REST must bring first
PLAIN = re.compile(r"^[A-Za-z][A-Za-z ,:'_-]{0,79}$")   # Coinbase's short error texts: safe to show


def _safe(text) -> str:
    """Coinbase's error text when it is plain words (never a token echoed back), else a placeholder."""
    return text if isinstance(text, str) and PLAIN.match(text) else "(no readable message)"


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else the user-data sibling of ``ws_url``, else ``ws_url``."""
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url")
    if not public:
        return DEFAULT_PRIVATE_WS_URL
    scheme, sep, rest = public.partition("://")
    host, slash, path = rest.partition("/")
    label, dot, domain = host.partition(".")
    if label == PUBLIC_HOST:                              # advanced-trade-ws.coinbase.com -> ...-ws-user...
        host = USER_HOST + dot + domain
    return f"{scheme}{sep}{host}{slash}{path}"


def _dec(text) -> Decimal:
    return Decimal(str(text)) if text not in (None, "") else Decimal(0)


class CoinbaseUserStream(UserStream):
    venue = "coinbase"

    def __init__(self, session, settings: dict):
        self.session, self.settings = session, settings

    async def url(self) -> str:
        if self.session.client._key is None:
            raise AuthenticationError("coinbase: the user channel needs the API key; run `sequence connect coinbase`")
        return private_url(self.settings)

    def _subscribe(self, channel: str) -> dict:
        c = self.session.client
        return {"type": "subscribe", "channel": channel, "jwt": build_jwt(c._key_name, c._key, None, c.clock.now_ms() // 1000)}

    def login(self) -> list:
        return [self._subscribe("user")]

    def subscribe(self) -> list:
        return [self._subscribe("heartbeats")]

    def logged_in(self, message):
        if not isinstance(message, dict):
            return None
        if message.get("type") == "error":
            log.warning("coinbase refused the user channel subscription: %s", _safe(message.get("message")))
            return False
        if message.get("channel") == "user":
            return True
        if message.get("channel") == "subscriptions":
            subs = [e.get("subscriptions") or {} for e in message.get("events") or []]
            return True if any("user" in s for s in subs) else None
        return None

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict):
            return []
        if message.get("type") == "error":              # e.g. the subscription dropped: reconnect, resubscribe
            raise NetworkError(f"coinbase user channel error: {_safe(message.get('message'))}")
        if message.get("channel") != "user":
            return []                                     # heartbeats, subscriptions acks
        ts = iso_ns(message.get("timestamp"))
        return [self._state(o, ts) for e in message.get("events") or [] for o in e.get("orders") or []]

    def _state(self, o: dict, ts: int | None) -> OrderState:
        cid, order_id = o.get("client_order_id") or "", str(o["order_id"])
        if cid:
            self.session._ids.setdefault(cid, order_id)   # later REST reads go straight to the order
        filled = _dec(o.get("cumulative_quantity"))
        status = STATUS.get(o.get("status", ""), "NEW")
        if filled > 0 and (status == "NEW" or status in DEFERRED):
            status = "PARTIALLY_FILLED"
        reason = "" if status not in DEFERRED else o.get("reject_reason" if status == "REJECTED" else "cancel_reason") or ""
        resting = status in ("NEW", "PARTIALLY_FILLED")
        leaves = o.get("leaves_quantity")
        return OrderState(cid, order_id, status, filled, (), reason=reason, venue_ts_ns=ts,
                          price=_dec(o["limit_price"]) if _dec(o.get("limit_price")) else None,
                          qty=filled + _dec(leaves) if resting and leaves not in (None, "") else None)
