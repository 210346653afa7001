"""Kraken private websocket: the WebSocket v2 ``executions`` channel pushes every order change and fill.

Auth (https://docs.kraken.com/api/docs/guides/spot-ws-auth and
https://docs.kraken.com/api/docs/rest-api/get-websockets-token): a token from the signed REST
call ``POST /0/private/GetWebSocketsToken`` (``result.token``). It must be used within 15
minutes of issue and then lasts while the connection does, so a fresh one is fetched in
``url()`` before every (re)connect. Connect to ``wss://ws-auth.kraken.com/v2`` (setting
``private_ws_url``; else the public ``ws_url`` with ``ws.`` -> ``ws-auth.`` in its host, as
Kraken names its endpoints, https://docs.kraken.com/api/docs/guides/spot-ws-intro).

Subscribe (https://docs.kraken.com/api/docs/websocket-v2/executions):
``{"method": "subscribe", "params": {"channel": "executions", "token": .., "snap_orders": true,
"snap_trades": false}}``. The token travels in the subscribe, so the subscribe is this socket's
login: its ack ``{"method": "subscribe", "success": true, "result": {"channel": "executions"}}``
accepts it; ``"success": false`` with ``"error": "ESession:Invalid session"`` (a token Kraken
does not know or that expired) or ``"EAccount:Invalid permissions"`` (the key may not query
orders and trades) refuses it. Messages ``{"channel": "executions", "type": "snapshot"|"update",
"data": [..]}``; each entry has ``order_id``, ``exec_type`` (pending_new, new, trade, filled,
iceberg_refill, canceled, expired, amended, restated, status), ``order_status``
(pending_new, new, partially_filled, filled, canceled, expired), ``cum_qty``, ``timestamp``
(RFC 3339); ``cl_ord_id``, ``symbol``, ``order_qty``, ``limit_price`` on the order's first
report and in the snapshot, and not on every later one: the client id is remembered by
``order_id`` (and the session's own txid map covers orders placed by this process). Numbers
are JSON numbers. A ``trade`` entry carries ``exec_id``, ``trade_id``, ``last_qty``,
``last_price``, ``liquidity_ind`` (``m`` maker, ``t`` taker), ``fees`` ``[{asset, qty}]``.
A trade that completes the order may still say ``order_status: partially_filled``; a separate
``exec_type: filled`` report ends it (Spot sequence,
https://docs.kraken.com/exchange/api-reference/unified-ws/executions), so only that report, or
``filled``/``canceled``/``expired`` status, makes an order terminal here.

Fill id: ``exec_id`` of the trade entry. On a trade it is the trade's txid (trade payloads
published with SDK tests show it in that ``TGBB7L-HT5LX-J3BZ4A`` form, next to an integer
``trade_id``), the key under which QueryTrades answers the order's ``trades``; execution.py
uses that key as the fill id, so a fill seen here and by a poll counts once. ``trade_id`` is
the integer per-pair trade sequence (REST shows it as the trade's ``trade_id`` field), not
unique across pairs, so it is not the id. Keepalive: ``{"method": "ping"}`` (answered
``pong``; Kraken also sends ``heartbeat`` messages).
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from sequence_core.errors import AuthenticationError
from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .feed import ts_ns
from .symbols import asset

log = logging.getLogger(__name__)

DEFAULT_PRIVATE_WS_URL = "wss://ws-auth.kraken.com/v2"
STATUS = {"pending_new": "NEW", "new": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED",
          "canceled": "CANCELLED", "expired": "EXPIRED"}
BY_EXEC = {"pending_new": "NEW", "new": "NEW", "filled": "FILLED", "canceled": "CANCELLED", "expired": "EXPIRED"}
TERMINAL = ("FILLED", "CANCELLED", "EXPIRED")
ERROR_CODE = re.compile(r"^E[A-Za-z]+:[A-Za-z ]{1,60}$")       # Kraken's fixed codes: safe to log


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else the public ``ws_url``'s authenticated sibling."""
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url")
    if not public:
        return DEFAULT_PRIVATE_WS_URL
    scheme, sep, rest = public.partition("://")
    host, slash, path = rest.partition("/")
    if host.startswith(("ws.", "beta-ws.")):              # ws.kraken.com -> ws-auth.kraken.com
        host = host.replace("ws.", "ws-auth.", 1)
    return f"{scheme}{sep}{host}{slash}{path}"


def _dec(value) -> Decimal:
    return Decimal(str(value))                            # JSON floats: their shortest text


