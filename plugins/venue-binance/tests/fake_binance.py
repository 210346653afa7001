"""A fake Binance spot REST server on 127.0.0.1 that checks requests the way Binance does:
the ``X-MBX-APIKEY`` header, the HMAC-SHA256 ``signature`` over the exact query string, and
``timestamp`` within ``recvWindow`` of its own clock (-1021 otherwise). Error bodies and
codes follow https://developers.binance.com/docs/binance-spot-api-docs/errors. Orders
against a fixed book: asks 91000.00 (2 BTC), bids 90990.00 (2 BTC); taker fee 0.1% in the
base asset for buys and the quote asset for sells, as Binance charges without BNB.
Faults for tests: ``rate_limit_next``, ``post_503_next``, ``malformed_next``, ``clock_offset_ms``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

ASK, BID = Decimal("91000.00"), Decimal("90990.00")


class FakeBinance:
    def __init__(self, api_key: str, secret: str):
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, dict] = {}
        self.trades: dict[int, list] = {}
        self.requests: list[tuple[str, str]] = []
        self.rate_limit_next = 0
        self.post_503_next = 0
        self.malformed_next = 0
        self.clock_offset_ms = 0
        self._ids = itertools.count(1000)
        self._loop = None
        self.port = None

    # -- lifecycle (a thread with its own loop, so sync and async tests can use it) ----------
    def start(self) -> str:
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            runner = web.AppRunner(self.app())
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            self._runner = runner
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- protocol -----------------------------------------------------------------------------
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.clock_offset_ms

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
    async def faults(self, request, handler):
        self.requests.append((request.method, request.path))
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            return web.json_response({"code": -1003, "msg": "Too many requests."}, status=429, headers={"Retry-After": "0.05"})
        if self.malformed_next:
            self.malformed_next -= 1
            return web.Response(text="<html>gateway</html>", status=200)
        if request.method == "POST" and self.post_503_next:
            self.post_503_next -= 1
            return web.Response(text="", status=503)
        return await handler(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
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

    async def account(self, request):
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
        return web.json_response({"balances": [{"asset": "BTC", "free": "1.0", "locked": "0"},
                                               {"asset": "USDT", "free": "100000", "locked": "0"}]})

    def _view(self, o: dict) -> dict:
        return {k: v for k, v in o.items() if k != "fills"}

    async def new_order(self, request):
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
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
        return web.json_response(order)

    async def query_order(self, request):
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
        order = self.orders.get(p.get("origClientOrderId", ""))
        if order is None:
            return self.error(400, -2013, "Order does not exist.")
        return web.json_response(self._view(order))

    async def cancel_order(self, request):
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
        order = self.orders.get(p.get("origClientOrderId", ""))
        if order is None or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -2011, "Unknown order sent.")
        order["status"] = "CANCELED"
        return web.json_response(self._view(order))

    async def my_trades(self, request):
        p = self.verify(request)
        if isinstance(p, web.Response):
            return p
        return web.json_response(self.trades.get(int(p["orderId"]), []))
