"""A fake Bitget v2 spot server on 127.0.0.1 that checks requests the way Bitget does:
``ACCESS-KEY``, ``ACCESS-PASSPHRASE``, ``ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp +
METHOD + path[?query] + body)), ``ACCESS-TIMESTAMP`` (ms) within 30 s (40008). Answers
``{"code": "00000", "msg": "success", "requestTime", "data"}``, refusals with Bitget's codes
(HTTP 400, 429 for limits). Orders match a fixed book (asks 91000.00 x 2, bids 90990.00 x 2);
taker fee 0.1% (negative ``totalFee``) in the base coin for buys, quote for sells.
Websocket ``/v2/ws/public``: ``books`` snapshot then updates with ``checksum``, ``trade``,
``ping``/``pong``. ``/v2/ws/private``: login checked like a REST signature (over ``timestamp +
GET + /user/verify``, Unix seconds), then the spot ``orders`` channel pushes each order change
with its last fill; ``fill_resting()`` fills a resting order as a taker would. Faults: ``rate_limit_next``, ``malformed_next``, ``clock_offset_ms``,
``refuse_next_place``, ``corrupt_next_checksum``, ``drop_sockets()``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal

from aiohttp import web

from sequence_core.feeds import interleaved_crc32
from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.00"), Decimal("90990.00")


def ok(data) -> web.Response:
    return web.json_response({"code": "00000", "msg": "success", "requestTime": time.time_ns() // 1_000_000, "data": data})


def fail(code: str, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "requestTime": time.time_ns() // 1_000_000, "data": None}, status=status)


class FakeBitget(FakeVenueServer):
    def __init__(self, api_key: str, secret: str, passphrase: str):
        super().__init__()
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self.orders: dict[str, dict] = {}
        self.fills: dict[str, list] = {}
        self.refuse_next_place: tuple[str, str] | None = None
        self.corrupt_next_checksum = False
        self.bids = {"90990.00": "2", "90980.00": "3"}
        self.asks = {"91000.00": "2", "91010.00": "3"}
        self.subscriptions: list[dict] = []
        self.private: list = []
        self.logins: list[bool] = []
        self.seq = 10
        self._ids = itertools.count(5000)

    async def verify(self, request) -> web.Response | dict:
        h = request.headers
        if h.get("ACCESS-KEY") != self.api_key:
            return fail("40006", "Invalid ACCESS_KEY")
        if h.get("ACCESS-PASSPHRASE") != self.passphrase:
            return fail("40012", "apikey/password is incorrect")
        ts = h.get("ACCESS-TIMESTAMP", "0")
        if not ts.isdigit() or abs(self.now_ms() - int(ts)) > 30_000:
            return fail("40008", "Request timestamp expired")
        body = await request.text()
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}{request.method}{path}{body}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(h.get("ACCESS-SIGN", ""), expected):
            return fail("40009", "sign signature error")
        return json.loads(body) if body else dict(request.query)

    def rate_limited(self):
        return fail("429", "Too Many Requests", 429)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        r = app.router
        r.add_get("/v2/ws/public", self.ws)
        r.add_get("/v2/ws/private", self.private_ws)
        r.add_get("/api/v2/public/time", self.time)
        r.add_get("/api/v2/spot/public/symbols", self.symbols)
        r.add_get("/api/v2/spot/market/orderbook", self.orderbook)
        r.add_get("/api/v2/spot/account/assets", self.assets)
        r.add_post("/api/v2/spot/trade/place-order", self.place)
        r.add_post("/api/v2/spot/trade/cancel-order", self.cancel)
        r.add_get("/api/v2/spot/trade/orderInfo", self.order_info)
        r.add_get("/api/v2/spot/trade/unfilled-orders", self.unfilled)
        r.add_get("/api/v2/spot/trade/fills", self.get_fills)
        return app

    async def time(self, request):
        return ok({"serverTime": str(self.now_ms())})

    async def symbols(self, request):
        return ok([{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "minTradeAmount": "0", "pricePrecision": "2",
                    "quantityPrecision": "6", "minTradeUSDT": "1", "status": "online"}])

    def _sides(self):
        return (sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0])), sorted(self.asks.items(), key=lambda kv: Decimal(kv[0])))

    async def orderbook(self, request):
        bids, asks = self._sides()
        return ok({"asks": [list(a) for a in asks], "bids": [list(b) for b in bids], "ts": str(self.now_ms())})

    def checksum(self) -> int:
        bids, asks = self._sides()
        return interleaved_crc32(bids, asks)

    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            if msg.data == "ping":
                await ws.send_str("pong")
                continue
            body = json.loads(msg.data)
            for arg in body.get("args", []):
                await ws.send_json({"event": body["op"], "arg": arg})
                if body["op"] == "subscribe":
                    self.subscriptions.append(arg)
                    if arg["channel"] == "books":
                        await ws.send_json(self._book("snapshot", dict(self.bids), dict(self.asks)))
        return ws

    async def private_ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        logged_in = False
        async for msg in ws:
            if msg.data == "ping":
                await ws.send_str("pong")
                continue
            body = json.loads(msg.data)
            if body.get("op") == "login":
                logged_in = self._check_login(body["args"][0])
                self.logins.append(logged_in)
                await ws.send_json({"event": "login", "code": 0, "msg": ""} if logged_in
                                   else {"event": "error", "code": 30005, "msg": "Login failed"})
            elif body.get("op") == "subscribe":
                if not logged_in:
                    await ws.send_json({"event": "error", "code": 30004, "msg": "User not logged in"})
                    continue
                for arg in body["args"]:
                    await ws.send_json({"event": "subscribe", "arg": arg})
                    if arg.get("channel") == "orders":
                        self.private.append(ws)
        return ws

    def _check_login(self, a: dict) -> bool:
        if a.get("apiKey") != self.api_key or a.get("passphrase") != self.passphrase:
            return False
        if not a.get("timestamp", "").isdigit() or abs(self.now_ms() / 1000 - int(a["timestamp"])) > 30:
            return False
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{a['timestamp']}GET/user/verify".encode(),
                                             hashlib.sha256).digest()).decode()
        return hmac.compare_digest(a.get("sign", ""), expected)

    def _push(self, order: dict, fill: dict | None = None) -> None:
        """The ``orders`` channel push for this change (on the server's loop)."""
        import asyncio

        data = {"instId": order["symbol"], "orderId": order["orderId"], "clientOid": order["clientOid"], "price": order["price"],
                "size": order["size"], "orderType": order["orderType"], "side": order["side"], "status": order["status"],
                "accBaseVolume": order["baseVolume"], "cTime": order["cTime"], "uTime": order["uTime"]}
        if fill:
            data.update(tradeId=fill["tradeId"], fillPrice=fill["priceAvg"], baseVolume=fill["size"], fillTime=fill["cTime"],
                        fillFee=fill["feeDetail"]["totalFee"], fillFeeCoin=fill["feeDetail"]["feeCoin"],
                        tradeScope="M" if fill["tradeScope"] == "maker" else "T")
        message = {"action": "snapshot", "arg": {"instType": "SPOT", "channel": "orders", "instId": "default"},
                   "data": [data], "ts": self.now_ms()}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.1%), from any thread."""
        def go():
            order = self.orders[cid]
            q, px = Decimal(qty), Decimal(order["price"])
            fee, coin = (-(q * Decimal("0.001")), "BTC") if order["side"] == "buy" else (-(q * px * Decimal("0.001")), "USDT")
            fill = {"tradeId": str(next(self._ids)), "orderId": order["orderId"], "priceAvg": order["price"], "size": f"{q:f}",
                    "feeDetail": {"feeCoin": coin, "totalFee": f"{fee:f}"}, "tradeScope": "maker", "cTime": str(self.now_ms())}
            self.fills.setdefault(order["orderId"], []).append(fill)
            done = Decimal(order["baseVolume"]) + q
            order.update(baseVolume=f"{done:f}", uTime=fill["cTime"],
                         status="filled" if done >= Decimal(order["size"]) else "partially_filled")
            self._push(order, fill)
        self.soon(go)

    def _book(self, action, bids, asks):
        return {"action": action, "arg": {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"},
                "data": [{"asks": [[p, s] for p, s in asks.items()], "bids": [[p, s] for p, s in bids.items()],
                          "checksum": self.checksum(), "seq": self.seq, "ts": str(self.now_ms())}], "ts": self.now_ms()}

    def push_book(self, bids=None, asks=None) -> None:
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    side.pop(p, None) if not Decimal(s) else side.__setitem__(p, s)
            self.seq += 3                     # rising, not consecutive
            message = self._book("update", bids or {}, asks or {})
            if self.corrupt_next_checksum:
                self.corrupt_next_checksum = False
                message["data"][0]["checksum"] += 1
            self.broadcast(message)
        self.soon(go)

    def push_trade(self, price: str, size: str, side: str) -> None:
        self.broadcast({"action": "update", "arg": {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"},
                        "data": [{"ts": str(self.now_ms()), "price": price, "size": size, "side": side,
                                  "tradeId": str(next(self._ids))}]})

    @signed
    async def assets(self, request, p):
        return ok([{"coin": "BTC", "available": "1", "frozen": "0"}, {"coin": "USDT", "available": "100000", "frozen": "0"}])

    @signed
    async def place(self, request, p):
        if self.refuse_next_place:
            code, msg = self.refuse_next_place
            self.refuse_next_place = None
            return fail(code, msg)
        cid = p.get("clientOid", "")
        if cid in self.orders:
            return fail("43025", "Duplicate clientOid")
        size = Decimal(p["size"])
        if p["orderType"] == "market" and p["side"] == "buy":
            size = size / ASK                  # a market buy's size is quote
        price = Decimal(p["price"]) if p.get("price") else None
        touch = ASK if p["side"] == "buy" else BID
        crosses = price is None or (price >= touch if p["side"] == "buy" else price <= touch)
        oid, now = str(next(self._ids)), str(self.now_ms())
        order = {"symbol": p["symbol"], "orderId": oid, "clientOid": cid, "price": p.get("price", "0"), "size": f"{size:f}",
                 "orderType": p["orderType"], "side": p["side"], "status": "live", "baseVolume": "0", "cTime": now, "uTime": now}
        if p.get("force") == "post_only" and crosses:
            order["status"] = "cancelled"
        elif crosses:
            qty = min(size, Decimal("2"))
            fee, coin = (-(qty * Decimal("0.001")), "BTC") if p["side"] == "buy" else (-(qty * touch * Decimal("0.001")), "USDT")
            self.fills[oid] = [{"tradeId": str(next(self._ids)), "orderId": oid, "priceAvg": f"{touch}", "size": f"{qty:f}",
                                "feeDetail": {"feeCoin": coin, "totalFee": f"{fee:f}"}, "tradeScope": "taker", "cTime": now}]
            order["baseVolume"] = f"{qty:f}"
            order["status"] = "filled" if qty == size else ("cancelled" if p.get("force") == "ioc" else "partially_filled")
        elif p.get("force") == "ioc":
            order["status"] = "cancelled"
        self.orders[cid] = order
        self._push(order, self.fills.get(oid, [None])[-1])
        return ok({"orderId": oid, "clientOid": cid})

    @signed
    async def cancel(self, request, p):
        order = self.orders.get(p.get("clientOid", ""))
        if order is None or order["status"] not in ("live", "partially_filled"):
            return fail("43001", "The order does not exist")
        order["status"], order["uTime"] = "cancelled", str(self.now_ms())
        self._push(order)
        return ok({"orderId": order["orderId"], "clientOid": order["clientOid"]})

    @signed
    async def order_info(self, request, p):
        order = self.orders.get(p.get("clientOid", ""))
        return ok([order] if order else [])

    @signed
    async def unfilled(self, request, p):
        return ok([o for o in self.orders.values() if o["symbol"] == p.get("symbol") and o["status"] in ("live", "partially_filled")])

    @signed
    async def get_fills(self, request, p):
        return ok(self.fills.get(p.get("orderId", ""), []))
