"""A fake Crypto.com Exchange v1 on 127.0.0.1 that checks requests as the exchange documents it
(https://exchange-developer.crypto.com/exchange/v1/docs/api/rest-common-api-reference):
private calls are POST ``/exchange/v1/{method}`` with ``{id, method, api_key, params, nonce,
sig}``; ``sig`` is recomputed here with its own port of the docs' JavaScript ``objectToString``
(hex HMAC-SHA256 of method + id + api_key + parameter string + nonce) and a wrong one is
40101 UNAUTHORIZED (HTTP 401); a nonce 60 s off this server's clock is 40102 INVALID_NONCE
(HTTP 400). Answers and error bodies follow the docs' examples: ``{"id", "method", "code",
"result"}``, NOT_FOUND 40401 inside HTTP 200, order refusals such as 306 and 316 with HTTP 500
as the reason-code table says, 42901 with HTTP 429. Field names are the docs' example
payloads (public-get-book, public-get-tickers, public-get-instruments, private-get-order-detail,
private-get-trades, private-user-balance, private-create-order-dma, private-amend-order).
Orders match a fixed book (asks 91000.00 x 2 BTC, bids 90990.00 x 2 BTC), taker fee 0.5%,
charged negative in the asset received (BTC for buys, USD for sells). Perpetuals (``*-PERP``,
the ticks and lots of ``public/get-instruments``) match the same book, fees in USD (0.05%
taker, 0.034% maker), and fills move one net cross position per perp, served by
``private/get-positions`` (``quantity`` signed, ``open_pos_cost``, ``open_position_pnl`` at the
mid) beside any ``isolated`` rows a test adds. ``private/get-transactions`` serves the
journal rows of ``add_funding`` (SESSION_SETTLE-shaped: the money in ``realized_pnl``),
filtered by ``journal_type`` and [start_time, end_time) in ms or ns, newest first, at most
``limit``.
``private/get-accounts`` answers the docs' example ``master_account`` (``uuid`` ACCOUNT_UUID);
``private/change-account-leverage`` takes that ``account_id`` and a whole ``leverage`` of 1-100
(the docs' range), kept account-wide in ``account_leverage`` (each set also in
``leverage_sets``); anything else is refused 40003 INVALID_REQUEST with HTTP 400 (the docs give
no code for it: ours).
Websocket ``/exchange/v1/market``: ``subscribe`` answered, then ``book`` snapshots (``u``) and
``book.update`` deltas (``u``, ``pu``), ``trade`` messages, ``public/heartbeat`` whose
``public/respond-heartbeat`` answers are recorded. Faults: ``rate_limit_next``,
``malformed_next``, ``clock_offset_ms``, ``delay_next_s``, ``refuse_next_place``,
``lose_next_place_answer``, ``hide_next_order``, ``skip_next_seq``, ``drop_sockets()``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from decimal import Decimal

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.00"), Decimal("90990.00")
TAKER = Decimal("0.005")
MAKER = Decimal("0.0025")
PERP_TAKER, PERP_MAKER = Decimal("0.0005"), Decimal("0.00034")
# (price tick, quantity tick) per instrument; other spot books as BTC_USD
STEPS = {"BTC_USD": ("0.01", "0.00001"), "BTCUSD-PERP": ("0.1", "0.0001"), "ETHUSD-PERP": ("0.01", "0.0001"),
         "SOLUSD-PERP": ("0.01", "0.01")}
LIVE = ("NEW", "ACTIVE")


def object_to_string(obj) -> str:
    """The docs' JavaScript example, independently: sorted keys, key + value, arrays flattened."""
    def value(v):
        if isinstance(v, list):
            return "".join(value(x) for x in v)
        if isinstance(v, dict):
            return object_to_string(v)
        return "null" if v is None else str(v)
    return "".join(k + value(obj[k]) for k in sorted(obj or {}))


def answer(method: str, rid, result=None, code: int = 0, message: str = "", status: int = 200) -> web.Response:
    body = {"id": rid, "method": method, "code": code}
    if code == 0:
        body["result"] = result if result is not None else {}
    else:
        body["message"] = message
    return web.json_response(body, status=status)


