"""A fake Coinbase Advanced Trade server on 127.0.0.1 that checks requests the way Coinbase does.

Auth: ``Authorization: Bearer <JWT>``, verified with the key's *public* key (ES256 as raw
r || s, or EdDSA), ``kid`` = ``sub`` = the key name, ``iss`` "cdp", a ``nonce``, ``uri`` =
"<METHOD> <host><path>" of this very request, ``exp`` not passed and ``nbf`` not in the future
(5 s skew) by the server's clock; anything else is HTTP 401 ``Unauthorized``, as Coinbase
answers. Paths under ``/api/v3/brokerage`` with Coinbase's field names: refused creates are
HTTP 200 ``success: false`` with ``error_response``, refused edits ``errors``, cancels
``results``; unknown orders 404 ``NOT_FOUND``; 429 with ``{"errors": [{"id":
"rate_limit_exceeded"}]}``. A create that reuses a client_order_id returns the existing order;
one over 128 characters is HTTP 400 ``INVALID_ARGUMENT``.
Orders match a fixed book (asks 91000.00 x 2 BTC, bids 90990.00 x 2 BTC) at the tier-0 taker
fee, 1.2 %, charged in USD.
Websocket ``/``: subscribe per channel (``heartbeats``, ``level2`` -> ``l2_data`` snapshot then
updates, ``market_trades``), each answered with a ``subscriptions`` message; every message
carries ``sequence_num`` counted per connection. The private ``user`` channel is served on the
same socket (Coinbase's market endpoint serves it too): its subscribe must carry a JWT checked
as the REST one but with no ``uri`` claim, else ``{"type": "error", "message": "authentication
failure"}``; accepted, it sends the open orders as ``snapshot`` messages of at most 50 orders
(before the ``subscriptions`` ack, as Coinbase does) and then an ``update`` on every order
change (create, fill, edit, cancel), without fills. ``private`` (sockets subscribed to
``user``), ``logins`` (each user subscribe: accepted or not), ``fill_resting(cid, qty)``. Faults: ``rate_limit_next``,
``malformed_next``, ``clock_offset_ms``, ``refuse_next_place``, ``lose_next_place``,
``server_error_next``, ``stall``, ``skip_next_seq``, ``drop_sockets()``.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from datetime import datetime, timezone
from decimal import Decimal

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

P = "/api/v3/brokerage"
ASK, BID, FEE = Decimal("91000.00"), Decimal("90990.00"), Decimal("0.012")
LOT, TICK = Decimal("0.00000001"), Decimal("0.01")
USER_ID = "2222-000000-000000"


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def unauthorized():
    return web.Response(status=401, text="Unauthorized\n")


def refused(code: str, message: str) -> web.Response:
    return web.json_response({"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                              "error_response": {"error": code, "message": message, "error_details": "",
                                                 "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
                                                 "new_order_failure_reason": code}})


class FakeCoinbase(FakeVenueServer):
    def __init__(self, key_name: str, public_key):
        super().__init__()
        self.key_name, self.public_key = key_name, public_key
        self.orders: dict[str, dict] = {}          # order_id -> order
        self.fills: dict[str, list] = {}
        self.refuse_next_place: tuple[str, str] | None = None
        self.lose_next_place = False
        self.skip_next_seq = 0
        self.server_error_next = 0
        self.stall: tuple[int, float] = (0, 0.0)     # (requests, seconds) answered late
        self.bids = {"90990.00": "2", "90980.00": "3"}
        self.asks = {"91000.00": "2", "91010.00": "3"}
        self.subscriptions: list[tuple[str, str, tuple]] = []
        self.heartbeat_every_s = 0.2
        self._seq: dict = {}                       # websocket -> next sequence_num
        self._subs: dict = {}                      # websocket -> {channel: set(products)}
        self._ids = itertools.count(7000)
        self.private: list = []                    # sockets subscribed to the user channel
        self.logins: list[bool] = []               # each user-channel subscribe: accepted or not
        self.private_at: list[int] = []            # len(requests) at each accepted user subscribe

    # -- auth -------------------------------------------------------------------------------------
    def check_jwt(self, token: str, uri: str | None) -> bool:
        """A REST JWT (``uri`` the request) or a websocket one (``uri`` None: the claim must be absent)."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

        try:
            h64, c64, s64 = token.split(".")
            header, claims, sig = json.loads(b64d(h64)), json.loads(b64d(c64)), b64d(s64)
        except (ValueError, TypeError):
            return False
        now = self.now_ms() // 1000
        if (header.get("kid") != self.key_name or claims.get("sub") != self.key_name or claims.get("iss") != "cdp"
                or not header.get("nonce") or claims.get("uri") != uri
                or not isinstance(claims.get("exp"), int) or claims["exp"] <= now or claims.get("nbf", 0) > now + 5):
            return False
        message = f"{h64}.{c64}".encode()
        try:
            if header.get("alg") == "ES256" and isinstance(self.public_key, ec.EllipticCurvePublicKey) and len(sig) == 64:
                der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
                self.public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
            elif header.get("alg") == "EdDSA" and not isinstance(self.public_key, ec.EllipticCurvePublicKey):
                self.public_key.verify(sig, message)
            else:
                return False
        except InvalidSignature:
            return False
        return True

    async def verify(self, request):
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not self.check_jwt(auth[7:], f"{request.method} {request.host}{request.path}"):
            return unauthorized()
        body = await request.text()
        return json.loads(body) if body else dict(request.query)

    def rate_limited(self):
        return web.json_response({"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}, status=429,
                                 headers={"Retry-After": "0.1"})

    @web.middleware
    async def slow_or_broken(self, request, handler):
        """``server_error_next``: 503s; ``stall``: the request is done, its answer comes late."""
        if self.server_error_next:
            self.server_error_next -= 1
            return web.Response(status=503, text="Service Unavailable")
        response = await handler(request)
        if self.stall[0]:
            self.stall = (self.stall[0] - 1, self.stall[1])
            await asyncio.sleep(self.stall[1])
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults, self.slow_or_broken])
        r = app.router
        r.add_get("/", self.ws)
        r.add_get(P + "/time", self.time)
        r.add_get(P + "/market/products", self.products)
        r.add_get(P + "/market/product_book", self.book)
        r.add_get(P + "/accounts", self.accounts)
        r.add_get(P + "/transaction_summary", self.summary)
        r.add_post(P + "/orders", self.place)
        r.add_post(P + "/orders/batch_cancel", self.cancel)
        r.add_post(P + "/orders/edit", self.edit)
        r.add_get(P + "/orders/historical/batch", self.list_orders)
        r.add_get(P + "/orders/historical/fills", self.get_fills)
        r.add_get(P + "/orders/historical/{order_id}", self.get_order)
        return app

    # -- public -----------------------------------------------------------------------------------
    async def time(self, request):
        ms = self.now_ms()
        return web.json_response({"iso": iso(ms), "epochSeconds": str(ms // 1000), "epochMillis": str(ms)})

    async def products(self, request):
        return web.json_response({"products": [{
            "product_id": "BTC-USD", "base_currency_id": "BTC", "quote_currency_id": "USD", "product_type": "SPOT",
            "price_increment": "0.01", "quote_increment": "0.01", "base_increment": "0.00000001", "quote_min_size": "1",
            "base_min_size": "0.00000001", "status": "online", "trading_disabled": False, "cancel_only": False,
            "is_disabled": False, "view_only": False}], "num_products": 1})

    def _sides(self):
        return (sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0])), sorted(self.asks.items(), key=lambda kv: Decimal(kv[0])))

    async def book(self, request):
        bids, asks = self._sides()
        return web.json_response({"pricebook": {"product_id": request.query["product_id"],
                                                "bids": [{"price": p, "size": s} for p, s in bids],
                                                "asks": [{"price": p, "size": s} for p, s in asks], "time": iso(self.now_ms())},
                                  "last": "90995.00", "mid_market": "90995.00"})

    # -- account ----------------------------------------------------------------------------------
    @signed
    async def accounts(self, request, p):
        def wallet(ccy, value):
            return {"uuid": f"wallet-{ccy}", "name": f"{ccy} Wallet", "currency": ccy, "active": True, "ready": True,
                    "available_balance": {"value": value, "currency": ccy}, "hold": {"value": "0", "currency": ccy}}
        return web.json_response({"accounts": [wallet("BTC", "1.00000000"), wallet("USD", "100000.00")],
                                  "has_next": False, "cursor": "", "size": 2})

    @signed
    async def summary(self, request, p):
        return web.json_response({"total_volume": 0, "total_fees": 0, "fee_tier": {
            "pricing_tier": "Intro 1", "usd_from": "0", "usd_to": "1000", "taker_fee_rate": "0.012", "maker_fee_rate": "0.006"}})

    # -- orders -----------------------------------------------------------------------------------
    def _find_client(self, cid: str) -> dict | None:
        return next((o for o in self.orders.values() if o["client_order_id"] == cid), None)

    @signed
    async def place(self, request, p):
        cid = p.get("client_order_id", "")
        if len(cid) > 128:                       # enforced since mid-October 2025 (changelog 2025-Aug-14)
            return web.json_response({"error": "INVALID_ARGUMENT", "message": "client_order_id exceeds 128 characters"},
                                     status=400)
        existing = self._find_client(cid)
        if existing is not None:                 # "the order corresponding with that ID will be returned instead"
            return self._created(existing)
        if self.refuse_next_place:
            code, message = self.refuse_next_place
            self.refuse_next_place = None
            return refused(code, message)
        (kind, cfg), = p["order_configuration"].items()
        if kind not in ("market_market_ioc", "sor_limit_ioc", "limit_limit_gtc"):
            return refused("UNSUPPORTED_ORDER_CONFIGURATION", "Unsupported order configuration")
        size, side = Decimal(cfg["base_size"]), p["side"]
        price = Decimal(cfg["limit_price"]) if "limit_price" in cfg else None
        if size <= 0 or size % LOT:
            return refused("INVALID_SIZE_PRECISION", "Invalid order size precision")
        if price is not None and (price <= 0 or price % TICK):
            return refused("INVALID_PRICE_PRECISION", "Invalid price precision")
        if (side == "BUY" and size * (price or ASK) * (1 + FEE) > 100000) or (side == "SELL" and size > 1):
            return refused("INSUFFICIENT_FUND", "Insufficient balance in source account")
        touch = ASK if side == "BUY" else BID
        crosses = price is None or (price >= touch if side == "BUY" else price <= touch)
        if cfg.get("post_only") and crosses:
            return refused("INVALID_LIMIT_PRICE_POST_ONLY", "Limit price would take liquidity on a post-only order")
        oid = f"0000-{next(self._ids):06d}"
        now = iso(self.now_ms())
        order = {"order_id": oid, "product_id": p["product_id"], "user_id": USER_ID, "order_configuration": {kind: cfg},
                 "side": side, "client_order_id": cid, "status": "OPEN", "created_time": now, "filled_size": "0",
                 "average_filled_price": "0", "number_of_fills": "0", "filled_value": "0", "total_fees": "0",
                 "time_in_force": "GOOD_UNTIL_CANCELLED" if kind == "limit_limit_gtc" else "IMMEDIATE_OR_CANCEL",
                 "order_type": "MARKET" if kind == "market_market_ioc" else "LIMIT", "product_type": "SPOT",
                 "reject_message": "", "cancel_message": "", "last_fill_time": None, "size_in_quote": False}
        if crosses:
            self._fill(order, min(size, Decimal("2")), touch, "TAKER")
            if order["status"] == "OPEN" and kind != "limit_limit_gtc":
                order["status"] = "CANCELLED"
        elif kind != "limit_limit_gtc":
            order["status"] = "CANCELLED"
        self.orders[oid] = order
        self._push_user(order)
        if self.lose_next_place:                 # the order is made, the answer never arrives
            self.lose_next_place = False
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return self._created(order)

    def _fill(self, order: dict, qty: Decimal, price: Decimal, liquidity: str) -> None:
        filled = Decimal(order["filled_size"]) + qty
        now = iso(self.now_ms())
        self.fills.setdefault(order["order_id"], []).append({
            "entry_id": f"e-{next(self._ids)}", "trade_id": f"t-{next(self._ids)}", "order_id": order["order_id"],
            "trade_time": now, "trade_type": "FILL", "price": f"{price}", "size": f"{qty:f}",
            "commission": f"{qty * price * FEE:f}", "product_id": order["product_id"], "sequence_timestamp": now,
            "liquidity_indicator": liquidity, "size_in_quote": False, "user_id": order["user_id"], "side": order["side"]})
        size = Decimal(next(iter(order["order_configuration"].values()))["base_size"])
        fees = sum(Decimal(f["commission"]) for f in self.fills[order["order_id"]])
        order.update(filled_size=f"{filled:f}", average_filled_price=f"{price}", last_fill_time=now, total_fees=f"{fees:f}",
                     number_of_fills=str(len(self.fills[order["order_id"]])), status="FILLED" if filled >= size else "OPEN")

    def fill_resting(self, cid: str | None = None, qty: str | None = None) -> None:
        """A taker trades against our resting order ``cid`` for ``qty`` (default: every resting
        order, in full) at its limit, from any thread; the user channel hears of it."""
        def go():
            for o in self.orders.values():
                if o["status"] == "OPEN" and cid in (None, o["client_order_id"]):
                    cfg = next(iter(o["order_configuration"].values()))
                    q = Decimal(qty) if qty else Decimal(cfg["base_size"]) - Decimal(o["filled_size"])
                    self._fill(o, q, Decimal(cfg["limit_price"]), "MAKER")
                    self._push_user(o)
        self.soon(go)

    @staticmethod
    def _created(order: dict) -> web.Response:
        return web.json_response({"success": True, "success_response": {
            "order_id": order["order_id"], "product_id": order["product_id"], "side": order["side"],
            "client_order_id": order["client_order_id"]}, "order_configuration": order["order_configuration"]})

    @signed
    async def get_order(self, request, p):
        order = self.orders.get(request.match_info["order_id"])
        if order is None:
            return web.json_response({"error": "NOT_FOUND", "error_details": "order with this orderID was not found",
                                      "message": "order with this orderID was not found"}, status=404)
        return web.json_response({"order": order})

    @signed
    async def list_orders(self, request, p):
        products, statuses = request.query.getall("product_ids", []), request.query.getall("order_status", [])
        rows = [o for o in reversed(list(self.orders.values()))
                if (not products or o["product_id"] in products) and (not statuses or o["status"] in statuses)]
        return web.json_response({"orders": rows, "sequence": "0", "has_next": False, "cursor": ""})

    @signed
    async def get_fills(self, request, p):
        rows = [f for oid in request.query.getall("order_ids", []) for f in self.fills.get(oid, [])]
        return web.json_response({"fills": rows, "cursor": ""})

    @signed
    async def cancel(self, request, p):
        results = []
        for oid in p.get("order_ids", []):
            order = self.orders.get(oid)
            reason = ("UNKNOWN_CANCEL_ORDER" if order is None else
                      "ORDER_IS_FULLY_FILLED" if order["status"] == "FILLED" else
                      "DUPLICATE_CANCEL_REQUEST" if order["status"] != "OPEN" else "")
            if not reason:
                order["status"] = "CANCELLED"
                self._push_user(order)
            results.append({"success": not reason, "failure_reason": reason or "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": oid})
        return web.json_response({"results": results})

    @signed
    async def edit(self, request, p):
        def fail(reason):
            return web.json_response({"success": False, "errors": [
                {"edit_failure_reason": reason, "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON"}]})
        order = self.orders.get(p.get("order_id", ""))
        if order is None:
            return fail("ORDER_NOT_FOUND")
        if "limit_limit_gtc" not in order["order_configuration"]:
            return fail("ONLY_LIMIT_ORDER_EDITS_SUPPORTED")
        if order["status"] != "OPEN":
            return fail("ONLY_OPEN_ORDERS_CAN_BE_EDITED")
        if not p.get("size") or not p.get("price"):      # Coinbase reads a missing one as 0
            return fail("INVALID_EDITED_SIZE" if not p.get("size") else "INVALID_EDITED_PRICE")
        if Decimal(p["size"]) <= Decimal(order["filled_size"]):
            return fail("CANNOT_EDIT_TO_BELOW_FILLED_SIZE")
        order["order_configuration"]["limit_limit_gtc"].update(limit_price=p["price"], base_size=p["size"])
        self._push_user(order)
        return web.json_response({"success": True, "errors": []})

    # -- websocket --------------------------------------------------------------------------------
    async def _send(self, ws, message: dict) -> None:
        seq = self._seq.get(ws, 0) + self.skip_next_seq
        self.skip_next_seq = 0
        self._seq[ws] = seq + 1
        if not ws.closed:
            await ws.send_json({**message, "sequence_num": seq})

    def _envelope(self, channel: str, events: list) -> dict:
        return {"channel": channel, "client_id": "", "timestamp": iso(self.now_ms()), "events": events}

    def _levels(self, bids: dict, asks: dict) -> list:
        now = iso(self.now_ms())
        return ([{"side": "bid", "event_time": now, "price_level": p, "new_quantity": s} for p, s in bids.items()]
                + [{"side": "offer", "event_time": now, "price_level": p, "new_quantity": s} for p, s in asks.items()])

    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        subs = self._subs[ws] = {}
        beats = asyncio.ensure_future(self._heartbeats(ws))
        try:
            async for msg in ws:
                body = json.loads(msg.data)
                kind, channel, products = body["type"], body["channel"], tuple(body.get("product_ids", []))
                self.subscriptions.append((kind, channel, products))
                if "jwt" in body or channel == "user":
                    ok = self.check_jwt(body.get("jwt", ""), None)
                    if channel == "user" and kind == "subscribe":
                        self.logins.append(ok)
                    if not ok:
                        await ws.send_json({"type": "error", "message": "authentication failure"})
                        continue
                if channel == "user":
                    if kind == "subscribe":
                        self.private.append(ws)
                        self.private_at.append(len(self.requests))
                        open_ = [self._user_order(o) for o in self.orders.values() if o["status"] == "OPEN"]
                        for i in range(0, max(len(open_), 1), 50):      # "batched by 50"
                            await self._send(ws, self._envelope("user", [{"type": "snapshot", "orders": open_[i:i + 50],
                                                                          "positions": {}}]))
                    elif ws in self.private:
                        self.private.remove(ws)
                    products = products or (USER_ID,)       # no product_ids: the ack names the user instead
                if kind == "subscribe":
                    subs.setdefault(channel, set()).update(products)
                else:
                    subs.get(channel, set()).difference_update(products)
                await self._send(ws, self._envelope("subscriptions", [{"subscriptions": {c: sorted(s) for c, s in subs.items() if s}}]))
                if kind == "subscribe" and channel == "level2":
                    for product in products:
                        await self._send(ws, self._envelope("l2_data", [{"type": "snapshot", "product_id": product,
                                                                         "updates": self._levels(self.bids, self.asks)}]))
        finally:
            beats.cancel()
        return ws

    async def _heartbeats(self, ws) -> None:
        for counter in itertools.count():
            await asyncio.sleep(self.heartbeat_every_s)
            if "heartbeats" in self._subs.get(ws, {}):
                await self._send(ws, self._envelope("heartbeats", [{"current_time": iso(self.now_ms()), "heartbeat_counter": counter}]))

    def _to(self, channel: str, message: dict) -> None:
        for ws in list(self.sockets):
            if not ws.closed and self._subs.get(ws, {}).get(channel):
                asyncio.ensure_future(self._send(ws, message))

    @staticmethod
    def _user_order(o: dict) -> dict:
        """An order as the user channel shows it (its field names, not the REST ones)."""
        cfg = next(iter(o["order_configuration"].values()))
        filled = Decimal(o["filled_size"])
        leaves = Decimal(cfg["base_size"]) - filled if o["status"] == "OPEN" else Decimal(0)
        return {"order_id": o["order_id"], "client_order_id": o["client_order_id"], "cumulative_quantity": f"{filled:f}",
                "leaves_quantity": f"{leaves:f}", "avg_price": o["average_filled_price"], "total_fees": o["total_fees"],
                "status": o["status"], "product_id": o["product_id"], "creation_time": o["created_time"],
                "order_side": o["side"], "order_type": o["order_type"].title(), "limit_price": cfg.get("limit_price", ""),
                "post_only": bool(cfg.get("post_only")), "number_of_fills": o["number_of_fills"],
                "cancel_reason": "User requested" if o["status"] == "CANCELLED" and "limit_limit_gtc" in o["order_configuration"] else "",
                "reject_reason": "", "time_in_force": o["time_in_force"], "product_type": "SPOT",
                "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE", "trigger_status": "INVALID_ORDER_TYPE"}

    def _push_user(self, order: dict) -> None:
        """The user channel's update for this order's change (on the server's loop)."""
        message = self._envelope("user", [{"type": "update", "orders": [self._user_order(order)]}])
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(self._send(ws, message))

    def push_book(self, bids=None, asks=None) -> None:
        """Change the book and send the update (size "0" deletes), from any thread."""
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    side.update({p: s}) if Decimal(s) else side.pop(p, None)
            self._to("level2", self._envelope("l2_data", [{"type": "update", "product_id": "BTC-USD",
                                                           "updates": self._levels(bids or {}, asks or {})}]))
        self.soon(go)

    def push_trade(self, price: str, size: str, side: str) -> None:
        trade = {"trade_id": str(next(self._ids)), "product_id": "BTC-USD", "price": price, "size": size, "side": side,
                 "time": iso(self.now_ms())}
        self.soon(lambda: self._to("market_trades", self._envelope("market_trades", [{"type": "update", "trades": [trade]}])))
