"""A fake Bitget v2 spot server on 127.0.0.1 that checks requests the way Bitget does:
``ACCESS-KEY``, ``ACCESS-PASSPHRASE``, ``ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp +
METHOD + path[?query] + body)), ``ACCESS-TIMESTAMP`` (ms) within 30 s (40008). Answers
``{"code": "00000", "msg": "success", "requestTime", "data"}``, refusals with Bitget's codes
(HTTP 400, 429 for limits). Orders match a fixed book (asks 91000.00 x 2, bids 90990.00 x 2);
taker fee 0.1% (negative ``totalFee``) in the base coin for buys, quote for sells.
Websocket ``/v2/ws/public``: ``books`` snapshot then updates with ``checksum``, ``trade``,
``ping``/``pong``. ``/v2/ws/private``: login checked like a REST signature (over ``timestamp +
GET + /user/verify``, Unix seconds), then the spot ``orders`` channel pushes each order change
with its last fill; ``fill_resting()`` fills a resting order as a taker would. ``orderInfo``
answers by ``orderId``, or by ``clientOid`` for orders created in the last 2 hours only (Bitget's
changelog, 2025-03-20); ``unfilled-orders`` sends each order's price as ``priceAvg`` (no
``price``), as documented; ``history-orders`` lists the finished ones, newest first. Faults:
``rate_limit_next``, ``malformed_next``, ``clock_offset_ms``, ``refuse_next_place``,
``corrupt_next_checksum``, ``drop_sockets()``.

USDT-M futures (``/api/v2/mix/...``, ``productType=USDT-FUTURES``, sizes in base coin): a fixed
perp book (asks 91000.0 x 2, bids 90990.0 x 2), one-way net positions per symbol (average
entry, realised on reduce, flips), taker 0.06% / maker 0.02% in USDT (negative ``totalFee``
in a ``feeDetail`` list), order detail with ``state``, ``entrustedList``/``fillList``
wrappers, ``account`` with ``posMode`` (``pos_mode``, default one_way_mode) and ``marginMode``,
and the futures ``orders`` channel (``clientOId``, ``tradeScope`` T/M). A place without
``tradeSide`` while ``pos_mode`` is hedge_mode is refused as Bitget does. ``accounts``: the USDT
row, ``accountEquity`` = ``futures_wallet`` + ``futures_upl`` (Get Account List: equity
"Includes unrealized PnL"), ``unrealizedPL`` = ``futures_upl`` (or, with
``futures_split_upl``, sent empty and split into ``crossedUnrealizedPL`` /
``isolatedUnrealizedPL``, as the page's example does); ``futures_refused``: refused 40014
(a key without futures permission).

Futures bills (``GET /api/v2/mix/account/bill``): ``book_bill()`` books one (``billId``
rising with time, as Bitget's ids do); a read filters by ``businessType`` and by
``startTime``/``endTime`` (both inclusive, at most 30 days apart, else refused: Bitget
documents the limit, not its error code, so 40017 here), newest first, ``limit`` (default
20, at most 100), ``idLessThan`` for older pages and ``endId`` = the page's last bill.
``bill_reads`` keeps each read's parameters.

Leverage: ``POST /api/v2/mix/account/set-leverage`` (``productType``, ``marginCoin`` USDT,
``symbol``, ``leverage``) and a UTA's ``POST /api/v3/account/set-leverage`` (``category``
USDT-FUTURES, ``symbol``, ``leverage``), signed as every call; ``leverage`` keeps the leverage
set per symbol, a leverage above the contract's ``max_lever`` (its ``maxLever`` in
``contracts``) is refused 40797 "Exceeded the maximum settable leverage".

Unified trading account (``uta = True``): the v3 endpoints (``/api/v3/...``, same signature
check) serve the same books and order matching in v3 names (``category``, ``qty``,
``timeInForce``, ``orderStatus``, ``cumExecQty``, fills ``execId``/``execPrice``/``execQty``
with ``feeDetail`` ``[{feeCoin, fee}]``, the fee positive as charged), ``{list, cursor}`` pages,
one ``assets`` wallet, ``current-position``, ``settings`` (``holdMode`` = ``pos_mode``, the
BTCUSDT ``marginMode``) and ``financial-records`` (``book_record()``; ``type`` filter, 30-day
window, ``cursor`` = the page's last id). A signed v2 call from a UTA is refused 40085 (the
futures bills 40404, as reported for them), a v3 call from a Classic account 40084. An order
v3 does not know is refused 25204 (v3's code for it, as the bitget-api SDK names it).
``lose_next_place_answer``: the next place is booked, but its answer is an HTTP 502.
Websocket ``/v3/ws/private`` (a UTA's): the same login check, then ``{"instType": "UTA",
"topic": "order" | "fill"}`` subscriptions (anything else refused 30016, before login 30004);
every order change of either book pushes the v3 ``order`` item (REST ``order-info`` names,
``category`` lower case as Bitget's example) and each fill the ``fill`` item (REST fill names,
``execTime``, ``category`` upper case as Bitget's example). ``uta_logins``,
``uta_private_args`` and ``uta_private`` (the subscribed sockets) as for v2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from contextlib import contextmanager
from decimal import Decimal

from aiohttp import web

from sequence_core.feeds import interleaved_crc32
from sequence_core.testing import FakeVenueServer, running, signed

ASK, BID = Decimal("91000.00"), Decimal("90990.00")
CLIENT_OID_WINDOW_MS = 2 * 3_600_000         # orderInfo by clientOid: the last 2 hours only
PERP_ASK, PERP_BID = Decimal("91000.0"), Decimal("90990.0")
MIX = "USDT-FUTURES"


def ok(data) -> web.Response:
    return web.json_response({"code": "00000", "msg": "success", "requestTime": time.time_ns() // 1_000_000, "data": data})


def fail(code: str, msg: str, status: int = 400) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "requestTime": time.time_ns() // 1_000_000, "data": None}, status=status)


@contextmanager
def unified_account(key: str, secret: str, passphrase: str):
    """A fake whose account is a unified one (v3), the plugin's per-process mode cache cleared:
    a port an earlier fake used must be detected afresh."""
    from sequence_venue_bitget.http import _MODES

    server = FakeBitget(key, secret, passphrase)
    server.uta = True
    _MODES.clear()
    yield from running(server)


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
        self.private_args: list[dict] = []
        self.seq = 10
        self._ids = itertools.count(5000)
        self.perp_orders: dict[str, dict] = {}
        self.perp_fills: dict[str, list] = {}
        self.perp_positions: dict[str, dict] = {}     # symbol -> {"qty": signed Decimal, "entry": Decimal}
        self.perp_bids = {"90990.0": "2", "90980.0": "3"}
        self.perp_asks = {"91000.0": "2", "91010.0": "3"}
        self.pos_mode, self.margin_mode = "one_way_mode", "crossed"
        self.futures_usdt = "4800"                    # the futures account's crossedMaxAvailable
        self.futures_wallet = Decimal("5000")         # its wallet balance (no unrealized P&L)
        self.futures_upl = Decimal("0")               # its unrealized P&L, in accountEquity
        self.futures_split_upl = False                # unrealizedPL sent empty, its cross/isolated parts filled
        self.futures_refused = False                  # a key without futures permission: 40014
        self.perp_places: list[dict] = []
        self.bills: list[dict] = []
        self.bill_reads: list[dict] = []
        self._bill_ids = itertools.count(1_100_000_000_000_000_000)
        self.uta = False
        self.records: list[dict] = []
        self.lose_next_place_answer = False
        self.uta_private: list = []
        self.uta_logins: list[bool] = []
        self.uta_private_args: list[dict] = []
        self.leverage: dict[str, int] = {}
        self.max_lever = 125

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
        path = request.raw_path                              # path and query as sent, not decoded
        expected = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}{request.method}{path}{body}".encode(),
                                             hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(h.get("ACCESS-SIGN", ""), expected):
            return fail("40009", "sign signature error")
        if self.uta and request.path == "/api/v2/mix/account/bill":
            return fail("40404", "Request URL NOT FOUND")
        if self.uta and request.path.startswith("/api/v2/"):
            return fail("40085", "You are in Unified Account mode, and the Classic Account API is not supported at this time")
        if not self.uta and request.path.startswith("/api/v3/"):
            return fail("40084", "You are in Classic Account mode, and the Unified Account API is not supported at this time")
        return json.loads(body) if body else dict(request.query)

    def rate_limited(self):
        return fail("429", "Too Many Requests", 429)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        r = app.router
        r.add_get("/v2/ws/public", self.ws)
        r.add_get("/v2/ws/private", self.private_ws)
        r.add_get("/v3/ws/private", self.uta_private_ws)
        r.add_get("/api/v2/public/time", self.time)
        r.add_get("/api/v2/spot/public/symbols", self.symbols)
        r.add_get("/api/v2/spot/market/orderbook", self.orderbook)
        r.add_get("/api/v2/spot/account/assets", self.assets)
        r.add_post("/api/v2/spot/trade/place-order", self.place)
        r.add_post("/api/v2/spot/trade/cancel-order", self.cancel)
        r.add_get("/api/v2/spot/trade/orderInfo", self.order_info)
        r.add_get("/api/v2/spot/trade/unfilled-orders", self.unfilled)
        r.add_get("/api/v2/spot/trade/history-orders", self.history_orders)
        r.add_get("/api/v2/spot/trade/fills", self.get_fills)
        r.add_get("/api/v2/mix/market/contracts", self.contracts)
        r.add_get("/api/v2/mix/market/merge-depth", self.merge_depth)
        r.add_post("/api/v2/mix/order/place-order", self.perp_place)
        r.add_post("/api/v2/mix/order/cancel-order", self.perp_cancel)
        r.add_get("/api/v2/mix/order/detail", self.perp_detail)
        r.add_get("/api/v2/mix/order/orders-pending", self.perp_pending)
        r.add_get("/api/v2/mix/order/fills", self.perp_get_fills)
        r.add_get("/api/v2/mix/account/account", self.perp_account)
        r.add_get("/api/v2/mix/account/accounts", self.perp_accounts)
        r.add_post("/api/v2/mix/account/set-leverage", self.set_leverage)
        r.add_post("/api/v3/account/set-leverage", self.v3_set_leverage)
        r.add_get("/api/v2/mix/position/all-position", self.all_position)
        r.add_get("/api/v2/mix/account/bill", self.account_bill)
        r.add_get("/api/v3/account/settings", self.v3_settings)
        r.add_get("/api/v3/account/assets", self.v3_assets)
        r.add_post("/api/v3/trade/place-order", self.v3_place)
        r.add_post("/api/v3/trade/cancel-order", self.v3_cancel)
        r.add_get("/api/v3/trade/order-info", self.v3_order_info)
        r.add_get("/api/v3/trade/unfilled-orders", self.v3_unfilled)
        r.add_get("/api/v3/trade/history-orders", self.v3_history)
        r.add_get("/api/v3/trade/fills", self.v3_fills)
        r.add_get("/api/v3/position/current-position", self.v3_positions)
        r.add_get("/api/v3/account/financial-records", self.v3_records)
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
                    if arg["channel"] == "books" and arg["instType"] == MIX:
                        await ws.send_json(self._perp_book())
                    elif arg["channel"] == "books":
                        await ws.send_json(self._book("snapshot", dict(self.bids), dict(self.asks)))
        return ws

    async def private_ws(self, request):
        return await self._private_socket(request, self.logins, self.private_args, self.private,
                                          lambda arg: arg.get("channel") == "orders")

    async def uta_private_ws(self, request):
        return await self._private_socket(request, self.uta_logins, self.uta_private_args, self.uta_private,
                                          lambda arg: True if arg.get("instType") == "UTA" and arg.get("topic") in ("order", "fill")
                                          else None)

    async def _private_socket(self, request, logins: list, args_seen: list, subscribed: list, pushes):
        """A private socket: login checked, then subscriptions; ``pushes(arg)`` says whether an
        arg gets order pushes (True), is acknowledged only (False) or refused (None)."""
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
                logins.append(logged_in)
                await ws.send_json({"event": "login", "code": 0, "msg": ""} if logged_in
                                   else {"event": "error", "code": 30005, "msg": "Login failed"})
            elif body.get("op") == "subscribe":
                if not logged_in:
                    await ws.send_json({"event": "error", "code": 30004, "msg": "User not logged in"})
                    continue
                for arg in body["args"]:
                    verdict = pushes(arg)
                    if verdict is None:
                        await ws.send_json({"event": "error", "arg": arg, "code": 30016, "msg": "Param error"})
                        continue
                    await ws.send_json({"event": "subscribe", "arg": arg})
                    args_seen.append(arg)
                    if verdict and ws not in subscribed:
                        subscribed.append(ws)
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
        self._uta_push("SPOT", order, fill)

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.1%), from any thread
        (a perp order: see ``fill_resting_perp``)."""
        if cid in self.perp_orders:
            return self.fill_resting_perp(cid, qty)

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
        if p.get("orderId"):
            order = next((o for o in self.orders.values() if o["orderId"] == p["orderId"]), None)
        else:
            order = self.orders.get(p.get("clientOid", ""))
            if order and self.now_ms() - int(order["cTime"]) > CLIENT_OID_WINDOW_MS:
                order = None
        return ok([order] if order else [])

    @signed
    async def unfilled(self, request, p):
        return ok([{**{k: v for k, v in o.items() if k != "price"}, "priceAvg": o["price"]} for o in self.orders.values()
                   if o["symbol"] == p.get("symbol") and o["status"] in ("live", "partially_filled")])

    @signed
    async def history_orders(self, request, p):
        done = [o for o in self.orders.values() if o["symbol"] == p.get("symbol") and o["status"] in ("filled", "cancelled")]
        return ok(sorted(done, key=lambda o: -int(o["orderId"]))[:int(p.get("limit") or 100)])

    @signed
    async def get_fills(self, request, p):
        return ok(self.fills.get(p.get("orderId", ""), []))

    # -- USDT-M futures ----------------------------------------------------------------------------
    def _perp_book(self) -> dict:
        bids = sorted(self.perp_bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.perp_asks.items(), key=lambda kv: Decimal(kv[0]))
        return {"action": "snapshot", "arg": {"instType": MIX, "channel": "books", "instId": "BTCUSDT"},
                "data": [{"asks": [list(a) for a in asks], "bids": [list(b) for b in bids],
                          "checksum": interleaved_crc32(bids, asks), "seq": self.seq, "ts": str(self.now_ms())}], "ts": self.now_ms()}

    async def contracts(self, request):
        if request.query.get("productType") != MIX:
            return fail("40034", "Parameter productType does not exist")
        return ok([{"symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006",
                    "minTradeNum": "0.0001", "priceEndStep": "1", "volumePlace": "4", "pricePlace": "1", "sizeMultiplier": "0.0001",
                    "symbolType": "perpetual", "minTradeUSDT": "5", "symbolStatus": "normal",
                    "minLever": "1", "maxLever": str(self.max_lever)}])

    async def merge_depth(self, request):
        q = request.query
        if q.get("productType") != MIX or q.get("limit") not in ("1", "5", "15", "50", "max"):
            return fail("40034", "Parameter verification failed")
        book = self._perp_book()["data"][0]      # Bitget sends these levels as JSON numbers
        return ok({"asks": [[float(p), float(z)] for p, z in book["asks"]], "bids": [[float(p), float(z)] for p, z in book["bids"]],
                   "ts": str(self.now_ms()), "scale": "0.1", "precision": "scale0", "isMaxPrecision": "YES"})

    def _mix(self, p: dict):
        if p.get("productType") != MIX:
            return fail("40034", "Parameter productType does not exist")
        return None

    def _move_position(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> None:
        """One-way mode: a signed net position; average entry, kept when reducing, reset on a flip."""
        pos = self.perp_positions.setdefault(symbol, {"qty": Decimal(0), "entry": Decimal(0)})
        signed = qty if side == "buy" else -qty
        old = pos["qty"]
        new = old + signed
        if old == 0 or (old > 0) == (signed > 0):
            pos["entry"] = (old * pos["entry"] + signed * price) / new
        elif new != 0 and (new > 0) != (old > 0):
            pos["entry"] = price
        pos["qty"] = new

    def _perp_fill(self, order: dict, qty: Decimal, price: Decimal, scope: str) -> dict:
        rate = Decimal("0.0006") if scope == "taker" else Decimal("0.0002")
        fill = {"tradeId": str(next(self._ids)), "symbol": order["symbol"], "orderId": order["orderId"], "price": f"{price}",
                "baseVolume": f"{qty:f}", "side": order["side"], "tradeScope": scope, "posMode": "one_way_mode",
                "feeDetail": [{"deduction": "no", "feeCoin": "USDT", "totalDeductionFee": "0", "totalFee": f"{-(qty * price * rate):f}"}],
                "cTime": str(self.now_ms())}
        self.perp_fills.setdefault(order["orderId"], []).append(fill)
        self._move_position(order["symbol"], order["side"], qty, price)
        done = Decimal(order["baseVolume"]) + qty
        order.update(baseVolume=f"{done:f}", priceAvg=f"{price}", uTime=fill["cTime"])
        return fill

    def _perp_push(self, order: dict, fill: dict | None = None) -> None:
        import asyncio

        data = {"instId": order["symbol"], "orderId": order["orderId"], "clientOId": order["clientOid"], "price": order["price"],
                "size": order["size"], "orderType": order["orderType"], "side": order["side"], "status": order["state"],
                "accBaseVolume": order["baseVolume"], "posMode": "one_way_mode", "posSide": "net", "marginMode": "crossed",
                "marginCoin": "USDT", "cTime": order["cTime"], "uTime": order["uTime"]}
        if fill:
            data.update(tradeId=fill["tradeId"], fillPrice=fill["price"], baseVolume=fill["baseVolume"], fillTime=fill["cTime"],
                        fillFee=fill["feeDetail"][0]["totalFee"], fillFeeCoin="USDT",
                        tradeScope="M" if fill["tradeScope"] == "maker" else "T")
        message = {"action": "snapshot", "arg": {"instType": MIX, "channel": "orders", "instId": "default"},
                   "data": [data], "ts": self.now_ms()}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))
        self._uta_push(MIX, order, fill)

    @signed
    async def perp_place(self, request, p):
        self.perp_places.append(p)
        if (refused := self._mix(p)) is not None:
            return refused
        if self.refuse_next_place:
            code, msg = self.refuse_next_place
            self.refuse_next_place = None
            return fail(code, msg)
        if p.get("marginCoin") != "USDT" or p.get("marginMode") not in ("crossed", "isolated"):
            return fail("40034", "Parameter marginMode does not exist")
        if self.pos_mode == "hedge_mode" and not p.get("tradeSide"):
            return fail("400172", "tradeSide cannot be empty in hedge mode")
        cid = p.get("clientOid", "")
        if cid in self.perp_orders:
            return fail("40757", "Duplicate clientOid")
        size, price = Decimal(p["size"]), Decimal(p["price"]) if p.get("price") else None
        touch = PERP_ASK if p["side"] == "buy" else PERP_BID
        crosses = price is None or (price >= touch if p["side"] == "buy" else price <= touch)
        oid, now = str(next(self._ids)), str(self.now_ms())
        order = {"symbol": p["symbol"], "orderId": oid, "clientOid": cid, "price": p.get("price", "0"), "size": f"{size:f}",
                 "orderType": p["orderType"], "side": p["side"], "force": p.get("force", ""), "state": "live", "baseVolume": "0",
                 "priceAvg": "0", "posMode": "one_way_mode", "marginMode": p["marginMode"], "cTime": now, "uTime": now}
        fill = None
        if p.get("force") == "post_only" and crosses:
            order["state"] = "canceled"
        elif crosses:
            qty = min(size, Decimal("2"))
            fill = self._perp_fill(order, qty, touch, "taker")
            order["state"] = "filled" if qty == size else ("canceled" if p.get("force") == "ioc" else "partially_filled")
        elif p.get("force") == "ioc":
            order["state"] = "canceled"
        self.perp_orders[cid] = order
        self._perp_push(order, fill)
        return ok({"orderId": oid, "clientOid": cid})

    def fill_resting_perp(self, cid: str, qty: str) -> None:
        """A taker hits our resting perp order for ``qty`` at its price (maker 0.02%), from any thread."""
        def go():
            order = self.perp_orders[cid]
            fill = self._perp_fill(order, Decimal(qty), Decimal(order["price"]), "maker")
            order["state"] = "filled" if Decimal(order["baseVolume"]) >= Decimal(order["size"]) else "partially_filled"
            self._perp_push(order, fill)
        self.soon(go)

    @signed
    async def perp_cancel(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        order = self.perp_orders.get(p.get("clientOid", ""))
        if order is None or order["state"] not in ("live", "partially_filled"):
            return fail("40768", "Order does not exist")
        order["state"], order["uTime"] = "canceled", str(self.now_ms())
        self._perp_push(order)
        return ok({"orderId": order["orderId"], "clientOid": order["clientOid"]})

    @signed
    async def perp_detail(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        order = self.perp_orders.get(p.get("clientOid", ""))
        if order is None or order["symbol"] != p.get("symbol"):
            return fail("40109", "The data of the order cannot be found, please confirm the order number")
        return ok(order)

    @signed
    async def perp_pending(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        live = [{**{k: v for k, v in o.items() if k != "state"}, "status": o["state"]} for o in self.perp_orders.values()
                if o["symbol"] == p.get("symbol") and o["state"] in ("live", "partially_filled")]
        return ok({"entrustedList": live or None, "endId": None})

    @signed
    async def perp_get_fills(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        return ok({"fillList": self.perp_fills.get(p.get("orderId", ""), []), "endId": None})

    @signed
    async def perp_account(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        return ok({"marginCoin": "USDT", "locked": "0", "available": "5000", "crossedMaxAvailable": "5000",
                   "isolatedMaxAvailable": "5000", "marginMode": self.margin_mode, "posMode": self.pos_mode})

    def _lever(self, symbol: str, leverage: str) -> web.Response | None:
        if symbol != "BTCUSDT" or not str(leverage).isdigit():
            return fail("40034", "Parameter verification failed")
        if int(leverage) > self.max_lever:
            return fail("40797", "Exceeded the maximum settable leverage")
        self.leverage[symbol] = int(leverage)
        return None

    @signed
    async def set_leverage(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        if p.get("marginCoin") != "USDT":
            return fail("40034", "Parameter marginCoin does not exist")
        if (refused := self._lever(p.get("symbol"), p.get("leverage"))) is not None:
            return refused
        lev = p["leverage"]
        return ok({"symbol": p["symbol"], "marginCoin": "USDT", "longLeverage": lev, "shortLeverage": lev,
                   "crossMarginLeverage": lev, "marginMode": "crossed"})

    @signed
    async def v3_set_leverage(self, request, p):
        if p.get("category") != MIX:
            return fail("40034", "Parameter verification failed")
        return self._lever(p.get("symbol"), p.get("leverage")) or ok("success")

    @signed
    async def perp_accounts(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        if self.futures_refused:
            return fail("40014", "Incorrect permissions")
        equity, upl = self.futures_wallet + self.futures_upl, self.futures_upl
        split = {"unrealizedPL": "", "crossedUnrealizedPL": f"{upl - 1:f}", "isolatedUnrealizedPL": "1"} \
            if self.futures_split_upl else {"unrealizedPL": f"{upl:f}", "crossedUnrealizedPL": f"{upl:f}",
                                            "isolatedUnrealizedPL": "0"}
        return ok([{"marginCoin": "USDT", "locked": "0", "available": f"{self.futures_wallet:f}",
                    "crossedMaxAvailable": self.futures_usdt, "accountEquity": f"{equity:f}",
                    "usdtEquity": f"{equity:f}", "isolatedMargin": None, "crossedMargin": None, **split}])

    @signed
    async def all_position(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        rows = []
        for symbol, pos in self.perp_positions.items():
            if pos["qty"]:
                rows.append({"marginCoin": "USDT", "symbol": symbol, "holdSide": "long" if pos["qty"] > 0 else "short",
                             "total": f"{abs(pos['qty']):f}", "available": f"{abs(pos['qty']):f}", "locked": "0",
                             "openPriceAvg": f"{pos['entry']:f}", "leverage": "10", "marginMode": self.margin_mode,
                             "posMode": self.pos_mode, "unrealizedPL": "0", "liquidationPrice": "-1", "markPrice": f"{PERP_BID}",
                             "marginSize": f"{abs(pos['qty']) * pos['entry'] / 10:f}"})
        return ok(rows)

    def book_bill(self, symbol: str, amount: str, c_time_ms: int, business: str = "contract_settle_fee", fee: str = "0") -> str:
        """A bill on the futures account (funding by default); its billId."""
        bill_id = str(next(self._bill_ids))
        self.bills.append({"billId": bill_id, "symbol": symbol, "amount": amount, "fee": fee, "feeByCoupon": "",
                           "businessType": business, "coin": "USDT", "balance": "5000", "cTime": str(c_time_ms)})
        return bill_id

    @signed
    async def account_bill(self, request, p):
        if (refused := self._mix(p)) is not None:
            return refused
        self.bill_reads.append(p)
        end, limit = int(p.get("endTime") or self.now_ms()), int(p.get("limit") or 20)
        start = int(p.get("startTime") or end - 30 * 86_400_000)          # (the fake's default window)
        if end - start > 30 * 86_400_000 or limit > 100:
            return fail("40017", "Parameter verification failed: the interval must be <= 30 days, limit <= 100")
        rows = sorted((b for b in self.bills if start <= int(b["cTime"]) <= end
                       and p.get("businessType") in (None, b["businessType"])
                       and ("idLessThan" not in p or int(b["billId"]) < int(p["idLessThan"]))),
                      key=lambda b: -int(b["billId"]))[:limit]
        return ok({"bills": rows, "endId": rows[-1]["billId"] if rows else None})

    # -- unified trading account (v3) -------------------------------------------------------------
    @signed
    async def v3_settings(self, request, p):
        return ok({"uid": "1", "accountMode": "unified", "assetMode": "single", "holdMode": self.pos_mode,
                   "symbolConfigList": [{"category": MIX, "symbol": "BTCUSDT", "marginMode": self.margin_mode, "leverage": "10"}],
                   "coinConfigList": []})

    @signed
    async def v3_assets(self, request, p):
        return ok({"accountEquity": "100000", "assets": [
            {"coin": "BTC", "equity": "1", "balance": "1", "available": "1", "locked": "0", "debt": "0"},
            {"coin": "USDT", "equity": "90000", "balance": "90000", "available": "90000", "locked": "0", "debt": "0"}]})

    @signed
    async def v3_place(self, request, p):
        """Matched by the v2 handlers (same books), the body read in v3 names."""
        if p.get("category") not in ("SPOT", MIX) or "size" in p or not p.get("qty"):
            return fail("40034", "Parameter verification failed")
        body = {"symbol": p["symbol"], "side": p["side"], "orderType": p["orderType"], "size": p["qty"],
                "clientOid": p.get("clientOid", ""), "force": p.get("timeInForce", "gtc")}
        if p.get("price"):
            body["price"] = p["price"]
        if p["category"] == MIX:
            body.update(productType=MIX, marginCoin="USDT", marginMode=p.get("marginMode", "crossed"))
            answer = await self.perp_place.__wrapped__(self, request, body)
        else:
            answer = await self.place.__wrapped__(self, request, body)
        if self.lose_next_place_answer:
            self.lose_next_place_answer = False
            return web.Response(text="<html>bad gateway</html>", status=502)
        return answer

    def _v3_find(self, p: dict) -> tuple[str, dict] | None:
        for cat, book in (("SPOT", self.orders), (MIX, self.perp_orders)):
            for o in book.values():
                if (p.get("orderId") and o["orderId"] == p["orderId"]) or (not p.get("orderId") and o["clientOid"] == p.get("clientOid")):
                    return cat, o
        return None

    @staticmethod
    def _v3_order(cat: str, o: dict) -> dict:
        status = o.get("status") or o.get("state")
        return {"orderId": o["orderId"], "clientOid": o["clientOid"], "category": cat, "symbol": o["symbol"],
                "orderType": o["orderType"], "side": o["side"], "price": o["price"], "qty": o["size"], "amount": "0",
                "cumExecQty": o["baseVolume"], "avgPrice": o.get("priceAvg", "0"), "timeInForce": o.get("force") or "gtc",
                "orderStatus": "cancelled" if status == "canceled" else status, "posSide": "", "holdMode": "",
                "reduceOnly": "NO", "feeDetail": [], "cancelReason": "", "createdTime": o["cTime"], "updatedTime": o["uTime"]}

    @signed
    async def v3_order_info(self, request, p):
        found = self._v3_find(p)
        if found is None:
            return fail("25204", "The order does not exist")
        return ok(self._v3_order(*found))

    @signed
    async def v3_cancel(self, request, p):
        found = self._v3_find(p)
        if found is None or found[0] != p.get("category"):
            return fail("25204", "The order does not exist")
        cat, o = found
        key = "status" if cat == "SPOT" else "state"
        if o[key] not in ("live", "partially_filled"):
            return fail("25204", "The order is already finished")
        o[key], o["uTime"] = "cancelled" if cat == "SPOT" else "canceled", str(self.now_ms())
        self._uta_push(cat, o)
        return ok({"orderId": o["orderId"], "clientOid": o["clientOid"]})

    def _v3_orders(self, p: dict, live: bool) -> list:
        book = self.orders if p.get("category") == "SPOT" else self.perp_orders
        rows = [self._v3_order(p.get("category"), o) for o in book.values() if o["symbol"] == p.get("symbol")]
        return [r for r in rows if (r["orderStatus"] in ("live", "partially_filled")) == live]

    @signed
    async def v3_unfilled(self, request, p):
        return ok({"list": self._v3_orders(p, True), "cursor": ""})

    @signed
    async def v3_history(self, request, p):
        done = sorted(self._v3_orders(p, False), key=lambda o: -int(o["orderId"]))
        return ok({"list": done[:int(p.get("limit") or 100)], "cursor": ""})

    @staticmethod
    def _v3_fill(cat: str, order: dict, f: dict) -> dict:
        """A fill (kept in v2 shape) in v3 names, the fee positive as charged."""
        price, qty, fees = (f["priceAvg"], f["size"], [f["feeDetail"]]) if cat == "SPOT" else (f["price"], f["baseVolume"], f["feeDetail"])
        return {"execId": f["tradeId"], "orderId": order["orderId"], "clientOid": order["clientOid"], "category": cat,
                "symbol": order["symbol"], "side": order["side"], "execPrice": price, "execQty": qty, "tradeScope": f["tradeScope"],
                "createdTime": f["cTime"], "feeDetail": [{"feeCoin": d["feeCoin"], "fee": f"{-Decimal(d['totalFee']):f}"} for d in fees]}

    @signed
    async def v3_fills(self, request, p):
        found = self._v3_find({"orderId": p.get("orderId", "")})
        if found is None:
            return ok({"list": [], "cursor": ""})
        cat, order = found
        fills = (self.fills if cat == "SPOT" else self.perp_fills).get(order["orderId"], [])
        return ok({"list": [self._v3_fill(cat, order, f) for f in fills], "cursor": ""})

    def _uta_push(self, cat: str, order: dict, fill: dict | None = None) -> None:
        """The v3 ``order`` push for this change, and the ``fill`` push for its fill (on the server's loop)."""
        import asyncio

        messages = [{"action": "snapshot", "arg": {"instType": "UTA", "topic": "order"},
                     "data": [{**self._v3_order(cat, order), "category": cat.lower()}], "ts": self.now_ms()}]
        if fill:
            pushed = self._v3_fill(cat, order, fill)
            pushed["execTime"] = pushed["updatedTime"] = pushed.pop("createdTime")
            messages.append({"action": "snapshot", "arg": {"instType": "UTA", "topic": "fill"}, "data": [pushed], "ts": self.now_ms()})
        for ws in self.uta_private:
            if not ws.closed:
                for message in messages:
                    asyncio.ensure_future(ws.send_json(message))

    @signed
    async def v3_positions(self, request, p):
        if p.get("category") != MIX:
            return fail("40034", "Parameter category does not exist")
        rows = [{"category": MIX, "symbol": symbol, "marginCoin": "USDT", "holdMode": self.pos_mode,
                 "posSide": "long" if pos["qty"] > 0 else "short", "marginMode": self.margin_mode,
                 "positionBalance": f"{abs(pos['qty']) * pos['entry'] / 10:f}", "total": f"{abs(pos['qty']):f}",
                 "avgPrice": f"{pos['entry']:f}", "markPrice": f"{PERP_BID}", "unrealisedPnl": "0", "liquidationPrice": "0",
                 "leverage": "10"} for symbol, pos in self.perp_positions.items() if pos["qty"]]
        return ok({"list": rows})

    def book_record(self, symbol: str, kind: str, amount: str, ts_ms: int) -> str:
        """A financial record of the unified account (a funding one: ``CONTRACT_MAIN_SETTLE_FEE_USER_IN``/``OUT``)."""
        rid = str(next(self._bill_ids))
        self.records.append({"category": MIX, "id": rid, "symbol": symbol, "coin": "USDT", "type": kind, "amount": amount,
                             "fee": "0", "balance": "5000", "ts": str(ts_ms)})
        return rid

    @signed
    async def v3_records(self, request, p):
        self.bill_reads.append(p)
        end, limit = int(p.get("endTime") or self.now_ms()), int(p.get("limit") or 100)
        start = int(p.get("startTime") or end - 30 * 86_400_000)
        if p.get("category") != MIX or end - start > 30 * 86_400_000 or limit > 100:
            return fail("40017", "Parameter verification failed")
        rows = sorted((r for r in self.records if start <= int(r["ts"]) <= end and p.get("type") in (None, r["type"])
                       and ("cursor" not in p or int(r["id"]) < int(p["cursor"]))), key=lambda r: -int(r["id"]))[:limit]
        return ok({"list": rows, "cursor": rows[-1]["id"] if rows else ""})
