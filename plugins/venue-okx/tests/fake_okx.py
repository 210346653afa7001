"""A fake OKX v5 server on 127.0.0.1 that checks requests the way OKX does: ``OK-ACCESS-KEY``,
``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-SIGN`` = base64(HMAC-SHA256(secret, timestamp + METHOD +
requestPath(+query) + body)) and ``OK-ACCESS-TIMESTAMP`` within 30 s of its clock (50102).
Answers are ``{"code", "msg", "data"}``; order failures carry ``sCode``/``sMsg`` per item
(https://www.okx.com/docs-v5/en/#error-code). Spot orders match against a fixed book (asks
91000.0 x 2 BTC, bids 90990.0 x 2 BTC), taker fee 0.1% charged negative, in the base asset for
buys and the quote for sells, as OKX does for spot.
USDT swaps (``BTC-USDT-SWAP``, ``ETH-USDT-SWAP``; ``ctVal`` 0.01 BTC / 0.1 ETH, lot and minimum
0.01 contracts) as OKX documents them: ``sz``, book sizes, ``fillSz``/``accFillSz`` and
position ``pos`` in contracts; ``tdMode`` cross or isolated (cash refused, 51000); ``posSide``
absent or ``net`` in net mode and required in ``long_short_mode`` (51000); Spot-mode accounts
(``acctLv`` 1) refused (51010); the book is 91000.0 x 200 / 90990.0 x 200 contracts; taker fee
0.05% and maker 0.02% of contracts x ctVal x price, in USDT; fills move a net position
(signed ``pos``, ``avgPx``, ``upl`` at mark 90995.0) that ``/account/positions`` reports.
``pos_mode`` and ``acct_lv`` set what ``/account/config`` says.
``POST /account/set-leverage`` (signed like every call) takes ``instId``, ``lever`` (a whole
number from 1 to the instrument's ``lever``, 100 here, else 59102 "Leverage exceeds the maximum
leverage") and ``mgnMode`` cross or isolated (else 51000); ``leverage`` holds each swap's lever
(orders and positions report it, 10 until set) and ``leverage_sets`` records each accepted call
as (instId, lever, how many orders had been placed before it).
Bills (``/account/bills``, the last 7 days, and ``/account/bills-archive``, 3 months) as the
docs describe them
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-bills-details-last-7-days):
filters ``instType``, ``instId``, ``ccy``, ``type``, ``subType``, ``begin``/``end`` on ``ts``
(taken as exclusive, the stricter reading of docs that do not say), newest first, ``after`` a
billId (older than it; ``before`` is not served), ``limit`` at most 100 (default 100);
``add_funding()`` books a funding bill (type 8, subType 174 income / 173 expense, signed
``balChg`` = ``pnl``), with billIds rising with ``ts`` as OKX's do; ``bill_queries`` records
each (path, params).
Websocket ``/ws/v5/public``: ``books`` per instId as OKX sends it now: updates only, with
seqId/prevSeqId and ``checksum`` 0 (the initial snapshot push is gone and the checksum is
fixed to 0: https://www.okx.com/docs-v5/log_en/ , 2026-02-12, and the 2026-05-21 checksum
deprecation notice), the snapshot being ``GET /api/v5/market/books`` with its ``seqId``;
``ws_snapshots`` brings back the legacy initial ``snapshot`` push and ``zero_checksum = False``
the CRC32 over the strings sent (contract counts for swaps). The REST book honours ``sz``
(default 1, at most 400: #order-book-trading-market-data-get-order-book); ``book_queries``
records each (instId, sz). ``trades``, ``ping``/``pong``. ``/ws/v5/private``: login checked
like a REST signature (over ``timestamp + GET + /users/self/verify``, Unix seconds), then the
``orders`` channel pushes each order change of the subscribed ``instType`` with its last fill;
``fill_resting()`` fills a resting order as a taker would. Faults: ``rate_limit_next``,
``malformed_next``, ``clock_offset_ms``, ``refuse_next_place``, ``skip_next_seq``,
``corrupt_next_checksum``, ``drop_sockets()``.
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
MARK = Decimal("90995.0")
CT_VAL = {"BTC-USDT-SWAP": Decimal("0.01"), "ETH-USDT-SWAP": Decimal("0.1")}
SWAP_LOT = Decimal("0.01")
SWAP_ROWS = [
    {"instId": "BTC-USDT-SWAP", "instType": "SWAP", "instFamily": "BTC-USDT", "uly": "BTC-USDT", "ctType": "linear",
     "ctVal": "0.01", "ctValCcy": "BTC", "ctMult": "1", "settleCcy": "USDT", "tickSz": "0.1", "lotSz": "0.01",
     "minSz": "0.01", "baseCcy": "", "quoteCcy": "", "lever": "100", "state": "live"},
    {"instId": "BTC-USD-SWAP", "instType": "SWAP", "instFamily": "BTC-USD", "uly": "BTC-USD", "ctType": "inverse",
     "ctVal": "100", "ctValCcy": "USD", "ctMult": "1", "settleCcy": "BTC", "tickSz": "0.1", "lotSz": "1",
     "minSz": "1", "baseCcy": "", "quoteCcy": "", "lever": "100", "state": "live"},
]


def ok(data: list) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def fail(code: str, msg: str, status: int = 200, item: dict | None = None) -> web.Response:
    if item is not None:
        return web.json_response({"code": "1", "msg": "Operation failed.", "data": [{**item, "sCode": code, "sMsg": msg}]},
                                 status=status)
    return web.json_response({"code": code, "msg": msg, "data": []}, status=status)


def text(d: Decimal) -> str:
    return format(d.normalize(), "f")


class FakeOkx(FakeVenueServer):
    def __init__(self, api_key: str, secret: str, passphrase: str):
        super().__init__()
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        self.orders: dict[str, dict] = {}
        self.fills: dict[str, list] = {}
        self.placed: list[dict] = []             # every accepted place body, as sent
        self.positions: dict[str, dict] = {}     # instId -> {"pos": contracts (signed), "cost": price x contracts}
        self.pos_mode, self.acct_lv = "net_mode", "2"
        self.leverage: dict[str, str] = {}       # instId -> lever, as set-leverage left it
        self.leverage_sets: list[tuple[str, str, int]] = []
        self.skip_next_seq = 0
        self.refuse_next_place: tuple[str, str] | None = None
        self.corrupt_next_checksum = False
        self.zero_checksum = True                # OKX's books checksum since 2026-06-23: always 0
        self.ws_snapshots = False                # the legacy initial snapshot push on subscribe
        self.bids = {"90990.0": "2", "90980.0": "3"}
        self.asks = {"91000.0": "2", "91010.0": "3"}
        self.books = {"BTC-USDT": (self.bids, self.asks),
                      "BTC-USDT-SWAP": ({"90990.0": "200", "90980.0": "300"}, {"91000.0": "200", "91010.0": "300"})}
        self.seqs = {inst: 100 for inst in self.books}
        self.subscriptions: list[dict] = []
        self.book_queries: list[tuple[str, int]] = []   # each REST book read: (instId, sz)
        self.private: list = []                  # logged-in private sockets subscribed to orders
        self.private_types: dict[int, set] = {}  # id(socket) -> the instTypes it subscribed
        self.logins: list[bool] = []             # each private login: accepted or not
        self.pings = 0
        self._ids = itertools.count(7000)
        self.bills: list[dict] = []
        self.bill_queries: list[tuple[str, dict]] = []
        self._bill_seq = itertools.count()

    @property
    def seq(self) -> int:
        return self.seqs["BTC-USDT"]

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
        path = request.raw_path                              # path and query as sent, not decoded
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
        r.add_get("/api/v5/market/books", self.get_books)
        r.add_get("/api/v5/account/balance", self.balance)
        r.add_get("/api/v5/account/trade-fee", self.trade_fee)
        r.add_get("/api/v5/account/config", self.account_config)
        r.add_get("/api/v5/account/positions", self.get_positions)
        r.add_post("/api/v5/account/set-leverage", self.set_leverage)
        r.add_post("/api/v5/trade/order", self.place)
        r.add_get("/api/v5/trade/order", self.get_order)
        r.add_post("/api/v5/trade/cancel-order", self.cancel)
        r.add_post("/api/v5/trade/amend-order", self.amend)
        r.add_get("/api/v5/trade/orders-pending", self.pending)
        r.add_get("/api/v5/trade/fills", self.get_fills)
        r.add_get("/api/v5/account/bills", self.get_bills)
        r.add_get("/api/v5/account/bills-archive", self.get_bills)
        return app

    # -- public ---------------------------------------------------------------------------------------
    async def time(self, request):
        return ok([{"ts": str(self.now_ms())}])

    async def instruments(self, request):
        if request.query.get("instType") == "SWAP":
            inst_id = request.query.get("instId")
            return ok([r for r in SWAP_ROWS if inst_id in (None, r["instId"])])
        return ok([{"instId": "BTC-USDT", "instType": "SPOT", "baseCcy": "BTC", "quoteCcy": "USDT", "tickSz": "0.1",
                    "lotSz": "0.00000001", "minSz": "0.00001", "state": "live"}])

    def _sides(self, inst_id: str = "BTC-USDT"):
        bids, asks = self.books[inst_id]
        return sorted(bids.items(), key=lambda kv: -Decimal(kv[0])), sorted(asks.items(), key=lambda kv: Decimal(kv[0]))

    async def get_books(self, request):
        inst_id = request.query.get("instId", "")
        if inst_id not in self.books:
            return fail("51001", "Instrument ID does not exist")
        sz = request.query.get("sz", "1")            # depth per side: default 1, at most 400
        if not sz.isdigit() or not 1 <= int(sz) <= 400:
            return fail("51000", "Parameter sz error")
        self.book_queries.append((inst_id, int(sz)))
        bids, asks = (side[:int(sz)] for side in self._sides(inst_id))
        return ok([{"asks": [[p, s, "0", "1"] for p, s in asks], "bids": [[p, s, "0", "1"] for p, s in bids],
                    "ts": str(self.now_ms()), "seqId": self.seqs[inst_id]}])

    def checksum(self, inst_id: str = "BTC-USDT") -> int:
        bids, asks = self._sides(inst_id)
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
                    if arg["channel"] == "books" and arg["instId"] in self.books and self.ws_snapshots:
                        bids, asks = self.books[arg["instId"]]
                        await ws.send_json(self._book_message("snapshot", -1, dict(bids), dict(asks), arg["instId"]))
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
                        self.private_types.setdefault(id(ws), set()).add(arg.get("instType"))
                        if ws not in self.private:
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
        """The ``orders`` channel message for this change (on the server's loop), to the sockets
        that subscribed its instType."""
        import asyncio

        data = dict(order)
        if fill:
            data.update(tradeId=fill["tradeId"], fillPx=fill["fillPx"], fillSz=fill["fillSz"], fillTime=fill["ts"],
                        fillFee=fill["fee"], fillFeeCcy=fill["feeCcy"], execType=fill["execType"])
        message = {"arg": {"channel": "orders", "instType": order["instType"], "uid": "77"}, "data": [data]}
        for ws in self.private:
            kinds = self.private_types.get(id(ws), set())
            if not ws.closed and (order["instType"] in kinds or "ANY" in kinds):
                asyncio.ensure_future(ws.send_json(message))

    def _fee(self, order: dict, qty: Decimal, px: Decimal, maker: bool) -> tuple[Decimal, str]:
        """OKX's fee for a fill, negative when charged: spot in the base (buys) or quote (sells);
        swaps in USDT on contracts x ctVal x price."""
        if order["instType"] == "SWAP":
            return -(qty * CT_VAL[order["instId"]] * px * Decimal("0.0002" if maker else "0.0005")), "USDT"
        rate = Decimal("0.0008" if maker else "0.001")
        return (-(qty * rate), "BTC") if order["side"] == "buy" else (-(qty * px * rate), "USDT")

    def _fill(self, order: dict, qty: Decimal, px: Decimal, maker: bool) -> dict:
        fee, ccy = self._fee(order, qty, px, maker)
        fill = {"instId": order["instId"], "instType": order["instType"], "tradeId": str(next(self._ids)),
                "ordId": order["ordId"], "clOrdId": order["clOrdId"], "fillPx": f"{px}", "fillSz": text(qty),
                "side": order["side"], "posSide": order.get("posSide", ""), "execType": "M" if maker else "T",
                "fee": f"{fee:f}", "feeCcy": ccy, "ts": str(self.now_ms())}
        self.fills.setdefault(order["ordId"], []).append(fill)
        filled = Decimal(order["accFillSz"]) + qty
        order.update(accFillSz=text(filled), uTime=fill["ts"], fillSz=fill["fillSz"],
                     state="filled" if filled >= Decimal(order["sz"]) else "partially_filled")
        if order["instType"] == "SWAP":
            self._move_position(order["instId"], qty if order["side"] == "buy" else -qty, px)
        return fill

    def _move_position(self, inst_id: str, signed_qty: Decimal, px: Decimal) -> None:
        """Net mode: one signed position per swap, average entry price."""
        p = self.positions.setdefault(inst_id, {"pos": Decimal(0), "cost": Decimal(0)})
        pos = p["pos"]
        if pos == 0 or (pos > 0) == (signed_qty > 0):
            p["pos"], p["cost"] = pos + signed_qty, p["cost"] + signed_qty * px
            return
        closing = min(abs(signed_qty), abs(pos)) * (1 if signed_qty > 0 else -1)
        avg = p["cost"] / pos
        p["pos"], p["cost"] = pos + closing, p["cost"] + closing * avg
        rest = signed_qty - closing
        if rest:
            p["pos"], p["cost"] = p["pos"] + rest, p["cost"] + rest * px

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` (contracts for a swap) at its price, from any thread."""
        def go():
            order = self.orders[cid]
            fill = self._fill(order, Decimal(qty), Decimal(order["px"]), maker=True)
            self._push_order(order, fill)
        self.soon(go)

    def _book_message(self, action, prev, bids, asks, inst_id="BTC-USDT"):
        return {"arg": {"channel": "books", "instId": inst_id}, "action": action,
                "data": [{"asks": [[p, s, "0", "1"] for p, s in asks.items()], "bids": [[p, s, "0", "1"] for p, s in bids.items()],
                          "ts": str(self.now_ms()), "checksum": 0 if self.zero_checksum else self.checksum(inst_id),
                          "prevSeqId": prev, "seqId": self.seqs[inst_id]}]}

    def push_book(self, bids=None, asks=None, inst_id="BTC-USDT") -> None:
        """Change the book and send the update (size "0" deletes), from any thread."""
        def go():
            for side, changes in zip(self.books[inst_id], (bids or {}, asks or {})):
                for p, s in changes.items():
                    if Decimal(s):
                        side[p] = s
                    else:
                        side.pop(p, None)
            seq = self.seqs[inst_id]
            prev = seq + self.skip_next_seq
            self.skip_next_seq = 0
            self.seqs[inst_id] = seq + (1 if prev == seq else 2)
            message = self._book_message("update", prev, bids or {}, asks or {}, inst_id)
            if self.corrupt_next_checksum:
                self.corrupt_next_checksum = False
                message["data"][0]["checksum"] += 1
            self.broadcast(message)
        self.soon(go)

    def push_trade(self, px: str, sz: str, side: str, inst_id="BTC-USDT") -> None:
        message = {"arg": {"channel": "trades", "instId": inst_id},
                   "data": [{"instId": inst_id, "tradeId": str(next(self._ids)), "px": px, "sz": sz, "side": side,
                             "ts": str(self.now_ms()), "count": "1"}]}
        self.broadcast(message)

    # -- account and trading ------------------------------------------------------------------------------
    @signed
    async def balance(self, request, p):
        return ok([{"details": [{"ccy": "BTC", "availBal": "1", "cashBal": "1"},
                                {"ccy": "USDT", "availBal": "100000", "cashBal": "100000", "availEq": "100000"}]}])

    @signed
    async def trade_fee(self, request, p):
        return ok([{"instType": "SPOT", "level": "Lv1", "maker": "-0.0008", "taker": "-0.001", "ts": str(self.now_ms())}])

    @signed
    async def account_config(self, request, p):
        return ok([{"acctLv": self.acct_lv, "posMode": self.pos_mode, "acctStpMode": "cancel_maker", "level": "Lv1",
                    "perm": "read_only,trade", "uid": "77", "mainUid": "77"}])

    @signed
    async def get_positions(self, request, p):
        rows = []
        for inst_id, pos in self.positions.items():
            if p.get("instType") not in (None, "SWAP") or not pos["pos"]:
                continue
            avg, ct = pos["cost"] / pos["pos"], CT_VAL[inst_id]
            rows.append({"instId": inst_id, "instType": "SWAP", "mgnMode": "cross", "posSide": "net",
                         "pos": text(pos["pos"]), "avgPx": text(avg), "markPx": f"{MARK}",
                         "upl": text((MARK - avg) * pos["pos"] * ct), "lever": self.leverage.get(inst_id, "10"),
                         "margin": "",
                         "imr": text(abs(pos["pos"]) * ct * MARK / 10), "ccy": "USDT",
                         "liqPx": text(avg * (Decimal("0.91") if pos["pos"] > 0 else Decimal("1.09"))),
                         "uTime": str(self.now_ms())})
        return ok(rows)

    @signed
    async def set_leverage(self, request, p):
        lever, inst_id = str(p.get("lever", "")), p.get("instId", "")
        if inst_id not in CT_VAL or p.get("mgnMode") not in ("cross", "isolated"):
            return fail("51000", "Parameter mgnMode error")
        if not lever.isdigit() or int(lever) < 1:
            return fail("51000", "Parameter lever error")
        if int(lever) > 100:
            return fail("59102", "Leverage exceeds the maximum leverage. Please adjust the leverage.")
        self.leverage[inst_id] = lever
        self.leverage_sets.append((inst_id, lever, len(self.placed)))
        return ok([{"instId": inst_id, "lever": lever, "mgnMode": p["mgnMode"], "posSide": ""}])

    def _refusal(self, p: dict, swap: bool) -> tuple[str, str] | None:
        """OKX's code for a place it would refuse on these parameters, or None."""
        if self.refuse_next_place:
            refusal, self.refuse_next_place = self.refuse_next_place, None
            return refusal
        if p.get("tdMode") not in (("cross", "isolated") if swap else ("cash",)):
            return "51000", "Parameter tdMode error"
        if swap and self.acct_lv == "1":
            return "51010", "Request unsupported under current account mode"
        if swap and (p.get("posSide") not in ("long", "short") if self.pos_mode == "long_short_mode"
                     else p.get("posSide", "net") != "net"):
            return "51000", "Parameter posSide error"
        sz, lot = Decimal(p["sz"]), SWAP_LOT if swap else Decimal("0.00000001")
        if sz <= 0 or (sz / lot) % 1:
            return "51121", "Order quantity must be a multiple of the lot size."
        return None

    @signed
    async def place(self, request, p):
        cid = p.get("clOrdId", "")
        swap = p.get("instId") in CT_VAL
        item = {"clOrdId": cid, "ordId": "", "tag": ""}
        if cid in self.orders and self.orders[cid]["state"] in ("live", "partially_filled"):
            return fail("51016", "Duplicated clOrdId", item=item)
        refusal = self._refusal(p, swap)
        if refusal:
            return fail(*refusal, item=item)
        sz = Decimal(p["sz"])
        if not swap and p["ordType"] == "market" and p["side"] == "buy" and p.get("tgtCcy") != "base_ccy":
            sz = sz / ASK          # OKX reads a spot market buy's size in the quote currency
        touch = ASK if p["side"] == "buy" else BID
        need = sz * CT_VAL[p["instId"]] * touch / 10 if swap else (sz * ASK if p["side"] == "buy" else Decimal(0))
        if need > 100000:
            return fail("51008", "Order failed. Insufficient USDT margin in account.", item=item)
        px = Decimal(p["px"]) if p.get("px") else None
        crosses = px is None or (px >= touch if p["side"] == "buy" else px <= touch)
        now = str(self.now_ms())
        order = {"instId": p["instId"], "instType": "SWAP" if swap else "SPOT", "ordId": str(next(self._ids)),
                 "clOrdId": cid, "px": p.get("px", ""), "sz": text(sz) if swap else f"{sz:f}", "ordType": p["ordType"],
                 "side": p["side"], "tdMode": p["tdMode"], "state": "live", "accFillSz": "0", "avgPx": "", "fee": "0",
                 "feeCcy": "USDT", "cTime": now, "uTime": now, **({"posSide": "net", "lever": self.leverage.get(p["instId"], "10")} if swap else {})}
        self.placed.append(dict(p))
        fill = None
        if p["ordType"] == "post_only" and crosses:
            order["state"] = "canceled"          # OKX cancels a post-only that would take
        elif crosses:
            fill = self._fill(order, min(sz, Decimal("200" if swap else "2")), touch, maker=False)
            order.update(avgPx=f"{touch}", fee=fill["fee"], feeCcy=fill["feeCcy"])
            if order["state"] != "filled" and p["ordType"] in ("market", "ioc"):
                order["state"] = "canceled"
        elif p["ordType"] == "ioc":
            order["state"] = "canceled"
        self.orders[cid] = order
        self._push_order(order, fill)
        return ok([{"clOrdId": cid, "ordId": order["ordId"], "tag": "", "ts": now, "sCode": "0", "sMsg": ""}])

    @signed
    async def get_order(self, request, p):
        order = self.orders.get(p.get("clOrdId", ""))
        if order is None or order["instId"] != p.get("instId"):
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
        if "newSz" in p and order["instType"] == "SWAP" and (Decimal(p["newSz"]) / SWAP_LOT) % 1:
            return fail("51121", "Order quantity must be a multiple of the lot size.", item=item)
        if "newSz" in p:
            order["sz"] = p["newSz"]
        if "newPx" in p:
            order["px"] = p["newPx"]
        order["uTime"] = str(self.now_ms())
        self._push_order(order)
        return ok([{**item, "sCode": "0", "sMsg": ""}])

    @signed
    async def pending(self, request, p):
        return ok([o for o in self.orders.values() if o["instId"] == p.get("instId") and o["instType"] == p.get("instType")
                   and o["state"] in ("live", "partially_filled")])

    @signed
    async def get_fills(self, request, p):
        return ok([f for f in self.fills.get(p.get("ordId", ""), []) if f["instType"] == p.get("instType", f["instType"])])

    # -- bills --------------------------------------------------------------------------------------
    def add_funding(self, inst_id: str, amount: str, ts_ms: int, ccy: str = "USDT", **fields) -> dict:
        """Book a funding bill on the account (any thread; tests add them before reading)."""
        bill = {"billId": str(ts_ms * 1000 + next(self._bill_seq) % 1000), "instId": inst_id, "instType": "SWAP",
                "ccy": ccy, "type": "8", "subType": "173" if Decimal(amount) < 0 else "174", "balChg": amount,
                "pnl": amount, "fee": "0", "bal": "100000", "posBal": "0", "posBalChg": "0", "sz": "50", "px": f"{MARK}",
                "mgnMode": "cross", "ordId": "", "execType": "", "from": "", "to": "", "notes": "", "interest": "0",
                "tag": "", "fillTime": "", "tradeId": "", "clOrdId": "", "ts": str(ts_ms), **fields}
        self.bills.append(bill)
        return bill

    @signed
    async def get_bills(self, request, p):
        self.bill_queries.append((request.path, dict(p)))
        limit = p.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return fail("51000", "Parameter limit error")
        days = 90 if request.path.endswith("-archive") else 7
        oldest = self.now_ms() - days * 86_400_000
        rows = [b for b in self.bills if int(b["ts"]) >= oldest and self._bill_matches(b, p)]
        rows.sort(key=lambda b: int(b["billId"]), reverse=True)
        return ok(rows[:int(limit)])

    @staticmethod
    def _bill_matches(b: dict, p: dict) -> bool:
        if any(p.get(k) not in (None, "", b[k]) for k in ("instType", "instId", "ccy", "type", "subType")):
            return False
        ts, bill_id = int(b["ts"]), int(b["billId"])
        return ((not p.get("begin") or ts > int(p["begin"])) and (not p.get("end") or ts < int(p["end"]))
                and (not p.get("after") or bill_id < int(p["after"])))
