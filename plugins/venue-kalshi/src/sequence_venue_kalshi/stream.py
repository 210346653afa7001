"""Kalshi private websocket: the ``user_orders`` (order changes) and ``fill`` (your fills) channels.

Sources: https://docs.kalshi.com/getting_started/api_environments (hosts),
https://docs.kalshi.com/getting_started/quick_start_websockets and
https://docs.kalshi.com/websockets/websocket-connection (handshake auth, commands, acks, error
codes), https://docs.kalshi.com/websockets/user-orders, https://docs.kalshi.com/websockets/user-fills,
https://docs.kalshi.com/websockets/connection-keep-alive,
https://docs.kalshi.com/api-reference/portfolio/get-fills (REST ``Fill``) and
https://docs.kalshi.com/getting_started/order_direction.

- URL: one socket carries public and private channels: production
  ``wss://external-api-ws.kalshi.com/trade-api/ws/v2`` (recommended;
  ``wss://api.elections.kalshi.com/trade-api/ws/v2`` also supported), demo
  ``wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2`` (or ``demo-api.kalshi.co``). Setting
  ``private_ws_url``, else the feed's ``ws_url``, else production.
- Auth: only in the HTTP handshake, with the REST headers ``KALSHI-ACCESS-KEY``,
  ``-TIMESTAMP`` (ms) and ``-SIGNATURE`` over ``timestamp + "GET" + "/trade-api/ws/v2"``,
  signed afresh on every (re)connect. There is no login message: bad credentials fail the
  handshake itself. Kalshi documents no status for that (its REST refusals are 401; a 403 from
  its CDN on the handshake is reported in github.com/Kalshi/kalshi-starter-code-python/issues/1);
  the runner reports a 401 or 403 handshake as a refused login.
- Subscribe: ``{"id": 1, "cmd": "subscribe", "params": {"channels": ["user_orders", "fill"]}}``;
  without ``market_tickers`` both cover every market. Each channel is acknowledged
  ``{"id", "type": "subscribed", "msg": {"channel", "sid"}}``; a failure is ``{"id", "type":
  "error", "msg": {"code", "msg"}}`` (code 9: the channel needs an authenticated connection),
  which leaves nothing subscribed, so it ends the session (the runner reconnects; polling
  covers the gap).
- ``user_order``: ``msg`` has ``order_id``, ``client_order_id``, ``ticker``, ``status``
  (resting | canceled | executed), ``yes_price_dollars`` (no NO price), ``fill_count_fp``,
  ``remaining_count_fp``, ``initial_count_fp``, ``created_ts_ms``, ``last_updated_ts_ms``:
  REST's Get Order fields, read by the same ``_state``.
- ``fill``: ``msg`` has ``trade_id``, ``order_id``, ``client_order_id`` (optional),
  ``market_ticker``, ``is_taker``, ``yes_price_dollars`` (no NO price), ``count_fp``,
  ``fee_cost`` (the fee charged, fixed-point dollars), ``ts_ms``; read by the same ``_fill``.
  REST's ``Fill`` documents ``trade_id`` as "same as fill_id", so a fill seen here and by a
  poll carries one id and counts once.
- Keepalive: Kalshi sends Ping frames every 10 s (body ``heartbeat``); aiohttp answers them.

Two gaps the messages leave, filled from the session: V2 orders quote the YES book, so neither
message says whether an order is the node's YES or NO instrument; the session knows for orders
it placed or read (the engine reads every resting order right after each connect), and a NO
leg's price is 1 - the YES price. A ``fill`` may lack ``client_order_id``; it is remembered from
``user_order`` and the session's own ids. A fill whose leg is unknown, or that carries no
``fee_cost`` (the schema requires it, the docs' own example omits it), is not recorded from
here, so a wrong price or fee is never recorded once and for all: the ``user_order`` update's
``fill_count_fp`` above what the engine holds makes it read the fills over REST, fee included.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from sequence_core.errors import AuthenticationError, NetworkError
from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import _fill, _state
from .feed import DEFAULT_WS_URL
from .signing import WS_PATH, headers

ONE = Decimal(1)


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else ``ws_url`` (Kalshi's one socket), else production."""
    return settings.get("private_ws_url") or settings.get("ws_url") or DEFAULT_WS_URL


def _with_no_price(m: dict) -> dict:
    """The websocket quotes the YES price only; the NO leg trades at 1 - it."""
    if m.get("no_price_dollars") or not m.get("yes_price_dollars"):
        return m
    return {**m, "no_price_dollars": f"{ONE - Decimal(str(m['yes_price_dollars'])):f}"}


class KalshiUserStream(UserStream):
    venue = "kalshi"

    def __init__(self, session, settings: dict):
        self.session, self.settings = session, settings

    async def url(self) -> str:
        return private_url(self.settings)

    def ws_headers(self) -> dict[str, str]:
        c = self.session.client
        if c._key is None:
            return {}           # Kalshi refuses the handshake: reported as a refused login
        return headers(c._key_id, c._key, c.clock.now_ms(), "GET", WS_PATH)

    def subscribe(self) -> list:
        return [{"id": 1, "cmd": "subscribe", "params": {"channels": ["user_orders", "fill"]}}]

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict):
            return []
        kind, msg = message.get("type"), message.get("msg") or {}
        if kind == "error":
            raise self._refused(msg)
        if kind == "user_order":
            return self._order(msg)
        if kind == "fill":
            return self._fill(msg)
        return []               # subscribed acks

    @staticmethod
    def _refused(msg: dict) -> Exception:
        code, text = msg.get("code"), str(msg.get("msg") or "")[:200]
        if code == 9:
            return AuthenticationError(f"kalshi refused the private websocket login: {text} (code 9)")
        return NetworkError(f"kalshi refused the private subscription: {text} (code {code})")

    def _cid(self, order_id: str) -> str:
        """The client order id of a Kalshi order placed or read by the session, or named by
        an earlier message ("" for an order placed outside the engine)."""
        return self.session.cids.get(order_id, "")

    def _order(self, o: dict) -> list[OrderState]:
        if o.get("client_order_id"):
            self.session.remember(o["client_order_id"], o["order_id"])
        cid, leg = self._cid(o["order_id"]), self.session._legs.get(o["order_id"])
        if not cid:
            return []           # not an order placed through a client order id: not the engine's
        state = _state({**_with_no_price(o), "client_order_id": cid}, leg or "YES")
        return [state if leg else msgspec.structs.replace(state, price=None)]

    def _fill(self, f: dict) -> list[OrderState]:
        oid = f["order_id"]
        if f.get("client_order_id"):
            self.session.remember(f["client_order_id"], oid)
        cid, leg = self._cid(oid), self.session._legs.get(oid)
        if not cid:
            return []
        fills = ()
        if leg and f.get("fee_cost") is not None:
            fills = (_fill(_with_no_price(f), leg),)
        # a fill tells of the order only that at least this much of it has filled
        return [OrderState(cid, oid, "PARTIALLY_FILLED", Decimal(str(f["count_fp"])), fills,
                           venue_ts_ns=int(f["ts_ms"]) * 1_000_000 if f.get("ts_ms") else None)]
