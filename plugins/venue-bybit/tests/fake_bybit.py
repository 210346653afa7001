"""A fake Bybit v5 server on 127.0.0.1 that checks requests the way Bybit does:
``X-BAPI-API-KEY``, ``X-BAPI-SIGN`` = hex(HMAC-SHA256(secret, timestamp + key + recv_window +
query-or-body)) over the query string exactly as sent (not decoded), ``X-BAPI-TIMESTAMP``
inside [now - recv_window, now + 1000) (10002).
Answers ``{"retCode", "retMsg", "result", "time"}`` with HTTP 200 for refusals
(https://bybit-exchange.github.io/docs/v5/error) and ``X-Bapi-Limit-Status``/``X-Bapi-Limit``.
Orders match against a fixed book (asks 91000.00 x 2 BTC, bids 90990.00 x 2 BTC); spot taker
fee 0.1% in the base coin for buys and the quote coin for sells, as Bybit charges spot fees.
Public websockets ``/v5/public/spot`` and ``/v5/public/linear``
(https://bybit-exchange.github.io/docs/v5/ws/connect), one :class:`PublicMarket` each (``spot``,
``linear``) with its own BTCUSDT book, the one ``/v5/market/orderbook`` answers for that
``category``: ``orderbook.50.BTCUSDT`` sends a snapshot on subscribe, then a delta per change
(``u`` + 1 each) to the sockets subscribed to it; ``publicTrade.BTCUSDT``; the topics of the
plugin's other symbols in that category are accepted and stay quiet; an unknown topic (a symbol
of another category, or with our ``_LINEAR``) is refused (``success: false``), as is a spot
request of more than 10 topics; ``{"op": "ping"}`` answered with the category's pong. Per
market: ``push()``, ``trade()``, ``skip_next_update`` (a ``u`` never sent), ``restart()`` (the
snapshot with ``u`` = 1 Bybit sends after a service restart), ``drop()`` (its sockets only).
``/v5/private``: ``auth`` checked as Bybit does (HMAC of ``GET/realtime`` + expires, expires not
past), then ``order`` and ``execution`` pushes for every order change; ``fill_resting()`` fills a
resting order as a taker would. ``GET /v5/account/transaction-log`` serves ``transactions`` (rows
as Bybit documents them, tests set them) as Bybit does: UNIFIED only; filtered by
``category``, ``type``, ``currency`` and the time range (both ends inclusive here: Bybit does
not say, and the adapter's windows share their boundary ms either way; 24 hours from
the one end given, the last 24 hours without either; more than 7 days between them refused
with 10001), newest first, ``limit`` 1..50 (default 20); every query is kept in
``log_queries``. Lists page as Bybit documents them (:meth:`FakeBybit.page`): open orders
``limit`` 1..50 (default 20), executions 1..100 (50), positions 1..200 (20), the transaction
log 1..50 (20), chained by an opaque ``nextPageCursor`` in Bybit's percent-encoded form (empty
on the last page). The wallet's coins (``wallet_coins``) carry ``spotBorrow``, which
``walletBalance`` includes since UTA manual borrowing (Oct 2025); orders carry ``cumFeeDetail``
beside the deprecated ``cumExecFee``. ``/v5/market/orderbook`` takes ``limit`` 1..1000 for spot
and linear (kept in ``book_limits``). Faults: ``rate_limit_next``, ``malformed_next``,
``clock_offset_ms``, ``refuse_next_place``, ``drop_sockets()`` (every socket).
``POST /v5/position/set-leverage`` (signed like every call; https://bybit-exchange.github.io/docs/v5/position/leverage):
``category`` linear, ``buyLeverage`` = ``sellLeverage`` (one-way mode) from 1 to the symbol's
``leverageFilter.maxLeverage`` (100, as in the recorded linear instruments-info answer; above it
110013 "cannot set leverage ... gt maxLeverage", outside 1.. 10001), the value already set
110043 "leverage not modified"; ``leverage`` holds each symbol's setting (10 until set) and
``leverage_sets`` records each accepted change as (symbol, leverage, how many orders had been
placed before it). ``/v5/market/instruments-info?category=linear`` serves BTCUSDT with that filter.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed
from sequence_venue_bybit.execution import where
from sequence_venue_bybit.symbols import INSTRUMENTS

ASK, BID = Decimal("91000.00"), Decimal("90990.00")
SYMBOL = "BTCUSDT"


def answer(result: dict, code: int = 0, msg: str = "OK") -> web.Response:
    return web.json_response({"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {},
                              "time": time.time_ns() // 1_000_000})


class PublicMarket:
    """One category's public side: the book REST serves and the socket streams, the sockets
    (each with the topics it subscribed) and the faults."""

    def __init__(self, server, category: str, bids: dict, asks: dict, update_id: int, pong: dict, max_args=None):
        self.server, self.category, self.pong, self.max_args = server, category, pong, max_args
        self.bids, self.asks, self.update_id = bids, asks, update_id
        self.seq = update_id * 1000                  # Bybit's cross sequence: rises, not by one
        self.skip_next_update = 0
        self.subscriptions: list[str] = []           # every topic subscribed, in order
        self.unsubscriptions: list[str] = []
        self.sockets: dict = {}                      # open socket -> its topics
        self.book_topic, self.trade_topic = f"orderbook.50.{SYMBOL}", f"publicTrade.{SYMBOL}"
        # Bybit's names of the plugin's instruments in this category (only BTCUSDT has a book)
        self.symbols = {where(i)[1] for i in INSTRUMENTS if where(i)[0] == category}

    def levels(self):
        return (sorted(([p, s] for p, s in self.bids.items()), key=lambda x: -Decimal(x[0])),
                sorted(([p, s] for p, s in self.asks.items()), key=lambda x: Decimal(x[0])))

    def book_message(self, kind: str, bids: list, asks: list) -> dict:
        now = self.server.now_ms()
        return {"topic": self.book_topic, "type": kind, "ts": now,
                "data": {"s": SYMBOL, "b": bids, "a": asks, "u": self.update_id, "seq": self.seq}, "cts": now - 2}

    def _send(self, topic: str, message: dict) -> None:
        import asyncio

        for ws, topics in list(self.sockets.items()):
            if topic in topics and not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    async def serve(self, ws) -> None:
        topics = self.sockets.setdefault(ws, set())
        async for msg in ws:
            body = json.loads(msg.data)
            if body.get("op") == "ping":
                self.server.pings += 1
                await ws.send_json(self.pong)
                continue
            args = body.get("args", [])
            bad = [t for t in args if t.rsplit(".", 1)[0] not in ("orderbook.50", "publicTrade")
                   or t.rsplit(".", 1)[-1] not in self.symbols]
            refusal = f"Invalid topic: {bad[0]}" if bad else (
                f"args size >{self.max_args}" if self.max_args and len(args) > self.max_args else "")
            await ws.send_json({"success": not refusal, "ret_msg": refusal, "conn_id": f"{self.category}-1",
                                "req_id": body.get("req_id", ""), "op": body["op"]})
            if refusal:
                continue
            if body["op"] == "unsubscribe":
                topics.difference_update(args)
                self.unsubscriptions += args
            elif body["op"] == "subscribe":
                topics.update(args)
                self.subscriptions += args
                if self.book_topic in args:
                    await ws.send_json(self.book_message("snapshot", *self.levels()))

    def push(self, bids=None, asks=None) -> None:
        """Change the book and send the change as one delta (from any thread)."""
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    side.pop(p, None) if not Decimal(s) else side.__setitem__(p, s)
            self.update_id += 1 + self.skip_next_update
            self.seq += 7
            self.skip_next_update = 0
            self._send(self.book_topic, self.book_message("delta", [[p, s] for p, s in (bids or {}).items()],
                                                          [[p, s] for p, s in (asks or {}).items()]))
        self.server.soon(go)

    def restart(self, bids: dict, asks: dict) -> None:
        """Bybit's service restarted: a new book, sent as a snapshot with ``u`` = 1."""
        def go():
            self.bids, self.asks, self.update_id = dict(bids), dict(asks), 1
            self._send(self.book_topic, self.book_message("snapshot", *self.levels()))
        self.server.soon(go)

    def trade(self, price: str, qty: str, side: str) -> None:
        def go():
            now = self.server.now_ms()
            self._send(self.trade_topic, {"topic": self.trade_topic, "type": "snapshot", "ts": now,
                                          "data": [{"T": now, "s": SYMBOL, "S": side, "v": qty, "p": price,
                                                    "i": str(next(self.server._ids)), "BT": False}]})
        self.server.soon(go)

    def drop(self) -> None:
        """Close this market's sockets, and no other (from any thread)."""
        import asyncio

        self.server.soon(lambda: [asyncio.ensure_future(ws.close()) for ws in list(self.sockets)])


