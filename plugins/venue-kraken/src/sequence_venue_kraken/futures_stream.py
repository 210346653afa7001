"""Kraken Futures private websocket: perp order changes (``open_orders``) and fills (``fills``) pushed.

Socket (https://docs.kraken.com/api/docs/guides/futures-websockets): the public one,
``wss://futures.kraken.com/ws/v1`` (setting ``futures_ws_url``, as futures_feed.py), which greets
with ``{"event": "info", "version": 1}``. Login is a challenge
(https://docs.kraken.com/exchange/api-reference/futures-websocket/challenge): send
``{"event": "challenge", "api_key"}``, Kraken answers ``{"event": "challenge", "message": "<uuid>"}``
(or ``{"event": "error", "message": "Json Error"}``). Signed challenge = base64(HMAC-SHA512(
base64-decoded secret, SHA256(challenge))) (signing.py checks the guide's worked example). A
challenge is asked on each connect: python-kraken-sdk#179 saw a resubscribe that reused an old one
refused. The signature stays in the futures client (futures_http.py); this stream never holds the secret.

Subscribe (https://docs.kraken.com/api/docs/futures-api/websocket/open_orders and .../fills):
``{"event": "subscribe", "feed": "open_orders" | "fills", "api_key", "original_challenge",
"signed_challenge"}``; acknowledged ``{"event": "subscribed", "feed", ...}``, or
``subscribed_failed``. A wrong signature or key is answered ``{"event": "alert", "message":
"Failed to subscribe to authenticated feed"}`` (python-kraken-sdk#179, ccxt#20033): before both
feeds are acknowledged any ``alert``/``error``/``subscribed_failed`` is a refused login (the
runner says so and retries with backoff while polling carries the perp orders), later ones are
logged. Kraken's message is said only when it is plain words, never the key.

``open_orders``: first ``{"feed": "open_orders_snapshot", "account", "orders": [..]}``, then
``{"feed": "open_orders", "order": {..}, "is_cancel", "reason"}``; an order has ``instrument``,
``time``/``last_update_time`` (ms), ``qty``, ``filled`` (cumulative), ``limit_price``,
``stop_price``, ``type``, ``order_id``, ``cli_ord_id`` ("returned only if the order has a client
order id"), ``direction`` (0 buy, 1 sell), ``reduce_only``. ``is_cancel`` false: placed or partly
filled; true: "fully filled, cancelled or rejected (for post-only)", with ``reason``
(``new_placed_order_by_user``, ``cancelled_by_user``, ``full_fill``, ``partial_fill``,
``liquidation``, ``not_enough_margin``, ``market_inactive``, ``cancelled_by_admin``,
``dead_man_switch``, ``post_order_failed_because_it_would_filled``...). A cancel may come as
``{"feed": "open_orders", "order_id", "cli_ord_id"?, "is_cancel": true, "reason"}`` alone, so the
client id is remembered by ``order_id`` (and the session knows the ids of orders it placed). A
removal for ``full_fill``/``partial_fill`` is not read: the ``fills`` feed carries the fill, and a
remainder Kraken discarded is read by the poll (as NautilusTrader's Kraken adapter does, which
"must skip these deltas to avoid emitting a spurious OrderCanceled before the real OrderFilled").
``qty`` is not read as the order's size: the shared recording of a full fill
(ws_futures_open_orders_delta_full_fill.json) shows ``qty`` 0 next to ``filled`` 0.0001, so the
size reported is the one this session sent or amended (futures.py).

``fills``: ``fills_snapshot`` (recent fills) then ``fills`` messages, each ``{"feed", "fills":
[..]}`` with ``instrument``, ``time`` (ms), ``price``, ``qty``, ``buy``, ``remaining_order_qty``,
``order_id``, ``cli_ord_id``, ``fill_id``, ``fill_type`` (maker, taker, liquidation...),
``fee_paid``, ``fee_currency``. ``fill_id`` is the id ``GET /fills`` reports (the docs' REST and
websocket examples carry the same fill, ``b1aa44b2-...``, shared http_futures_fills.json and
ws_futures_fills_snapshot.json), and each fill is read by futures.py's REST parser, so a pushed
fill and a polled one count once. ``remaining_order_qty`` 0 means the order is done.

Keepalive: "ping at least every 60 seconds" (https://docs.kraken.com/exchange/guides/futures/websockets):
the runner's protocol-level pings every ``heartbeat_s`` (30 s), as futures_feed.py.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from sequence_core.errors import AuthenticationError
from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .futures import KrakenFutures, _dec, _fill, _ns
from .futures_feed import DEFAULT_FUTURES_WS_URL

log = logging.getLogger("sequence.venue.kraken")

FEEDS = ("open_orders", "fills")
FILL_DRIVEN = {"full_fill", "partial_fill"}
REFUSALS = {"alert", "error", "subscribed_failed"}
PLAIN = re.compile(r"^[A-Za-z _.]{1,80}$")               # Kraken's fixed texts: safe to show


def _said(message: dict) -> str:
    text = message.get("message")
    return text if isinstance(text, str) and PLAIN.match(text) else str(message.get("event"))


class KrakenFuturesUserStream(UserStream):
    """Perp orders and fills on Kraken Futures' socket; spot orders are KrakenUserStream's."""

    venue = "kraken"
    label = "kraken futures"
    heartbeat_s = 30.0

    def __init__(self, futures: KrakenFutures, settings: dict):
        self.futures, self.settings = futures, settings
        self._challenge: str | None = None
        self._acked: set[str] = set()
        self._orders: dict[str, dict] = {}                   # order_id -> {"cid", "filled", "fills"}

    async def url(self) -> str:
        self._challenge, self._acked = None, set()
        return self.settings.get("futures_ws_url", DEFAULT_FUTURES_WS_URL)

    def login(self) -> list:
        return [self.futures.client.challenge_request()]

    def logged_in(self, message):
        if not isinstance(message, dict):
            return None
        if message.get("event") == "challenge" and message.get("message"):
            self._challenge = str(message["message"])
            return True
        if message.get("event") in REFUSALS:
            log.warning("kraken futures refused the websocket challenge: %s", _said(message))
            return False
        return None                                          # the greeting ({"event": "info"})

    def subscribe(self) -> list:
        signed = self.futures.client.signed_challenge(self._challenge or "")
        return [{"event": "subscribe", "feed": feed, **signed} for feed in FEEDS]

    def covers(self, inst) -> bool:
        """Perps only: spot orders are on Kraken's other socket (stream.py)."""
        return inst.kind == "perp"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict):
            return []
        event, feed = message.get("event"), message.get("feed")
        if event == "subscribed":
            self._acked.add(str(feed))
        elif event in REFUSALS:
            if not self._acked.issuperset(FEEDS):
                raise AuthenticationError(f"kraken futures refused the private websocket login ({_said(message)}): "
                                          "check futures_api_key and futures_api_secret")
            log.warning("kraken futures private websocket: %s", _said(message))
        elif event is None and feed == "open_orders_snapshot":
            return [s for o in message.get("orders") or [] if (s := self._order(o, False, "")) is not None]
        elif event is None and feed == "open_orders":
            return self._delta(message)
        elif event is None and feed in ("fills", "fills_snapshot"):
            return [s for f in message.get("fills") or [] if (s := self._fill(f)) is not None]
        return []

    def _known(self, order_id: str, cli_ord_id: str | None) -> dict | None:
        """What is remembered of an order, by ``order_id``; None: not one of this engine's."""
        known = self._orders.get(order_id)
        if known is None and order_id:
            cid = cli_ord_id or self.futures.client_id(order_id)
            if not cid:
                return None                                  # another client's order, or not yet known: polls read it
            known = self._orders[order_id] = {"cid": cid, "filled": Decimal(0), "fills": {}}
        return known

    def _delta(self, message: dict) -> list:
        reason = str(message.get("reason") or "")
        if message.get("is_cancel") and reason in FILL_DRIVEN:
            return []                                        # the fills feed carries it (see the module notes)
        order = message.get("order")
        if order is not None:
            state = self._order(order, bool(message.get("is_cancel")), reason)
            return [state] if state is not None else []
        known = self._known(str(message.get("order_id") or ""), message.get("cli_ord_id"))
        if known is None or not message.get("is_cancel"):
            return []
        self._orders.pop(str(message["order_id"]), None)
        return [OrderState(known["cid"], str(message["order_id"]), "CANCELLED", known["filled"], reason=reason,
                           qty=self.futures.sent_qty(known["cid"]))]

    def _order(self, o: dict, cancelled: bool, reason: str) -> OrderState | None:
        order_id = str(o.get("order_id") or "")
        known = self._known(order_id, o.get("cli_ord_id"))
        if known is None:
            return None
        known["filled"] = max(known["filled"], _dec(o.get("filled")))
        status = "CANCELLED" if cancelled else "PARTIALLY_FILLED" if known["filled"] else "NEW"
        if cancelled:
            self._orders.pop(order_id, None)
        return OrderState(known["cid"], order_id, status, known["filled"], reason=reason if cancelled else "",
                          venue_ts_ns=_ns(o.get("last_update_time") or o.get("time")),
                          price=_dec(o["limit_price"]) if o.get("limit_price") else None,
                          qty=self.futures.sent_qty(known["cid"]))

    def _fill(self, f: dict) -> OrderState | None:
        order_id = str(f.get("order_id") or "")
        known = self._known(order_id, f.get("cli_ord_id"))
        if known is None:
            return None
        # the REST row's fields, so one parser reads both (the same fill id, fee and liquidity)
        fill = _fill({"fill_id": f["fill_id"], "price": f["price"], "size": f["qty"], "fee_paid": f.get("fee_paid"),
                      "fee_currency": f.get("fee_currency"), "fillType": f.get("fill_type"), "fillTime": f.get("time")})
        known["fills"][fill.fill_id] = fill.qty
        filled = max(known["filled"], sum(known["fills"].values(), Decimal(0)))
        remaining = f.get("remaining_order_qty")
        done = remaining is not None and _dec(remaining) == 0
        if done:
            self._orders.pop(order_id, None)
        return OrderState(known["cid"], order_id, "FILLED" if done else "PARTIALLY_FILLED", filled, (fill,),
                          venue_ts_ns=fill.venue_ts_ns, qty=self.futures.sent_qty(known["cid"]))
