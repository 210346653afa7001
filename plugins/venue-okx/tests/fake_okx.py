"""A fake OKX v5 server on 127.0.0.1 that checks requests the way OKX does: ``OK-ACCESS-KEY``,
``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD +
requestPath(+query) + body)) and ``OK-ACCESS-TIMESTAMP`` within 30 s of its clock (50102).
Answers are ``{"code", "msg", "data"}``; order failures carry ``sCode``/``sMsg`` per item
(https://www.okx.com/docs-v5/en/#error-code). Orders match against a fixed book (asks
91000.0 x 2 BTC, bids 90990.0 x 2 BTC), taker fee 0.1% charged negative, in the base asset for
buys and the quote for sells, as OKX does for spot.
Websocket ``/ws/v5/public``: ``books`` (snapshot then updates with seqId/prevSeqId/checksum),
``trades``, ``ping``/``pong``. ``/ws/v5/private``: login checked like a REST signature (over
``timestamp + GET + /users/self/verify``, Unix seconds), then the ``orders`` channel pushes each
order change with its last fill; ``fill_resting()`` fills a resting order as a taker would. Faults: ``rate_limit_next``, ``malformed_next``,
``clock_offset_ms``, ``refuse_next_place``, ``skip_next_seq``, ``corrupt_next_checksum``, ``drop_sockets()``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import zlib
from datetime import datetime
from decimal import Decimal

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.0"), Decimal("90990.0")


def ok(data: list) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def fail(code: str, msg: str, status: int = 200, item: dict | None = None) -> web.Response:
    if item is not None:
        return web.json_response({"code": "1", "msg": "Operation failed.", "data": [{**item, "sCode": code, "sMsg": msg}]},
                                 status=status)
    return web.json_response({"code": code, "msg": msg, "data": []}, status=status)


class FakeOkx(FakeVenueServer):
    def __init__(self, api_key: str, secret: str, passphrase: str):
        super().__init__()
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self.orders: dict[str, dict] = {}
        self.fills: dict[str, list] = {}
        self.skip_next_seq = 0
        self.refuse_next_place: tuple[str, str] | None = None
        self.corrupt_next_checksum = False
        self.seq = 100
        self.bids = {"90990.0": "2", "90980.0": "3"}
        self.asks = {"91000.0": "2", "91010.0": "3"}
        self.subscriptions: list[dict] = []
        self.private: list = []                  # logged-in private sockets subscribed to orders
        self.logins: list[bool] = []             # each private login: accepted or not
        self.pings = 0
        self._ids = itertools.count(7000)

    # -- auth ---------------------------------------------------------------------------------------
    async def verify(self, request) -> web.Response | dict:
        h = request.headers
        if h.get("OK-ACCESS-KEY") != self.api_key:
            return fail("50111", "Invalid OK-ACCESS-KEY.", 401)
        if h.get("OK-ACCESS-PASSPHRASE") != self.passphrase:
            return fail("50105", "Invalid OK-ACCESS-PASSPHRASE.", 401)
        ts = h.get("OK-ACCESS-TIMESTAMP", "")
        try:
            sent = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000
        except ValueError:
            return fail("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        if abs(self.now_ms() - sent) > 30_000:
            return fail("50102", "Timestamp request expired.", 401)
        body = await request.text()
        path = request.path + (f"?{request.query_string}" if request.query_string else "")
        prehash = f"{ts}{request.method}{path}{body}"
        expected = base64.b64encode(hmac.new(self.secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(h.get("OK-ACCESS-SIGN", ""), expected):
            return fail("50113", "Invalid Sign.", 401)
        return json.loads(body) if body else dict(request.query)

    def rate_limited(self):
        return web.json_response({"code": "50011", "msg": "Too Many Requests", "data": []}, status=429)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        r = app.router
        r.add_get("/ws/v5/public", self.ws)
        r.add_get("/ws/v5/private", self.private_ws)
        r.add_get("/api/v5/public/time", self.time)
        r.add_get("/api/v5/public/instruments", self.instruments)
        r.add_get("/api/v5/market/books", self.books)
        r.add_get("/api/v5/account/balance", self.balance)
        r.add_get("/api/v5/account/trade-fee", self.trade_fee)
        r.add_post("/api/v5/trade/order", self.place)
        r.add_get("/api/v5/trade/order", self.get_order)
        r.add_post("/api/v5/trade/cancel-order", self.cancel)
        r.add_post("/api/v5/trade/amend-order", self.amend)
        r.add_get("/api/v5/trade/orders-pending", self.pending)
        r.add_get("/api/v5/trade/fills", self.get_fills)
        return app

    # -- public ---------------------------------------------------------------------------------------
    async def time(self, request):
        return ok([{"ts": str(self.now_ms())}])

    async def instruments(self, request):
        return ok([{"instId": "BTC-USDT", "instType": "SPOT", "baseCcy": "BTC", "quoteCcy": "USDT", "tickSz": "0.1",
                    "lotSz": "0.00000001", "minSz": "0.00001", "state": "live"}])

    def _sides(self):
        bids = sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks

    async def books(self, request):
        bids, asks = self._sides()
        return ok([{"asks": [[p, s, "0", "1"] for p, s in asks], "bids": [[p, s, "0", "1"] for p, s in bids],
                    "ts": str(self.now_ms())}])

    def checksum(self) -> int:
        bids, asks = self._sides()
        parts = []
        for i in range(25):
            if i < len(bids):
                parts += list(bids[i])
            if i < len(asks):
                parts += list(asks[i])
        crc = zlib.crc32(":".join(parts).encode())
        return crc - (1 << 32) if crc >= 1 << 31 else crc

    # -- websocket ----------------------------------------------------------------------------------------
    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            if msg.data == "ping":
                self.pings += 1
                await ws.send_str("pong")
                continue
            body = json.loads(msg.data)
            for arg in body.get("args", []):
                await ws.send_json({"event": body["op"], "arg": arg, "connId": "a4d3ae55"})
                if body["op"] == "subscribe":
                    self.subscriptions.append(arg)
                    if arg["channel"] == "books":
                        await ws.send_json(self._book_message("snapshot", -1, dict(self.bids), dict(self.asks)))
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
                await ws.send_json({"event": "login", "code": "0", "msg": "", "connId": "b5e4"} if logged_in
                                   else {"event": "error", "code": "60009", "msg": "Login failed.", "connId": "b5e4"})
            elif body.get("op") == "subscribe":
                if not logged_in:
                    await ws.send_json({"event": "error", "code": "60011", "msg": "Please log in", "connId": "b5e4"})
                    continue
                for arg in body["args"]:
                    await ws.send_json({"event": "subscribe", "arg": arg, "connId": "b5e4"})
                    if arg.get("channel") == "orders":
                        self.private.append(ws)
        return ws

    def _check_login(self, a: dict) -> bool:
        if a.get("apiKey") != self.api_key or a.get("passphrase") != self.passphrase:
            return False
        if not a.get("timestamp", "").isdigit() or abs(self.now_ms() / 1000 - int(a["timestamp"])) > 30:
            return False
        prehash = f"{a['timestamp']}GET/users/self/verify"
        expected = base64.b64encode(hmac.new(self.secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()
        return hmac.compare_digest(a.get("sign", ""), expected)

    def _push_order(self, order: dict, fill: dict | None = None) -> None:
        """The ``orders`` channel message for this change (on the server's loop)."""
        import asyncio

        data = dict(order)
        if fill:
            data.update(tradeId=fill["tradeId"], fillPx=fill["fillPx"], fillSz=fill["fillSz"], fillTime=fill["ts"],
                        fillFee=fill["fee"], fillFeeCcy=fill["feeCcy"], execType=fill["execType"])
        message = {"arg": {"channel": "orders", "instType": "SPOT", "uid": "77"}, "data": [data]}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.08%), from any thread."""
        def go():
            order = self.orders[cid]
            q, px = Decimal(qty), Decimal(order["px"])
            fee, ccy = (-(q * Decimal("0.0008")), "BTC") if order["side"] == "buy" else (-(q * px * Decimal("0.0008")), "USDT")
            fill = {"instId": order["instId"], "tradeId": str(next(self._ids)), "ordId": order["ordId"], "clOrdId": cid,
                    "fillPx": order["px"], "fillSz": f"{q:f}", "side": order["side"], "execType": "M",
                    "fee": f"{fee:f}", "feeCcy": ccy, "ts": str(self.now_ms())}
            self.fills.setdefault(order["ordId"], []).append(fill)
            filled = Decimal(order["accFillSz"]) + q
            order.update(accFillSz=f"{filled:f}", uTime=fill["ts"],
                         state="filled" if filled >= Decimal(order["sz"]) else "partially_filled")
            self._push_order(order, fill)
        self.soon(go)

    def _book_message(self, action, prev, bids, asks):
        return {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action,
                "data": [{"asks": [[p, s, "0", "1"] for p, s in asks.items()], "bids": [[p, s, "0", "1"] for p, s in bids.items()],
                          "ts": str(self.now_ms()), "checksum": self.checksum(), "prevSeqId": prev, "seqId": self.seq}]}

    def push_book(self, bids=None, asks=None) -> None:
        """Change the book and send the update (size "0" deletes), from any thread."""
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    if Decimal(s):
                        side[p] = s
                    else:
                        side.pop(p, None)
            prev = self.seq + self.skip_next_seq
            self.skip_next_seq = 0
            self.seq += 1 if prev == self.seq else 2
            message = self._book_message("update", prev, bids or {}, asks or {})
            if self.corrupt_next_checksum:
                self.corrupt_next_checksum = False
                message["data"][0]["checksum"] += 1
            self.broadcast(message)
        self.soon(go)

    def push_trade(self, px: str, sz: str, side: str) -> None:
        message = {"arg": {"channel": "trades", "instId": "BTC-USDT"},
                   "data": [{"instId": "BTC-USDT", "tradeId": str(next(self._ids)), "px": px, "sz": sz, "side": side,
                             "ts": str(self.now_ms()), "count": "1"}]}
        self.broadcast(message)

    # -- account and trading ------------------------------------------------------------------------------
    @signed
    async def balance(self, request, p):
        return ok([{"details": [{"ccy": "BTC", "availBal": "1", "cashBal": "1"},
                                {"ccy": "USDT", "availBal": "100000", "cashBal": "100000"}]}])

    @signed
    async def trade_fee(self, request, p):
        return ok([{"instType": "SPOT", "level": "Lv1", "maker": "-0.0008", "taker": "-0.001", "ts": str(self.now_ms())}])

    @signed
    async def place(self, request, p):
        cid = p.get("clOrdId", "")
        item = {"clOrdId": cid, "ordId": "", "tag": ""}
        if self.refuse_next_place:
            code, msg = self.refuse_next_place
            self.refuse_next_place = None
            return fail(code, msg, item=item)
        if cid in self.orders and self.orders[cid]["state"] in ("live", "partially_filled"):
            return fail("51016", "Duplicated clOrdId", item=item)
        if p.get("tdMode") != "cash":
            return fail("51000", "Parameter tdMode error", item=item)
        sz = Decimal(p["sz"])
        if sz <= 0 or (sz / Decimal("0.00000001")) % 1:
            return fail("51121", "Order quantity must be a multiple of the lot size.", item=item)
        if p["ordType"] == "market" and p["side"] == "buy" and p.get("tgtCcy") != "base_ccy":
            sz = sz / ASK          # OKX reads a market buy's size in the quote currency
        if p["side"] == "buy" and sz * ASK > 100000:
            return fail("51008", "Order failed. Insufficient USDT balance in account.", item=item)
        px = Decimal(p["px"]) if p.get("px") else None
        touch = ASK if p["side"] == "buy" else BID
        crosses = px is None or (px >= touch if p["side"] == "buy" else px <= touch)
        oid = str(next(self._ids))
        now = str(self.now_ms())
        order = {"instId": p["instId"], "ordId": oid, "clOrdId": cid, "px": p.get("px", ""), "sz": f"{sz:f}",
                 "ordType": p["ordType"], "side": p["side"], "state": "live", "accFillSz": "0", "avgPx": "",
                 "fee": "0", "feeCcy": "USDT", "cTime": now, "uTime": now}
        if p["ordType"] == "post_only" and crosses:
            order["state"] = "canceled"          # OKX cancels a post-only that would take
        elif crosses:
            qty = min(sz, Decimal("2"))
            fee, ccy = (-(qty * Decimal("0.001")), "BTC") if p["side"] == "buy" else (-(qty * touch * Decimal("0.001")), "USDT")
            self.fills[oid] = [{"instId": p["instId"], "tradeId": str(next(self._ids)), "ordId": oid, "clOrdId": cid,
                                "fillPx": f"{touch}", "fillSz": f"{qty:f}", "side": p["side"], "execType": "T",
                                "fee": f"{fee:f}", "feeCcy": ccy, "ts": now}]
            order.update(accFillSz=f"{qty:f}", avgPx=f"{touch}", fee=f"{fee:f}", feeCcy=ccy)
            order["state"] = "filled" if qty == sz else ("canceled" if p["ordType"] in ("market", "ioc") else "partially_filled")
        elif p["ordType"] == "ioc":
            order["state"] = "canceled"
        self.orders[cid] = order
        self._push_order(order, self.fills.get(oid, [None])[-1])
        return ok([{"clOrdId": cid, "ordId": oid, "tag": "", "ts": now, "sCode": "0", "sMsg": ""}])

    @signed
    async def get_order(self, request, p):
        order = self.orders.get(p.get("clOrdId", ""))
        if order is None:
            return fail("51603", "Order does not exist")
        return ok([order])

    @signed
    async def cancel(self, request, p):
        cid = p.get("clOrdId", "")
        order = self.orders.get(cid)
        if order is None or order["state"] not in ("live", "partially_filled"):
            return fail("51400", "Order cancellation failed as the order has been filled, canceled or does not exist",
                        item={"clOrdId": cid, "ordId": ""})
        order["state"], order["uTime"] = "canceled", str(self.now_ms())
        self._push_order(order)
        return ok([{"clOrdId": cid, "ordId": order["ordId"], "sCode": "0", "sMsg": ""}])

    @signed
    async def amend(self, request, p):
        cid = p.get("clOrdId", "")
        order = self.orders.get(cid)
        item = {"clOrdId": cid, "ordId": order["ordId"] if order else "", "reqId": ""}
        if order is None or order["state"] not in ("live", "partially_filled"):
            return fail("51503", "Order modification failed as the order has been filled, canceled or does not exist", item=item)
        if "newSz" in p and Decimal(p["newSz"]) <= Decimal(order["accFillSz"]):
            return fail("51512", "Failed to amend: new size must exceed the filled size", item=item)
        if "newSz" in p:
            order["sz"] = p["newSz"]
        if "newPx" in p:
            order["px"] = p["newPx"]
        order["uTime"] = str(self.now_ms())
        self._push_order(order)
        return ok([{**item, "sCode": "0", "sMsg": ""}])

    @signed
    async def pending(self, request, p):
        return ok([o for o in self.orders.values() if o["instId"] == p.get("instId") and o["state"] in ("live", "partially_filled")])

    @signed
    async def get_fills(self, request, p):
        return ok(self.fills.get(p.get("ordId", ""), []))