class KrakenUserStream(UserStream):
    venue = "kraken"

    def __init__(self, session, settings: dict):
        self.session, self.settings = session, settings
        self._token: str | None = None
        self._orders: dict[str, dict] = {}                  # order_id -> what earlier reports said

    async def url(self) -> str:
        try:
            self._token = await self.session.client.websockets_token()
        except AuthenticationError as exc:                   # its text is Kraken's code, never the secret
            raise AuthenticationError(f"kraken refused the websocket token for the private websocket login: {exc}") from None
        return private_url(self.settings)

    def login(self) -> list:
        return [{"method": "subscribe", "params": {"channel": "executions", "token": self._token,
                                                   "snap_orders": True, "snap_trades": False}}]

    def logged_in(self, message):
        if not isinstance(message, dict) or message.get("method") != "subscribe":
            return None
        if message.get("success"):
            return True if (message.get("result") or {}).get("channel") == "executions" else None
        error = message.get("error")
        log.warning("kraken refused the executions subscription: %s",
                    error if isinstance(error, str) and ERROR_CODE.match(error) else "(no error code)")
        return False

    def ping(self):
        return {"method": "ping"}

    def covers(self, inst) -> bool:
        """Spot pairs only: perps trade on Kraken Futures, whose orders this socket never
        carries, so the engine keeps polling them at the full rate."""
        return inst.kind != "perp"

    def parse(self, message, instruments) -> list:
        if not isinstance(message, dict) or message.get("channel") != "executions":
            return []
        return [s for e in message.get("data") or [] if (s := self._state(e, instruments)) is not None]

    def _client_id(self, order_id: str, entry: dict, known: dict) -> str | None:
        """The engine's client id: from ``cl_ord_id`` (a UUID sent for a long id maps back through
        the session), else remembered from an earlier report, else the session's txid map."""
        cids, txids = self.session._cids, self.session._txids
        if entry.get("cl_ord_id"):
            known["cid"] = cids.get(entry["cl_ord_id"], entry["cl_ord_id"])
        elif "cid" not in known:
            cid = next((c for c, t in txids.items() if t == order_id), None)
            if cid is None:
                return None                                  # not ours, or not yet known: polls read it
            known["cid"] = cid
        txids.setdefault(known["cid"], order_id)            # later REST reads by txid: one call
        return known["cid"]

    def _state(self, e: dict, instruments: dict) -> OrderState | None:
        order_id = e.get("order_id")
        if not order_id:
            return None
        known = self._orders.setdefault(order_id, {})
        cid = self._client_id(order_id, e, known)
        if cid is None:
            self._orders.pop(order_id, None)
            return None
        for field in ("symbol", "limit_price", "order_qty"):
            if e.get(field) is not None:
                known[field] = e[field] if field == "symbol" else _dec(e[field])
        kind = e.get("exec_type", "")
        fill = self._fill(e, instruments.get(e.get("symbol") or known.get("symbol"))) if kind == "trade" else None
        if e.get("cum_qty") is not None:
            known["cum"] = _dec(e["cum_qty"])
        elif fill is not None:
            known["cum"] = known.get("cum", Decimal(0)) + fill.qty
        cum = known.get("cum", Decimal(0))
        status = STATUS.get(e.get("order_status", "")) or BY_EXEC.get(kind) or known.get("status") or "NEW"
        if status == "NEW" and cum:
            status = "PARTIALLY_FILLED"
        known["status"] = status
        reason = (e.get("reason") or e.get("cancel_reason") or "") if status in ("CANCELLED", "EXPIRED") else ""
        if status in TERMINAL:
            self._orders.pop(order_id, None)
        return OrderState(cid, order_id, status, cum, (fill,) if fill else (), reason=reason,
                          venue_ts_ns=ts_ns(e.get("timestamp")), price=known.get("limit_price"), qty=known.get("order_qty"))

    @staticmethod
    def _fill(e: dict, inst) -> VenueFill | None:
        """The trade a ``trade`` report carries; one missing its id or fees is left to the poll."""
        fees = e.get("fees")
        if not e.get("exec_id") or e.get("last_qty") is None or e.get("last_price") is None or fees is None:
            return None
        assets = {asset(f["asset"]) for f in fees} or ({inst.quote} if inst is not None else set())
        if len(assets) != 1:
            return None                                      # one fee asset per fill in the core
        return VenueFill(e["exec_id"], _dec(e["last_price"]), _dec(e["last_qty"]),
                         sum((_dec(f["qty"]) for f in fees), Decimal(0)), assets.pop(),
                         "maker" if e.get("liquidity_ind") == "m" else "taker", ts_ns(e.get("timestamp")))
