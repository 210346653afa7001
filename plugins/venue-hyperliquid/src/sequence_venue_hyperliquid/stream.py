"""Hyperliquid private order/fill stream: ``orderUpdates`` and ``userFills`` on the websocket.

Sources: https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/websocket (URLs),
.../websocket/subscriptions (subscriptions, acks, data types), .../websocket/timeouts-and-heartbeats,
.../rate-limits, and the official SDK (github.com/hyperliquid-dex/hyperliquid-python-sdk,
``hyperliquid/websocket_manager.py``, ``hyperliquid/utils/types.py``).

- URL: the market-data socket, ``wss://api.hyperliquid.xyz/ws`` (testnet
  ``wss://api.hyperliquid-testnet.xyz/ws``). Settings: ``private_ws_url``, else the feed's
  ``ws_url``, else the testnet URL when the session signs for testnet, else mainnet.
- No login and nothing signed: a user's feeds are public reads keyed by address,
  ``{"method": "subscribe", "subscription": {"type": "orderUpdates", "user": <address>}}`` and
  ``{"type": "userFills", "user": <address>}``, for the address the REST reads use (the vault,
  else the main account, else the key's own). The private key never travels on this socket.
- Each subscription is acknowledged ``{"channel": "subscriptionResponse", "data": {"method":
  "subscribe", "subscription": {...}}}``. A refused one is answered ``{"channel": "error",
  "data": "<text>"}``: ``Invalid subscription {...}`` (one the venue cannot parse), ``Already
  subscribed: {...}``, ``Cannot track more than 10 total users.`` (rate-limits page: "Maximum of
  10 unique users across user-specific websocket subscriptions"); the texts are those clients
  meet (github.com/nktkas/hyperliquid issue 78 and its websocket transport). The two acks are
  this stream's login: the runner goes live once both are in; an error before is raised with
  the venue's text (its own words, capped, with anything shaped like a key masked).
- ``orderUpdates``: ``{"channel": "orderUpdates", "data": [WsOrder]}``, WsOrder = ``{order: {coin,
  side, limitPx, sz (what is left), oid, timestamp, origSz, cloid}, status, statusTimestamp}``,
  status as the ``orderStatus`` info request names it (open, filled, canceled, triggered,
  rejected, marginCanceled, ... *Rejected). No fills in it, no snapshot.
- ``userFills``: ``{"channel": "userFills", "data": {isSnapshot?, user, fills: [WsFill]}}``, WsFill
  = the REST ``userFills`` row (coin, px, sz, side, time, startPosition, dir, closedPnl, hash, oid,
  crossed, fee, tid, feeToken, liquidation?, builderFee?; ``cloid`` when the order had one), so
  execution.venue_fill gives the stream the poll's fill id (``tid``), price, fee and liquidity.
  Not ``aggregateByTime``: one row per trade, as REST. The ``user`` channel (``userEvents``)
  carries the same rows as ``{fills: [WsFill]}`` and is read alike; it is not subscribed here.
- The first ``userFills`` message is a snapshot of recent fills (``isSnapshot: true``; "can be
  ignored if the previous messages were already processed"). It is skipped: after every
  (re)connect the engine reads each resting order and its fills over REST, and the snapshot is
  the account's recent history, mostly orders the engine has finished with.
- Keepalive: the server closes a socket silent for 60 s; ``{"method": "ping"}`` is answered
  ``{"channel": "pong"}``. On connect it sends the text "Websocket connection established."

Spot orders and fills come on the same two feeds, their ``coin`` the pair's wire name (``@107``,
``PURR/USDC``) and a spot buy's ``feeToken`` the base received; nothing here reads the coin (orders
are matched by cloid, fills by cloid or oid), and venue_fill keeps the fee's asset as sent.

Mapping: a cloid is the session's cloid_for(client order id), mapped back by the session
(HyperliquidSession.client_id: every cloid it sent or read, which after a restart includes each
resting order once the catch-up on connect has read it); fills are grouped per order.
Cumulative filled = ``origSz - sz`` of the order's leg plus the fills of its earlier legs the
engine has. Two orderings need care (the docs order neither channel against the other):
- a modify (``batchModify``) is a cancel-replace at the venue: the old oid is pushed
  ``canceled`` and a new oid ``open`` under the same cloid, either first (NautilusTrader issues
  3827 and 3971, from testnet). A cancel of an oid that an amend in flight or a newer oid
  (oids grow) replaces is not reported: the order lives on.
- a cancel (an IOC's rest, a user cancel) may arrive before the fills of the same block. An
  ended order whose leg has fills the engine has not got (neither from here nor from the
  session's last REST read) is reported PARTIALLY_FILLED with that filled size: the engine
  then reads the order over REST at once and gets the fills with the end, instead of closing
  the order without them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sequence_core.errors import NetworkError, VenueError
from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import _status, venue_fill
from .feed import DEFAULT_WS_URL

TESTNET_WS_URL = "wss://api.hyperliquid-testnet.xyz/ws"
CHANNELS = ("orderUpdates", "userFills")
KEY_SHAPED = re.compile(r"(0x)?[0-9a-fA-F]{64}")   # a private key's shape: never repeated, whatever comes back
MAX_TRACKED = 10_000                               # oids remembered; forgetting only makes a cancel wait for REST


def private_url(settings: dict, mainnet: bool) -> str:
    return settings.get("private_ws_url") or settings.get("ws_url") or (DEFAULT_WS_URL if mainnet else TESTNET_WS_URL)


def venue_text(data) -> str:
    """The venue's error text, short, with anything shaped like a key masked."""
    return KEY_SHAPED.sub("<hex>", str(data))[:200]