ACCOUNT_UUID = "243d3f39-b193-4eb9-1d60-e98f2fc17707"     # private-get-accounts' example master_account


class FakeCryptocom(FakeVenueServer):
    def __init__(self, api_key: str, secret: str):
        super().__init__()
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, dict] = {}             # by client_oid
        self.trades: list[dict] = []
        self.refuse_next_place: tuple[int, str, int] | None = None     # (code, message, http status)
        self.lose_next_place_answer = False
        self.hide_next_order = 0
        self.delay_next_s = 0.0
        self.skip_next_seq = False
        self.seq = 5000
        self.bids = {"90990.00": "2", "90980.00": "3"}
        self.asks = {"91000.00": "2", "91010.00": "3"}
        self.subscriptions: list[tuple[str, str]] = []     # (method, channel)
        self.heartbeat_answers: list = []
        self.bodies: list[dict] = []
        self.private: list = []                       # authenticated user sockets subscribed to orders and trades
        self.logins: list[bool] = []
        self.positions: dict[str, list[Decimal]] = {}     # perp -> [signed quantity, open position cost]
        self.isolated: list[dict] = []                    # isolated position rows a test adds
        self.journal: list[dict] = []                     # get-transactions rows (add_funding)
        self.transaction_queries: list[dict] = []
        self._ids = itertools.count(7000)
        self.account_leverage: int | None = None          # change-account-leverage, account-wide
        self.leverage_sets: list[int] = []

    # -- auth ----------------------------------------------------------------------------------------
    async def verify(self, request) -> web.Response | dict:
        if self.delay_next_s:
            delay, self.delay_next_s = self.delay_next_s, 0.0
            await asyncio.sleep(delay)
        body = json.loads(await request.text())
        self.bodies.append(body)
        method, rid = request.path.removeprefix("/exchange/v1/"), body.get("id")
        if body.get("method") != method:
            return answer(method, rid, code=40003, message="INVALID_REQUEST", status=400)
        if body.get("api_key") != self.api_key:
            return answer(method, rid, code=40101, message="UNAUTHORIZED", status=401)
        if abs(self.now_ms() - int(body.get("nonce", 0))) > 60_000:
            return answer(method, rid, code=40102, message="INVALID_NONCE", status=400)
        payload = f"{method}{rid}{self.api_key}{object_to_string(body.get('params'))}{body.get('nonce')}"
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(body.get("sig", "")), expected):
            return answer(method, rid, code=40101, message="UNAUTHORIZED", status=401)
        return {**(body.get("params") or {}), "_id": rid}

    def rate_limited(self):
        return web.json_response({"id": 1, "method": "", "code": 42901, "message": "TOO_MANY_REQUESTS"}, status=429)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        r = app.router
        r.add_get("/exchange/v1/market", self.ws)
        r.add_get("/exchange/v1/user", self.user_ws)
        r.add_get("/exchange/v1/public/get-instruments", self.instruments)
        r.add_get("/exchange/v1/public/get-book", self.book)
        r.add_get("/exchange/v1/public/get-tickers", self.tickers)
        for name, handler in (("user-balance", self.balance), ("get-instrument-fee-rate", self.fee_rate),
                              ("create-order", self.place), ("cancel-order", self.cancel), ("amend-order", self.amend),
                              ("get-order-detail", self.detail), ("get-open-orders", self.open_orders),
                              ("get-trades", self.get_trades)):
            r.add_post(f"/exchange/v1/private/{name}", handler)
        r.add_post("/exchange/v1/private/get-positions", self.get_positions)
        r.add_post("/exchange/v1/private/get-transactions", self.get_transactions)
        r.add_post("/exchange/v1/private/get-accounts", self.get_accounts)
        r.add_post("/exchange/v1/private/change-account-leverage", self.change_account_leverage)
        return app

    # -- public --------------------------------------------------------------------------------------
    async def instruments(self, request):
        data = [{"symbol": "BTC_USD", "inst_type": "CCY_PAIR", "display_name": "BTC/USD", "base_ccy": "BTC",
                 "quote_ccy": "USD", "quote_decimals": "2", "quantity_decimals": "5", "price_tick_size": "0.01",
                 "qty_tick_size": "0.00001", "max_leverage": "50", "tradable": True, "expiry_timestamp_ms": "0"},
                {"symbol": "BTCUSD-PERP", "inst_type": "PERPETUAL_SWAP", "display_name": "BTCUSD Perpetual",
                 "base_ccy": "BTC", "quote_ccy": "USD", "quote_decimals": "1", "quantity_decimals": "4",
                 "price_tick_size": "0.1", "qty_tick_size": "0.0001", "max_leverage": "100", "tradable": True},
                {"symbol": "ETHUSD-PERP", "inst_type": "PERPETUAL_SWAP", "display_name": "ETHUSD Perpetual",
                 "base_ccy": "ETH", "quote_ccy": "USD", "quote_decimals": "2", "quantity_decimals": "4",
                 "price_tick_size": "0.01", "qty_tick_size": "0.0001", "max_leverage": "100", "tradable": True}]
        return answer("public/get-instruments", 1, {"data": data})

    def _sides(self):
        bids = sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return [[p, s, "0"] for p, s in bids], [[p, s, "0"] for p, s in asks]

    async def book(self, request):
        bids, asks = self._sides()
        depth = request.query.get("depth", "50")
        return answer("public/get-book", 1, {"depth": depth, "data": [{"asks": asks, "bids": bids}],
                                            "instrument_name": request.query.get("instrument_name")})

    async def tickers(self, request):
        name = request.query.get("instrument_name", "BTC_USD")
        return answer("public/get-tickers", -1, {"data": [{"i": name, "b": str(BID), "k": str(ASK), "a": str(ASK),
                                                             "h": "92000.00", "l": "89000.00", "v": "12.5", "c": "0.01",
                                                             "t": str(self.now_ms())}]})

    # -- websocket -----------------------------------------------------------------------------------
    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            body = json.loads(msg.data)
            method = body.get("method")
            if method == "public/respond-heartbeat":
                self.heartbeat_answers.append(body.get("id"))
                continue
            await ws.send_json({"id": body.get("id"), "method": method, "code": 0})
            for channel in body.get("params", {}).get("channels", []):
                self.subscriptions.append((method, channel))
                if method == "subscribe" and channel.startswith("book."):
                    await ws.send_json(self._snapshot(channel))
        return ws

    async def user_ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        authed = False
        async for msg in ws:
            body = json.loads(msg.data)
            method = body.get("method")
            if method == "public/auth":
                payload = f"public/auth{body.get('id')}{body.get('api_key')}{body.get('nonce')}"
                expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
                authed = (body.get("api_key") == self.api_key and abs(self.now_ms() - int(body.get("nonce", 0))) <= 60_000
                          and hmac.compare_digest(str(body.get("sig", "")), expected))
                self.logins.append(authed)
                await ws.send_json({"id": body.get("id"), "method": method, "code": 0 if authed else 40101,
                                    **({} if authed else {"message": "UNAUTHORIZED"})})
            elif method == "subscribe":
                if not authed:
                    await ws.send_json({"id": body.get("id"), "method": method, "code": 40101, "message": "UNAUTHORIZED"})
                    continue
                await ws.send_json({"id": body.get("id"), "method": method, "code": 0})
                if {"user.order", "user.trade"} <= set(body["params"]["channels"]):
                    self.private.append(ws)
        return ws

    def _push_user(self, channel: str, order: dict, rows: list) -> None:
        """A ``user.order`` or ``user.trade`` push (on the server's loop)."""
        message = {"id": -1, "method": "subscribe", "code": 0,
                   "result": {"instrument_name": order["instrument_name"], "subscription": f"{channel}.{order['instrument_name']}",
                              "channel": channel, "data": rows}}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.25%), from any thread."""
        def go():
            order, q, now = self.orders[cid], Decimal(qty), self.now_ms()
            price = Decimal(order["limit_price"])
            if order["instrument_name"].endswith("-PERP"):
                fee, ccy = -(q * price * PERP_MAKER), "USD"
                self._move(order, q, price)
            else:
                fee, ccy = (-(q * MAKER), "BTC") if order["side"] == "BUY" else (-(q * price * MAKER), "USD")
            trade = {"traded_quantity": f"{q:f}", "traded_price": order["limit_price"], "fees": f"{fee:f}",
                     "order_id": order["order_id"], "trade_id": str(next(self._ids)), "client_oid": cid, "taker_side": "MAKER",
                     "side": order["side"], "instrument_name": order["instrument_name"], "fee_instrument_name": ccy,
                     "create_time": str(now), "create_time_ns": str(now * 1_000_000 + 789)}
            self.trades.append(trade)
            done = Decimal(order["cumulative_quantity"]) + q
            order.update(cumulative_quantity=f"{done:f}", update_time=str(now),
                         status="FILLED" if done >= Decimal(order["quantity"]) else "ACTIVE")
            self._push_user("user.order", order, [order])
            self._push_user("user.trade", order, [trade])
        self.soon(go)

    def _snapshot(self, subscription: str) -> dict:
        bids, asks = self._sides()
        return {"id": -1, "method": "subscribe", "code": 0,
                "result": {"instrument_name": subscription.split(".")[1], "subscription": subscription, "channel": "book",
                           "depth": 50,
                           "data": [{"asks": asks, "bids": bids, "t": self.now_ms(), "tt": self.now_ms(), "u": self.seq}]}}

    def push_book(self, bids=None, asks=None, instrument: str = "BTC_USD") -> None:
        """Change the book and send the delta (size "0" deletes), from any thread."""
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    if Decimal(s):
                        side[p] = s
                    else:
                        side.pop(p, None)
            prev = self.seq + 3 if self.skip_next_seq else self.seq
            self.skip_next_seq = False
            self.seq += 1
            update = {"bids": [[p, s, "1"] for p, s in (bids or {}).items()],
                      "asks": [[p, s, "1"] for p, s in (asks or {}).items()]}
            self.broadcast({"id": -1, "method": "subscribe", "code": 0,
                            "result": {"instrument_name": instrument, "subscription": f"book.{instrument}.50",
                                       "channel": "book.update", "depth": 50,
                                       "data": [{"update": update, "t": self.now_ms(), "tt": self.now_ms(),
                                                 "u": self.seq, "pu": prev}]}})
        self.soon(go)

    def push_trade(self, price: str, qty: str, side: str, instrument: str = "BTC_USD") -> None:
        self.broadcast({"id": -1, "method": "subscribe", "code": 0,
                        "result": {"instrument_name": instrument, "subscription": f"trade.{instrument}", "channel": "trade",
                                   "data": [{"d": str(next(self._ids)), "t": self.now_ms(), "p": price, "q": qty,
                                             "s": side, "i": instrument}]}})

    def push_heartbeat(self, hid: int) -> None:
        self.broadcast({"id": hid, "method": "public/heartbeat", "code": 0})

    # -- account and trading -------------------------------------------------------------------------
    @signed
    async def balance(self, request, p):
        rows = [{"instrument_name": "BTC", "quantity": "1.00000000", "reserved_qty": "0.00000000",
                 "market_value": "91000.00", "collateral_eligible": True, "haircut": "0", "max_withdrawal_balance": "1"},
                {"instrument_name": "USD", "quantity": "100000.00000000", "reserved_qty": "250.00000000",
                 "market_value": "100000", "collateral_eligible": True, "haircut": "0",
                 "max_withdrawal_balance": "99750"}]
        return answer("private/user-balance", p["_id"], {"data": [{"instrument_name": "USD", "total_available_balance":
                                                                   "190750.00", "position_balances": rows}]})

    @signed
    async def fee_rate(self, request, p):
        return answer("private/get-instrument-fee-rate", p["_id"], {"instrument_name": p["instrument_name"],
                                                                    "effective_maker_rate_bps": "25",
                                                                    "effective_taker_rate_bps": "50"})

    def _order(self, p, oid, now) -> dict:
        return {"account_id": "52e7c00f-1324-5a6z-bfgt-de445bde21a5", "order_id": oid, "client_oid": p["client_oid"],
                "order_type": p["type"], "time_in_force": p.get("time_in_force", "GOOD_TILL_CANCEL"), "side": p["side"],
                "exec_inst": p.get("exec_inst", []), "quantity": p["quantity"], "limit_price": p.get("price", "0"),
                "order_value": "0", "maker_fee_rate": "0.0025", "taker_fee_rate": "0.005", "avg_price": "0",
                "cumulative_quantity": "0", "cumulative_value": "0", "cumulative_fee": "0", "status": "ACTIVE",
                "instrument_name": p["instrument_name"], "fee_instrument_name": "USD", "reason": "0",
                "create_time": str(now), "create_time_ns": str(now * 1_000_000 + 123), "update_time": str(now)}

    @signed
    async def place(self, request, p):
        m, rid = "private/create-order", p["_id"]
        if self.refuse_next_place:
            code, message, status = self.refuse_next_place
            self.refuse_next_place = None
            return answer(m, rid, code=code, message=message, status=status)
        cid = p.get("client_oid", str(p.get("_id")))
        if cid in self.orders and self.orders[cid]["status"] in LIVE + ("FILLED",):
            return answer(m, rid, code=204, message="DUPLICATE_CLORDID", status=400)
        qty, (tick, lot) = Decimal(p["quantity"]), STEPS.get(p["instrument_name"], STEPS["BTC_USD"])
        perp = p["instrument_name"].endswith("-PERP")
        if qty <= 0 or (qty / Decimal(lot)) % 1:
            return answer(m, rid, code=213, message="INVALID_ORDERQTY", status=400)
        px = Decimal(p["price"]) if "price" in p else None
        if px is not None and (px <= 0 or (px / Decimal(tick)) % 1):
            return answer(m, rid, code=308, message="INVALID_PRICE", status=400)
        if perp and any(k in p for k in ("isolation_id", "leverage", "isolated_margin_amount")):
            return answer(m, rid, code=40001, message="BAD_REQUEST", status=400)      # the adapter never asks isolated
        if "POST_ONLY" in p.get("exec_inst", []) and p.get("time_in_force") != "GOOD_TILL_CANCEL":
            return answer(m, rid, code=43005, message="POST_ONLY_REJ", status=500)
        if perp and qty * (px or ASK) > 1_000_000:                   # past the margin the account has
            return answer(m, rid, code=306, message="INSUFFICIENT_AVAILABLE_BALANCE", status=500)
        if not perp and ((p["side"] == "BUY" and qty * (px or ASK) > 100000) or (p["side"] == "SELL" and qty > 1)):
            return answer(m, rid, code=306, message="INSUFFICIENT_AVAILABLE_BALANCE", status=500)
        oid, now = str(next(self._ids)), self.now_ms()
        order = self._order(p, oid, now)
        touch = ASK if p["side"] == "BUY" else BID
        crosses = px is None or (px >= touch if p["side"] == "BUY" else px <= touch)
        if "POST_ONLY" in p.get("exec_inst", []) and crosses:
            order.update(status="CANCELED", reason="43005")
        elif crosses:
            self._fill(order, min(qty, Decimal("2")), touch, now)
            if order["status"] != "FILLED" and (p["type"] == "MARKET" or p.get("time_in_force") == "IMMEDIATE_OR_CANCEL"):
                order["status"] = "CANCELED"
        elif p.get("time_in_force") == "IMMEDIATE_OR_CANCEL":
            order.update(status="CANCELED", reason="43004")
        self.orders[cid] = order
        self._push_user("user.order", order, [order])
        if self.lose_next_place_answer:
            self.lose_next_place_answer = False
            return answer(m, rid, code=50001, message="INTERNAL_SERVER_ERROR", status=500)
        return answer(m, rid, {"client_oid": cid, "order_id": oid})

    def _fill(self, order: dict, qty: Decimal, price: Decimal, now: int) -> None:
        buy = order["side"] == "BUY"
        if order["instrument_name"].endswith("-PERP"):
            fee, ccy = -(qty * price * PERP_TAKER), "USD"
            self._move(order, qty, price)
        else:
            fee, ccy = (-(qty * TAKER), "BTC") if buy else (-(qty * price * TAKER), "USD")
        self.trades.append({"account_id": order["account_id"], "event_date": "2026-11-24", "journal_type": "TRADING",
                            "traded_quantity": f"{qty:f}", "traded_price": f"{price:f}", "fees": f"{fee:f}",
                            "fee_credits": "0", "order_id": order["order_id"], "trade_id": str(next(self._ids)),
                            "trade_match_id": str(next(self._ids)), "client_oid": order["client_oid"],
                            "taker_side": "TAKER", "side": order["side"], "instrument_name": order["instrument_name"],
                            "fee_instrument_name": ccy, "create_time": str(now),
                            "create_time_ns": str(now * 1_000_000 + 456), "transact_time_ns": str(now * 1_000_000 + 456)})
        order.update(cumulative_quantity=f"{qty:f}", avg_price=f"{price:f}", cumulative_value=f"{qty * price:f}",
                     cumulative_fee=f"{-fee:f}", fee_instrument_name=ccy,
                     status="FILLED" if qty == Decimal(order["quantity"]) else "ACTIVE")

    def _find(self, p) -> dict | None:
        if p.get("order_id"):
            return next((o for o in self.orders.values() if o["order_id"] == str(p["order_id"])), None)
        return self.orders.get(p.get("client_oid") or p.get("orig_client_oid") or "")

    @signed
    async def detail(self, request, p):
        order = self._find(p)
        if order is not None and self.hide_next_order:
            self.hide_next_order -= 1
            order = None
        if order is None:
            return answer("private/get-order-detail", p["_id"], code=40401, message="NOT_FOUND")
        return answer("private/get-order-detail", p["_id"], order)

    @signed
    async def cancel(self, request, p):
        order = self._find(p)
        if order is None or order["status"] not in LIVE:
            return answer("private/cancel-order", p["_id"], code=316, message="NO_ACTIVE_ORDER", status=500)
        order.update(status="CANCELED", update_time=str(self.now_ms()))
        self._push_user("user.order", order, [order])
        return answer("private/cancel-order", p["_id"], {"client_oid": order["client_oid"], "order_id": order["order_id"]})

    @signed
    async def amend(self, request, p):
        m, rid = "private/amend-order", p["_id"]
        order = self._find(p)
        if "new_price" not in p or "new_quantity" not in p:
            return answer(m, rid, code=40004, message="MISSING_OR_INVALID_ARGUMENT", status=400)
        if order is None or order["status"] not in LIVE:
            return answer(m, rid, code=316, message="NO_ACTIVE_ORDER", status=500)
        if Decimal(p["new_quantity"]) <= Decimal(order["cumulative_quantity"]):
            return answer(m, rid, code=213, message="INVALID_ORDERQTY", status=400)
        self.orders.pop(order["client_oid"])
        # the exchange cancels and re-creates behind the scene; without client_oid the request id becomes it
        order.update(limit_price=p["new_price"], quantity=p["new_quantity"], client_oid=p.get("client_oid") or str(rid),
                     update_time=str(self.now_ms()))
        self.orders[order["client_oid"]] = order
        return answer(m, rid, {"client_oid": order["client_oid"], "order_id": order["order_id"]})

    @signed
    async def open_orders(self, request, p):
        data = [o for o in self.orders.values() if o["status"] in LIVE and o["instrument_name"] == p.get("instrument_name")]
        return answer("private/get-open-orders", p["_id"], {"data": data})

    @signed
    async def get_trades(self, request, p):
        start = int(p.get("start_time") or 0)
        start_ns = start * 1_000_000 if start < 10**15 else start
        data = [t for t in self.trades if t["instrument_name"] == p.get("instrument_name")
                and int(t["create_time_ns"]) >= start_ns]
        return answer("private/get-trades", p["_id"], {"data": data[-int(p.get("limit", 100)):]})

    # -- perpetuals ------------------------------------------------------------------------------------
    def _move(self, order: dict, qty: Decimal, price: Decimal) -> None:
        """A perp fill on the net cross position: adding keeps the average, reducing keeps it
        for what stays, crossing zero opens the rest at the fill price."""
        held, cost = self.positions.get(order["instrument_name"], [Decimal(0), Decimal(0)])
        q = qty if order["side"] == "BUY" else -qty
        after = held + q
        if not held or (held > 0) == (q > 0):
            cost += q * price
        elif after and (after > 0) != (held > 0):
            cost = after * price
        else:
            cost = cost * after / held
        self.positions[order["instrument_name"]] = [after, cost]

    @signed
    async def get_accounts(self, request, p):
        return answer("private/get-accounts", p["_id"], {"master_account": {
            "uuid": ACCOUNT_UUID, "master_account_uuid": "291879ae-b769-4eb3-4d75-3366ebee7dd6", "enabled": True,
            "tradable": True, "derivatives_access": "ENABLED"}, "sub_account_list": []})

    @signed
    async def change_account_leverage(self, request, p):
        m, leverage = "private/change-account-leverage", p.get("leverage")
        if p.get("account_id") != ACCOUNT_UUID or isinstance(leverage, bool) or not isinstance(leverage, int) \
                or not 1 <= leverage <= 100:
            return answer(m, p["_id"], code=40003, message="INVALID_REQUEST", status=400)
        self.account_leverage = leverage
        self.leverage_sets.append(leverage)
        return answer(m, p["_id"])

    @signed
    async def get_positions(self, request, p):
        mid = (ASK + BID) / 2
        rows = [{"account_id": "52e7c00f-1324-5a6z-bfgt-de445bde21a5", "quantity": f"{q:f}", "cost": f"{c:f}",
                 "open_pos_cost": f"{c:f}", "open_position_pnl": f"{mid * q - c:f}", "session_pnl": f"{mid * q - c:f}",
                 "update_timestamp_ms": str(self.now_ms()), "instrument_name": name, "type": "PERPETUAL_SWAP"}
                for name, (q, c) in self.positions.items() if q] + self.isolated
        if p.get("instrument_name"):
            rows = [r for r in rows if r["instrument_name"] == p["instrument_name"]]
        return answer("private/get-positions", p["_id"], {"data": rows})

    def add_funding(self, instrument: str, amount: str, ts_ms: int, isolation_id: str = "") -> dict:
        """A FUNDING journal row, shaped as the docs' SESSION_SETTLE example (money in realized_pnl)."""
        row = {"account_id": "88888888-8888-8888-8888-000000000123", "event_date": "2026-12-07", "journal_type": "FUNDING",
               "journal_id": str(next(self._ids)), "transaction_qty": "0", "transaction_cost": "0.000000",
               "realized_pnl": amount, "trade_match_id": "0", "event_timestamp_ms": str(ts_ms),
               "event_timestamp_ns": str(ts_ms * 1_000_000 + 123), "client_oid": "", "taker_side": "",
               "instrument_name": instrument}
        if isolation_id:
            row.update(isolation_id=isolation_id, isolation_type="ISOLATED_MARGIN")
        self.journal.append(row)
        return row

    @signed
    async def get_transactions(self, request, p):
        def ns(value, default):
            v = int(value) if value not in (None, "") else default
            return v * 1_000_000 if v < 10**15 else v
        self.transaction_queries.append(p)
        end = ns(p.get("end_time"), self.now_ms())
        start = ns(p.get("start_time"), end - 86_400_000_000_000)
        rows = [r for r in self.journal if start <= int(r["event_timestamp_ns"]) < end
                and r["journal_type"] == p.get("journal_type", r["journal_type"])
                and r["instrument_name"] == p.get("instrument_name", r["instrument_name"])]
        rows.sort(key=lambda r: -int(r["event_timestamp_ns"]))
        return answer("private/get-transactions", p["_id"], {"data": rows[:min(int(p.get("limit", 100)), 100)]})
