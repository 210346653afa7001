"""A fake Binance spot REST server on 127.0.0.1 that checks requests the way Binance does:
the ``X-MBX-APIKEY`` header, the HMAC-SHA256 ``signature`` over the exact query string, and
``timestamp`` within ``recvWindow`` of its own clock (-1021 otherwise). Error bodies and
codes follow https://developers.binance.com/docs/binance-spot-api-docs/errors. Orders
against a fixed book: asks 91000.00 (2 BTC), bids 90990.00 (2 BTC); taker fee 0.1% in the
base asset for buys and the quote asset for sells, as Binance charges without BNB.
Faults for tests: ``rate_limit_next``, ``post_503_next``, ``malformed_next``, ``clock_offset_ms``.
Market data: ``GET /api/v3/depth`` (``lastUpdateId``), ``/api/v3/exchangeInfo``, and the ``/ws``
websocket (SUBSCRIBE, ``depthUpdate`` with U/u, ``trade``); ``push_depth()`` sends the next
update, ``skip_next_update`` drops one sequence number (a gap the client must notice), and
``drop_sockets()`` closes every socket. Every answer carries ``X-MBX-USED-WEIGHT-1M``.
User data: the WebSocket API at ``/ws-api/v3`` takes ``userDataStream.subscribe.signature``
(signature over the sorted params, timestamp within 5 s) and then sends an ``executionReport``
for every order change; ``fill_resting()`` fills a resting order as a taker would.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.00"), Decimal("90990.00")


class FakeBinance(FakeVenueServer):
    def __init__(self, api_key: str, secret: str):
        super().__init__()
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, dict] = {}
        self.trades: dict[int, list] = {}
        self.post_503_next = 0
        self._ids = itertools.count(1000)
        self.update_id = 5000                 # the book's last update id
        self.bids = {Decimal("90990.00"): Decimal("2"), Decimal("90980.00"): Decimal("3")}
        self.asks = {Decimal("91000.00"): Decimal("2"), Decimal("91010.00"): Decimal("3")}
        self.subscriptions: list[list[str]] = []
        self.skip_next_update = 0
        self.used_weight = 0
        self.private: list = []               # WebSocket API sessions subscribed to user data
        self.logins: list[bool] = []
        self.depth_requests = 0

    # -- protocol -----------------------------------------------------------------------------
    def error(self, status: int, code: int, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg}, status=status)

    def verify(self, request) -> dict | web.Response:
        query = request.query_string
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self.error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, _, sig = query.rpartition("&signature=")
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, expected):
            return self.error(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(payload))
        window = int(params.get("recvWindow", 5000))
        if not (int(params["timestamp"]) < self.now_ms() + 1000 and self.now_ms() - int(params["timestamp"]) <= window):
            return self.error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return params

    @web.middleware
    async def weight(self, request, handler):
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            self.used_weight += 1
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.used_weight)
        return response

    def rate_limited(self):
        return web.json_response({"code": -1003, "msg": "Too many requests."}, status=429, headers={"Retry-After": "0.05"})

    def fault(self, request):
        if request.method == "POST" and self.post_503_next:
            self.post_503_next -= 1
            return web.Response(text="", status=503)
        return None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.weight, self.faults])
        app.router.add_get("/ws", self.ws)
        app.router.add_get("/ws-api/v3", self.ws_api)
        app.router.add_get("/api/v3/depth", self.depth)
        app.router.add_get("/api/v3/exchangeInfo", self.exchange_info)
        app.router.add_get("/api/v3/openOrders", self.open_orders)
        app.router.add_put("/api/v3/order/amend/keepPriority", self.amend)
        app.router.add_get("/api/v3/ping", self.ping)
        app.router.add_get("/api/v3/time", self.time)
        app.router.add_get("/api/v3/account", self.account)
        app.router.add_post("/api/v3/order", self.new_order)
        app.router.add_get("/api/v3/order", self.query_order)
        app.router.add_delete("/api/v3/order", self.cancel_order)
        app.router.add_get("/api/v3/myTrades", self.my_trades)
        return app

    async def ping(self, request):
        return web.json_response({})

    async def time(self, request):
        return web.json_response({"serverTime": self.now_ms()})

    @signed
    async def account(self, request, p):
        return web.json_response({"balances": [{"asset": "BTC", "free": "1.0", "locked": "0"},
                                               {"asset": "USDT", "free": "100000", "locked": "0"}]})

    def _view(self, o: dict) -> dict:
        return {k: v for k, v in o.items() if k != "fills"}

    @signed
    async def new_order(self, request, p):
        cid = p["newClientOrderId"]
        if cid in self.orders:
            return self.error(400, -2010, "Duplicate order sent.")
        qty = Decimal(p["quantity"])
        if qty <= 0 or (qty / Decimal("0.00001")) % 1:
            return self.error(400, -1013, "Filter failure: LOT_SIZE")
        side, kind = p["side"], p["type"]
        price = Decimal(p["price"]) if "price" in p else None
        touch = ASK if side == "BUY" else BID
        crosses = price is None or (price >= touch if side == "BUY" else price <= touch)
        if kind == "LIMIT_MAKER" and crosses:
            return self.error(400, -2010, "Order would immediately match and take.")
        order_id = next(self._ids)
        now = self.now_ms()
        order = {"symbol": p["symbol"], "orderId": order_id, "clientOrderId": cid, "price": str(price or 0),
                 "origQty": str(qty), "executedQty": "0", "status": "NEW", "type": kind, "side": side,
                 "transactTime": now, "updateTime": now, "fills": []}
        if crosses and kind in ("MARKET", "LIMIT"):
            fill_qty = min(qty, Decimal("2"))
            commission, asset = (fill_qty * Decimal("0.001"), "BTC") if side == "BUY" else (fill_qty * touch * Decimal("0.001"), "USDT")
            trade_id = next(self._ids)
            order["fills"] = [{"price": str(touch), "qty": str(fill_qty), "commission": str(commission),
                               "commissionAsset": asset, "tradeId": trade_id}]
            self.trades[order_id] = [{"id": trade_id, "orderId": order_id, "price": str(touch), "qty": str(fill_qty),
                                      "commission": str(commission), "commissionAsset": asset, "time": now, "isMaker": False}]
            order["executedQty"] = str(fill_qty)
            order["status"] = "FILLED" if fill_qty == qty else ("EXPIRED" if p.get("timeInForce") == "IOC" or kind == "MARKET" else "PARTIALLY_FILLED")
        elif p.get("timeInForce") == "IOC":
            order["status"] = "EXPIRED"
        self.orders[cid] = order
        self._report(order, "NEW")
        for trade in self.trades.get(order_id, []):
            self._report(order, "TRADE", trade)
        return web.json_response(order)

    @signed
    async def query_order(self, request, p):
        order = self.orders.get(p.get("origClientOrderId", ""))
        if order is None:
            return self.error(400, -2013, "Order does not exist.")
        return web.json_response(self._view(order))

    @signed
    async def cancel_order(self, request, p):
        order = self.orders.get(p.get("origClientOrderId", ""))
        if order is None or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -2011, "Unknown order sent.")
        order["status"] = "CANCELED"
        self._report(order, "CANCELED")
        return web.json_response(self._view(order))

    @signed
    async def my_trades(self, request, p):
        return web.json_response(self.trades.get(int(p["orderId"]), []))

    # -- market data ------------------------------------------------------------------------------
    async def depth(self, request):
        self.depth_requests += 1
        return web.json_response({"lastUpdateId": self.update_id,
                                  "bids": [[f"{p:.8f}", f"{q:.8f}"] for p, q in sorted(self.bids.items(), reverse=True)],
                                  "asks": [[f"{p:.8f}", f"{q:.8f}"] for p, q in sorted(self.asks.items())]})

    async def exchange_info(self, request):
        return web.json_response({"symbols": [
            {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
             "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
                         {"filterType": "LOT_SIZE", "minQty": "0.00001000", "stepSize": "0.00001000"},
                         {"filterType": "NOTIONAL", "minNotional": "5.00000000"}]}]})

    async def ws(self, request):
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            body = msg.json()
            if body.get("method") == "SUBSCRIBE":
                self.subscriptions.append(body["params"])
                await ws.send_json({"result": None, "id": body["id"]})
        return ws

    async def ws_api(self, request):
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            body = msg.json()
            if body.get("method") != "userDataStream.subscribe.signature":
                await ws.send_json({"id": body.get("id"), "status": 400, "error": {"code": -1100, "msg": "Unknown method."}})
                continue
            error = self._check_ws_signature(body.get("params", {}))
            self.logins.append(error is None)
            if error:
                await ws.send_json({"id": body["id"], "status": 400 if error[0] != -2015 else 401,
                                    "error": {"code": error[0], "msg": error[1]}})
                continue
            self.private.append(ws)
            await ws.send_json({"id": body["id"], "status": 200, "result": {"subscriptionId": len(self.private) - 1}})
        return ws

    def _check_ws_signature(self, params: dict):
        if params.get("apiKey") != self.api_key:
            return (-2015, "Invalid API-key, IP, or permissions for action.")
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(params.get("signature", "")), expected):
            return (-1022, "Signature for this request is not valid.")
        if abs(self.now_ms() - int(params.get("timestamp", 0))) > 5000:
            return (-1021, "Timestamp for this request is outside of the recvWindow.")
        return None

    def _report(self, order: dict, execution: str, trade: dict | None = None) -> None:
        """An ``executionReport`` for this change to every subscribed session (server loop)."""
        import asyncio

        event = {"e": "executionReport", "E": self.now_ms(), "s": order["symbol"], "c": order["clientOrderId"],
                 "S": order["side"], "o": order["type"], "q": order["origQty"], "p": order["price"], "C": "",
                 "x": execution, "X": order["status"], "r": "NONE", "i": order["orderId"], "z": order["executedQty"],
                 "l": "0", "L": "0", "n": "0", "N": None, "T": self.now_ms(), "t": -1, "m": False}
        if trade:
            event.update(l=trade["qty"], L=trade["price"], n=trade["commission"], N=trade["commissionAsset"],
                         t=trade["id"], m=trade["isMaker"], T=trade["time"])
        for i, ws in enumerate(self.private):
            if not ws.closed:
                asyncio.ensure_future(ws.send_json({"subscriptionId": i, "event": event}))

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.1%), from any thread."""
        def go():
            order = self.orders[cid]
            q, px = Decimal(qty), Decimal(order["price"])
            commission, asset = (q * Decimal("0.001"), "BTC") if order["side"] == "BUY" else (q * px * Decimal("0.001"), "USDT")
            trade = {"id": next(self._ids), "orderId": order["orderId"], "price": order["price"], "qty": str(q),
                     "commission": str(commission), "commissionAsset": asset, "time": self.now_ms(), "isMaker": True}
            self.trades.setdefault(order["orderId"], []).append(trade)
            done = Decimal(order["executedQty"]) + q
            order.update(executedQty=str(done), updateTime=trade["time"],
                         status="FILLED" if done >= Decimal(order["origQty"]) else "PARTIALLY_FILLED")
            self._report(order, "TRADE", trade)
        self.soon(go)

    def push_depth(self, bids=(), asks=()) -> None:
        """Change the book and send the update to every socket (from any thread)."""
        def go():
            first = self.update_id + 1
            self.update_id += 1 + self.skip_next_update
            sent_first = first + self.skip_next_update
            self.skip_next_update = 0
            for side, levels in ((self.bids, bids), (self.asks, asks)):
                for p, q in levels:
                    if Decimal(q):
                        side[Decimal(p)] = Decimal(q)
                    else:
                        side.pop(Decimal(p), None)
            event = {"e": "depthUpdate", "E": self.now_ms(), "s": "BTCUSDT", "U": sent_first, "u": self.update_id,
                     "b": [[str(p), str(q)] for p, q in bids], "a": [[str(p), str(q)] for p, q in asks]}
            self.broadcast(event)
        self.soon(go)

    def push_trade(self, price: str, qty: str, buyer_maker: bool) -> None:
        event = {"e": "trade", "E": self.now_ms(), "s": "BTCUSDT", "t": next(self._ids), "p": price, "q": qty,
                 "T": self.now_ms(), "m": buyer_maker}
        self.broadcast(event)

    # -- more signed endpoints --------------------------------------------------------------------
    @signed
    async def open_orders(self, request, p):
        return web.json_response([self._view(o) for o in self.orders.values()
                                  if o["symbol"] == p["symbol"] and o["status"] in ("NEW", "PARTIALLY_FILLED")])

    async def amend(self, request):
        """keepPriority: only a smaller quantity, above what has filled."""
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
        order = self.orders.get(p.get("origClientOrderId", ""))
        if order is None or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -2013, "Order does not exist.")
        new_qty = Decimal(p["newQty"])
        if not Decimal(order["executedQty"]) < new_qty < Decimal(order["origQty"]):
            return self.error(400, -1013, "newQty must be greater than 0 and less than the order's quantity.")
        order["origQty"] = str(new_qty)
        order["clientOrderId"] = p.get("newClientOrderId", order["clientOrderId"])
        return web.json_response({"transactTime": self.now_ms(), "executionId": next(self._ids),
                                  "amendedOrder": self._view(order)})