class HyperliquidUserStream(UserStream):
    venue = "hyperliquid"
    heartbeat_s = 30.0                                # within the venue's 60 s idle limit

    def __init__(self, session):
        self.session = session
        self.user = session.client.user
        self._acked: set[str] = set()
        self._legs: dict[str, set[int]] = {}          # cloid -> its oids (a modify adds one)
        self._cloids: dict[int, str] = {}             # oid -> cloid
        self._given: dict[int, dict[str, Decimal]] = {}   # oid -> {fill id: size} handed to the engine here

    async def url(self) -> str:
        return private_url(self.session.settings, self.session.client.mainnet)

    def login(self) -> list:
        self._acked = set()
        return [{"method": "subscribe", "subscription": {"type": kind, "user": self.user}} for kind in CHANNELS]

    def logged_in(self, message):
        if not isinstance(message, dict):
            return None                               # the connect greeting
        if message.get("channel") == "error":
            raise VenueError(f"hyperliquid refused the order/fill subscriptions for {self.user}: "
                             f"{venue_text(message.get('data'))}")
        if message.get("channel") == "subscriptionResponse":
            kind = ((message.get("data") or {}).get("subscription") or {}).get("type")
            if kind in CHANNELS:
                self._acked.add(kind)
        return True if len(self._acked) == len(CHANNELS) else None

    def ping(self):
        return {"method": "ping"}

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict):
            return []
        channel, data = message.get("channel"), message.get("data")
        if channel == "error":                        # something refused on a live socket: resubscribe and catch up
            raise NetworkError(f"hyperliquid private websocket error: {venue_text(data)}")
        if channel == "orderUpdates":
            return [s for s in map(self._order, data) if s is not None]
        if channel in ("userFills", "user") and isinstance(data, dict) and data.get("fills") and not data.get("isSnapshot"):
            if data.get("user") and data["user"].lower() != self.user.lower():
                return []
            return self._filled(data["fills"])
        return []                                     # subscriptionResponse, pong, snapshots, funding events

    # -- what the engine already has ------------------------------------------------------------
    def _track(self, cloid: str, oid: int) -> None:
        if len(self._cloids) > MAX_TRACKED:
            self._legs, self._cloids, self._given = {}, {}, {}
        self._cloids[oid] = cloid
        self._legs.setdefault(cloid, set()).add(oid)

    def _cloid_of(self, oid: int) -> str | None:
        if oid in self._cloids:
            return self._cloids[oid]
        return next((c for c, known in self.session._seen.items() if oid in known[2]), None)

    def _delivered(self, cloid: str) -> dict[str, tuple[int, Decimal]]:
        """fill id -> (oid, size) of this order's fills the engine has: handed over here, or in
        the session's last REST read of it."""
        known = self.session._seen.get(cloid)
        out = {}
        for raw in known[1] if known else ():
            fill = venue_fill(raw)
            out[fill.fill_id] = (int(raw["oid"]), fill.qty)
        for oid in self._legs.get(cloid, ()):
            out.update((fill_id, (oid, qty)) for fill_id, qty in self._given.get(oid, {}).items())
        return out

    def _replaced(self, cloid: str, oid: int) -> bool:
        """The old leg of a modify: an amend of the order is in flight, or a newer oid is known."""
        known = self.session._seen.get(cloid)
        oids = self._legs.get(cloid, set()) | (known[2] if known else set())
        return cloid in self.session._amending or any(o > oid for o in oids)

    # -- messages -------------------------------------------------------------------------------
    def _order(self, u: dict) -> OrderState | None:
        o = u["order"]
        oid = int(o["oid"])
        cloid = o.get("cloid") or self._cloid_of(oid)
        if cloid is None:
            return None                               # no cloid: not an order this engine placed
        self._track(cloid, oid)
        delivered = self._delivered(cloid)
        earlier = sum((q for leg, q in delivered.values() if leg != oid), Decimal(0))
        orig, left = Decimal(o.get("origSz") or o["sz"]), Decimal(o["sz"])
        venue_status, filled = u["status"], earlier + orig - left
        status = _status(venue_status, filled)
        if status in ("CANCELLED", "REJECTED"):
            if self._replaced(cloid, oid):
                return None
            if sum((q for leg, q in delivered.values() if leg == oid), Decimal(0)) < orig - left:
                status = "PARTIALLY_FILLED"           # its fills are not here yet: the engine reads it over REST
        ended = status in ("CANCELLED", "REJECTED") and venue_status != "canceled"
        return OrderState(self.session.client_id(cloid), str(oid), status, filled, reason=venue_status if ended else "",
                          venue_ts_ns=int(u.get("statusTimestamp") or o["timestamp"]) * 1_000_000,
                          price=Decimal(o["limitPx"]), qty=earlier + orig)

    def _filled(self, rows: list) -> list[OrderState]:
        by_oid: dict[int, list] = {}
        for row in rows:
            by_oid.setdefault(int(row["oid"]), []).append(row)
        out = []
        for oid, group in by_oid.items():
            cloid = next((r["cloid"] for r in group if r.get("cloid")), None) or self._cloid_of(oid)
            if cloid is None:
                continue                              # neither a cloid nor a known oid: the poll attributes it
            self._track(cloid, oid)
            fills = tuple(venue_fill(r) for r in group)
            self._given.setdefault(oid, {}).update((f.fill_id, f.qty) for f in fills)
            filled = sum((q for _, q in self._delivered(cloid).values()), Decimal(0))
            out.append(OrderState(self.session.client_id(cloid), str(oid), "PARTIALLY_FILLED", filled, fills,
                                  venue_ts_ns=max(f.venue_ts_ns for f in fills)))
        return out