class FakeBybit(FakeVenueServer):
    def __init__(self, api_key: str, secret: str):
        super().__init__()
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, dict] = {}
        self.executions: dict[str, list] = {}
        self.refuse_next_place: tuple[int, str] | None = None
        self.limit_left = 10
        # the pongs the connect page shows: spot's has no req_id, linear's an empty one
        self.spot = PublicMarket(self, "spot", {"90990.00": "2", "90980.00": "3"}, {"91000.00": "2", "91010.00": "3"}, 500,
                                 {"success": True, "ret_msg": "pong", "conn_id": "spot-1", "op": "ping"}, max_args=10)
        self.linear = PublicMarket(self, "linear", {"91005.50": "1.250", "91005.00": "3.000"},
                                   {"91006.00": "0.800", "91006.50": "2.500"}, 7000,
                                   {"success": True, "ret_msg": "pong", "conn_id": "linear-1", "req_id": "", "op": "ping"})
        self.positions: list[dict] = []          # what /v5/position/list answers (tests set it)
        self.leverage: dict[str, str] = {}       # linear symbol -> leverage, as set-leverage left it
        self.leverage_sets: list[tuple[str, str, int]] = []
        self.transactions: list[dict] = []       # what /v5/account/transaction-log serves (tests set it)
        self.log_queries: list[dict] = []
        self._cursors: dict[str, int] = {}       # nextPageCursor -> offset into the same query's rows
        self.wallet_coins = [{"coin": "BTC", "walletBalance": "1", "locked": "0", "spotBorrow": "0"},
                             {"coin": "USDT", "walletBalance": "100000", "locked": "0", "spotBorrow": "0"}]
        self.book_limits: list[int] = []
        self.private: list = []                  # authenticated sockets subscribed to order + execution
        self.logins: list[bool] = []
        self.pings = 0
        self._ids = itertools.count(9000)

    async def verify(self, request) -> web.Response | dict:
        h = request.headers
        if h.get("X-BAPI-API-KEY") != self.api_key:
            return answer({}, 10003, "API key is invalid.")
        ts, window = int(h.get("X-BAPI-TIMESTAMP", "0")), int(h.get("X-BAPI-RECV-WINDOW", "5000"))
        if not (self.now_ms() - window <= ts < self.now_ms() + 1000):
            return answer({}, 10002, "invalid request, please check your server timestamp or recv_window param")
        body = await request.text()
        payload = body if request.method == "POST" else request.rel_url.raw_query_string     # as sent, not decoded
        expected = hmac.new(self.secret.encode(), f"{ts}{self.api_key}{window}{payload}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(h.get("X-BAPI-SIGN", ""), expected):
            return answer({}, 10004, "error sign! origin_string[...]")
        return json.loads(body) if body else dict(request.query)

    def rate_limited(self):
        return answer({}, 10006, "Too many visits!")

    @web.middleware
    async def limit_headers(self, request, handler):
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            response.headers["X-Bapi-Limit"], response.headers["X-Bapi-Limit-Status"] = "10", str(self.limit_left)
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.limit_headers, self.faults])
        r = app.router
        r.add_get("/v5/public/spot", self.spot_ws)
        r.add_get("/v5/public/linear", self.linear_ws)
        r.add_get("/v5/private", self.private_ws)
        r.add_get("/v5/position/list", self.position_list)
        r.add_post("/v5/position/set-leverage", self.set_leverage)
        r.add_get("/v5/account/transaction-log", self.transaction_log)
        r.add_get("/v5/market/time", self.time)
        r.add_get("/v5/market/instruments-info", self.instruments)
        r.add_get("/v5/market/orderbook", self.orderbook)
        r.add_get("/v5/account/wallet-balance", self.wallet)
        r.add_post("/v5/order/create", self.create)
        r.add_post("/v5/order/amend", self.amend)
        r.add_post("/v5/order/cancel", self.cancel)
        r.add_get("/v5/order/realtime", self.realtime)
        r.add_get("/v5/order/history", self.history)
        r.add_get("/v5/execution/list", self.execution_list)
        return app

    # -- public -------------------------------------------------------------------------------
    async def time(self, request):
        now = self.now_ms()
        return answer({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def instruments(self, request):
        if request.query.get("category") == "linear":
            rows = [{"symbol": "BTCUSDT", "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": "BTC",
                     "quoteCoin": "USDT", "settleCoin": "USDT", "priceFilter": {"tickSize": "0.10"},
                     "leverageFilter": {"minLeverage": "1", "maxLeverage": "100", "leverageStep": "1"},
                     "lotSizeFilter": {"qtyStep": "0.001", "minOrderQty": "0.001", "minNotionalValue": "5"}}]
            symbol = request.query.get("symbol")
            return answer({"category": "linear", "list": [r for r in rows if symbol in (None, r["symbol"])]})
        return answer({"category": "spot", "list": [{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "status": "Trading",
                                                     "lotSizeFilter": {"basePrecision": "0.000001", "minOrderQty": "0.000048",
                                                                       "minOrderAmt": "5"},
                                                     "priceFilter": {"tickSize": "0.01"}}]})

    async def orderbook(self, request):
        market = self.linear if request.query.get("category") == "linear" else self.spot
        if request.query.get("symbol") != SYMBOL:
            return answer({}, 10001, "params error: symbol invalid")
        limit = int(request.query.get("limit") or 1)
        if not 1 <= limit <= 1000:
            return answer({}, 10001, "params error: limit invalid")
        self.book_limits.append(limit)
        b, a = market.levels()
        return answer({"s": SYMBOL, "b": b, "a": a, "ts": self.now_ms(), "u": market.update_id, "seq": market.seq,
                       "cts": self.now_ms() - 2})

    async def spot_ws(self, request):
        return await self._public_ws(request, self.spot)

    async def linear_ws(self, request):
        return await self._public_ws(request, self.linear)

    async def _public_ws(self, request, market: PublicMarket):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        try:
            await market.serve(ws)
        finally:
            market.sockets.pop(ws, None)
        return ws

    async def private_ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        authed = False
        async for msg in ws:
            body = json.loads(msg.data)
            if body.get("op") == "ping":
                await ws.send_json({"op": "pong", "args": [str(self.now_ms())], "conn_id": "p1"})
            elif body.get("op") == "auth":
                authed = self._check_auth(*body["args"])
                self.logins.append(authed)
                await ws.send_json({"op": "auth", "success": authed, "retCode": 0 if authed else 10003,
                                    "retMsg": "" if authed else "Invalid apikey", "connId": "p1"})
            elif body.get("op") == "subscribe":
                if not authed:
                    await ws.send_json({"op": "subscribe", "success": False, "ret_msg": "Request not authorized", "conn_id": "p1"})
                    continue
                await ws.send_json({"op": "subscribe", "success": True, "ret_msg": "", "conn_id": "p1"})
                if {"order", "execution"} <= set(body["args"]):
                    self.private.append(ws)
        return ws

    def _check_auth(self, key, expires, sign) -> bool:
        if key != self.api_key or int(expires) <= self.now_ms():
            return False
        expected = hmac.new(self.secret.encode(), f"GET/realtime{expires}".encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(sign, expected)

    def _push(self, topic: str, items: list) -> None:
        import asyncio

        message = {"topic": topic, "id": str(next(self._ids)), "creationTime": self.now_ms(), "data": items}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def fill_resting(self, link: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.1% of the
        received coin, as Bybit spot charges), from any thread."""
        def go():
            order = self.orders[link]
            q, px = Decimal(qty), Decimal(order["price"])
            fee, ccy = (q * Decimal("0.001"), "BTC") if order["side"] == "Buy" else (q * px * Decimal("0.001"), "USDT")
            e = {"category": order["category"], "symbol": order["symbol"], "orderId": order["orderId"], "orderLinkId": link,
                 "execId": str(next(self._ids)), "execPrice": order["price"], "execQty": f"{q:f}", "execFee": f"{fee:f}",
                 "feeCurrency": ccy, "isMaker": True, "execType": "Trade", "execTime": str(self.now_ms())}
            self.executions.setdefault(order["orderId"], []).append(e)
            done = Decimal(order["cumExecQty"]) + q
            order.update(cumExecQty=f"{done:f}", updatedTime=e["execTime"],
                         orderStatus="Filled" if done >= Decimal(order["qty"]) else "PartiallyFilled")
            self._push("order", [order])
            self._push("execution", [e])
        self.soon(go)

    # -- account and trading -------------------------------------------------------------------------
    @signed
    async def wallet(self, request, p):
        return answer({"list": [{"accountType": "UNIFIED", "coin": self.wallet_coins}]})

    @signed
    async def create(self, request, p):
        link = p.get("orderLinkId", "")
        if self.refuse_next_place:
            code, msg = self.refuse_next_place
            self.refuse_next_place = None
            return answer({}, code, msg)
        if link in self.orders:
            return answer({}, 170141, "Duplicate clientOrderId.")
        qty = Decimal(p["qty"])
        if p["orderType"] == "Market" and p["side"] == "Buy" and p.get("marketUnit") != "baseCoin":
            qty = qty / ASK
        if qty <= 0 or (qty / Decimal("0.000001")) % 1:
            return answer({}, 170137, "Order quantity has too many decimals.")
        price = Decimal(p["price"]) if p.get("price") else None
        touch = ASK if p["side"] == "Buy" else BID
        crosses = price is None or (price >= touch if p["side"] == "Buy" else price <= touch)
        oid, now = str(next(self._ids)), str(self.now_ms())
        order = {"category": p["category"], "orderId": oid, "orderLinkId": link, "symbol": p["symbol"], "price": p.get("price", "0"), "qty": f"{qty:f}",
                 "side": p["side"], "orderStatus": "New", "cumExecQty": "0", "cumExecFee": "0", "cumFeeDetail": {}, "timeInForce": p.get("timeInForce", "GTC"),
                 "orderType": p["orderType"], "rejectReason": "EC_NoError", "createdTime": now, "updatedTime": now}
        if p.get("timeInForce") == "PostOnly" and crosses:
            order["orderStatus"], order["rejectReason"] = "Cancelled", "EC_PostOnlyWillTakeLiquidity"
        elif crosses:
            fill = min(qty, Decimal("2"))
            fee, ccy = (fill * Decimal("0.001"), "BTC") if p["side"] == "Buy" else (fill * touch * Decimal("0.001"), "USDT")
            self.executions[oid] = [{"symbol": p["symbol"], "orderId": oid, "orderLinkId": link, "execId": str(next(self._ids)),
                                     "execPrice": f"{touch}", "execQty": f"{fill:f}", "execFee": f"{fee:f}", "feeCurrency": ccy,
                                     "isMaker": False, "execTime": now}]
            order.update(cumExecQty=f"{fill:f}", cumExecFee=f"{fee:f}", cumFeeDetail={ccy: f"{fee:f}"})
            order["orderStatus"] = "Filled" if fill == qty else (
                "PartiallyFilledCanceled" if p["orderType"] == "Market" or p.get("timeInForce") == "IOC" else "PartiallyFilled")
        elif p.get("timeInForce") == "IOC":
            order["orderStatus"] = "Cancelled"
        self.orders[link] = order
        self._push("order", [order])
        self._push("execution", [{**e, "category": p["category"], "execType": "Trade"} for e in self.executions.get(oid, [])])
        return answer({"orderId": oid, "orderLinkId": link})

    def _open(self, link):
        order = self.orders.get(link)
        return order if order and order["orderStatus"] in ("New", "PartiallyFilled") else None

    @signed
    async def amend(self, request, p):
        order = self._open(p.get("orderLinkId", ""))
        if order is None:
            return answer({}, 170213, "Order does not exist.")
        if "qty" in p:
            order["qty"] = p["qty"]
        if "price" in p:
            order["price"] = p["price"]
        order["updatedTime"] = str(self.now_ms())
        self._push("order", [order])
        return answer({"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]})

    @signed
    async def cancel(self, request, p):
        order = self._open(p.get("orderLinkId", ""))
        if order is None:
            return answer({}, 170213, "Order does not exist.")
        order["orderStatus"], order["updatedTime"] = "Cancelled", str(self.now_ms())
        self._push("order", [order])
        return answer({"orderId": order["orderId"], "orderLinkId": order["orderLinkId"]})

    def page(self, p: dict, rows: list, default: int, most: int, **result) -> web.Response:
        """One page of *rows* as Bybit pages lists: ``limit`` 1..*most* (*default* when not
        given), ``cursor`` a ``nextPageCursor`` this server sent."""
        limit = int(p.get("limit") or default)
        if not 1 <= limit <= most:
            return answer({}, 10001, f"params error: limit must be in [1, {most}]")
        at = self._cursors.get(p["cursor"]) if p.get("cursor") else 0
        if at is None:
            return answer({}, 10001, "params error: cursor invalid")
        cursor = ""
        if at + limit < len(rows):
            cursor = f"{at + limit}%3A{next(self._ids)}%2C{at + limit}%3A1"      # opaque, percent-encoded like Bybit's
            self._cursors[cursor] = at + limit
        return answer({**result, "list": rows[at:at + limit], "nextPageCursor": cursor})

    @signed
    async def realtime(self, request, p):
        if p.get("orderLinkId"):
            found = [self.orders[p["orderLinkId"]]] if p["orderLinkId"] in self.orders else []
        else:
            found = [o for o in self.orders.values() if o["orderStatus"] in ("New", "PartiallyFilled")]
        return self.page(p, found, 20, 50, category=p["category"])

    @signed
    async def set_leverage(self, request, p):
        buy, sell, symbol = str(p.get("buyLeverage", "")), str(p.get("sellLeverage", "")), p.get("symbol", "")
        if p.get("category") not in ("linear", "inverse") or not symbol:
            return answer({}, 10001, "params error: category or symbol")
        if buy != sell:
            return answer({}, 10001, "params error: buy leverage should be same with sell leverage")
        try:
            asked = Decimal(buy)
        except ArithmeticError:
            return answer({}, 10001, "params error: leverage invalid")
        if asked < 1:
            return answer({}, 10001, "params error: leverage invalid")
        if asked > 100:
            return answer({}, 110013, f"cannot set leverage[{int(asked * 100)}] gt maxLeverage[10000] by risk limit")
        if self.leverage.get(symbol, "10") == buy:
            return answer({}, 110043, "leverage not modified")
        self.leverage[symbol] = buy
        self.leverage_sets.append((symbol, buy, len(self.orders)))
        return answer({})

    @signed
    async def position_list(self, request, p):
        if p.get("category") != "linear" or not (p.get("symbol") or p.get("settleCoin")):
            return answer({}, 10001, "symbol or settleCoin is required")
        return self.page(p, self.positions, 20, 200, category="linear")

    @signed
    async def history(self, request, p):
        return answer({"category": p["category"], "list": [], "nextPageCursor": ""})

    @signed
    async def execution_list(self, request, p):
        return self.page(p, self.executions.get(p.get("orderId", ""), []), 50, 100, category=p["category"])

    @signed
    async def transaction_log(self, request, p):
        self.log_queries.append(p)
        if p.get("accountType", "UNIFIED") != "UNIFIED":
            return answer({}, 10001, "accountType only support UNIFIED")
        start, end = p.get("startTime"), p.get("endTime")
        day = 86_400_000
        if start and end:
            start, end = int(start), int(end)
        else:
            start = int(start) if start else (int(end) - day if end else self.now_ms() - day)
            end = int(end) if end else start + day
        if not 0 <= end - start <= 7 * day:
            return answer({}, 10001, "params error: endTime - startTime must be within 7 days")
        rows = sorted((r for r in self.transactions if start <= int(r["transactionTime"]) <= end
                       and all(r.get(k) == p[k] for k in ("category", "type", "currency") if k in p)),
                      key=lambda r: -int(r["transactionTime"]))
        return self.page(p, rows, 20, 50)
