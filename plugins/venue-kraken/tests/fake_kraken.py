"""A fake Kraken spot server on 127.0.0.1 that checks requests the way Kraken does
(https://docs.kraken.com/api/docs/guides/spot-rest-auth): ``API-Key``, then ``API-Sign`` =
base64(HMAC-SHA512(base64-decoded secret, path + SHA256(nonce + form body))), then a nonce
above the last one the key used; refusals are HTTP 200 ``{"error": ["EAPI:Invalid key"]}``
and the like (https://docs.kraken.com/api/docs/guides/spot-errors). Orders match against a
fixed book (asks 91000.0 x 2 BTC, bids 90990.0 x 2 BTC), taker fee 0.40% in the quote
currency (``fciq``); a post-only order that would take is cancelled, reason "Post only order".
Websocket ``/v2``: ``status`` on connect, ``book`` (snapshot then updates, each with Kraken's
CRC32 checksum computed here independently), ``trade``, ``ping``/``pong``.
Private websocket ``/auth/v2`` (stands for ``wss://ws-auth.kraken.com/v2``): a token from the
signed ``GetWebSocketsToken`` call, checked on the ``executions`` subscribe (known, used within
15 minutes of issue) and answered with Kraken's ack or ``ESession:Invalid session``;
``ws_refusal`` makes it answer that error instead (a key without the query permissions:
``EAccount:Invalid permissions``). Subscribed sockets get the open orders as a snapshot, then
an ``executions`` report for every order change (first report in full, later ones sparse, as
Kraken sends them; a trade says ``partially_filled`` even when it completes the order, and a
separate ``filled`` report ends it); ``fill_resting(cl_ord_id, qty)`` fills a resting order as a maker.
Faults: ``rate_limit_next`` (HTTP 429 + Retry-After), ``kraken_rate_limit_next`` (HTTP 200
``EAPI:Rate limit exceeded``), ``malformed_next``, ``server_error_next``, ``slow_next_s``,
``clock_offset_ms`` with ``last_nonce``, ``refuse_next_place``, ``skip_next_update`` (a lost
book message), ``corrupt_next_checksum``, ``drop_sockets()``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import zlib
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.0"), Decimal("90990.0")
PAIRS = {"XBTUSD": ("XXBTZUSD", "ZUSD", "XXBT"), "XBTUSDT": ("XBTUSDT", "USDT", "XXBT")}
WS_NAMES = {"XBTUSD": "BTC/USD", "XBTUSDT": "BTC/USDT"}
TOKEN_TTL_MS = 15 * 60 * 1000
TAKER, MAKER = Decimal("0.004"), Decimal("0.0025")


def ok(result) -> web.Response:
    return web.json_response({"error": [], "result": result})


def fail(*errors: str) -> web.Response:
    return web.json_response({"error": list(errors)})


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def checksum(bids: dict, asks: dict) -> int:
    """Kraken's v2 book checksum, written out from the guide (price 1 decimal, qty 8 for XBT/USD)."""
    def part(p, q):
        return (f"{Decimal(p):.1f}".replace(".", "").lstrip("0") + f"{Decimal(q):.8f}".replace(".", "").lstrip("0"))
    top_asks = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:10]
    top_bids = sorted(bids.items(), key=lambda kv: -Decimal(kv[0]))[:10]
    return zlib.crc32("".join(part(p, q) for p, q in top_asks + top_bids).encode())


class FakeKraken(FakeVenueServer):
    def __init__(self, api_key: str, secret_b64: str):
        super().__init__()
        self.api_key, self.secret = api_key, secret_b64
        self.last_nonce = 0
        self.nonces: list[int] = []
        self.orders: dict[str, dict] = {}          # txid -> order as Kraken shows it
        self.trades: dict[str, dict] = {}
        self.placed: list[dict] = []               # AddOrder parameters as received
        self.refuse_next_place: str | None = None
        self.kraken_rate_limit_next = self.server_error_next = 0
        self.slow_next_s = 0.0
        self.status = "online"
        self.bids = {"90990.0": "2", "90980.0": "3"}
        self.asks = {"91000.0": "2", "91010.0": "3"}
        self.usd = Decimal("100000")
        self.subscriptions: list[dict] = []
        self.unsubscriptions: list[dict] = []
        self.pings = 0
        self.skip_next_update = self.corrupt_next_checksum = False
        self._ids = itertools.count(1000)
        self.tokens: dict[str, dict] = {}          # token -> {"issued_ms", "used"}
        self.ws_refusal: str | None = None
        self.logins: list[bool] = []               # each executions subscribe: accepted or not
        self.private: list = []                    # sockets subscribed to executions

    def _id(self, prefix: str) -> str:
        n = next(self._ids)
        return f"{prefix}{n:05d}-ABCDE-{n:06d}"

    # -- auth ---------------------------------------------------------------------------------------
    async def verify(self, request) -> web.Response | dict:
        body = await request.text()
        form = dict(parse_qsl(body, keep_blank_values=True))
        if request.headers.get("API-Key") != self.api_key:
            return fail("EAPI:Invalid key")
        nonce = form.get("nonce", "")
        digest = hashlib.sha256((nonce + body).encode()).digest()
        expected = base64.b64encode(hmac.new(base64.b64decode(self.secret), request.path.encode() + digest,
                                             hashlib.sha512).digest()).decode()
        if not hmac.compare_digest(request.headers.get("API-Sign", ""), expected):
            return fail("EAPI:Invalid signature")
        if not nonce.isdigit() or int(nonce) <= self.last_nonce:
            return fail("EAPI:Invalid nonce")
        self.last_nonce = int(nonce)
        self.nonces.append(int(nonce))
        return form

    def rate_limited(self):
        return web.json_response({"error": ["EAPI:Rate limit exceeded"]}, status=429, headers={"Retry-After": "0"})

    def fault(self, request):
        if self.kraken_rate_limit_next:
            self.kraken_rate_limit_next -= 1
            return fail("EAPI:Rate limit exceeded")
        if self.server_error_next:
            self.server_error_next -= 1
            return web.Response(text="<html>502 Bad Gateway</html>", status=502)
        return None

    @web.middleware
    async def slow(self, request, handler):
        response = await handler(request)
        if self.slow_next_s:                  # act, then answer too late: a lost answer
            delay, self.slow_next_s = self.slow_next_s, 0.0
            await asyncio.sleep(delay)
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults, self.slow])
        r = app.router
        r.add_get("/v2", self.ws)
        r.add_get("/auth/v2", self.private_ws)
        for name in ("Time", "SystemStatus", "AssetPairs", "Depth", "Ticker"):
            r.add_route("*", f"/0/public/{name}", getattr(self, f"public_{name.lower()}"))
        for name in ("Balance", "BalanceEx", "TradeVolume", "AddOrder", "CancelOrder", "AmendOrder", "OpenOrders",
                     "ClosedOrders", "QueryOrders", "QueryTrades", "GetWebSocketsToken"):
            r.add_post(f"/0/private/{name}", getattr(self, f"private_{name.lower()}"))
        return app

    # -- public ---------------------------------------------------------------------------------------
    async def public_time(self, request):
        now = self.now_ms() // 1000
        return ok({"unixtime": now, "rfc1123": datetime.fromtimestamp(now, timezone.utc).strftime("%a, %d %b %y %H:%M:%S +0000")})

    async def public_systemstatus(self, request):
        return ok({"status": self.status, "timestamp": iso(self.now_ms())[:19] + "Z"})

    async def public_assetpairs(self, request):
        return ok({"XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
                                "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
                                "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1, "ordermin": "0.00005",
                                "costmin": "0.5", "tick_size": "0.1", "status": "online", "execution_venue": "international",
                                "fees": [], "fees_maker": []}})          # emptied by Kraken on 2026-09-08

    def _sides(self):
        bids = sorted(self.bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))
        return bids, asks

    async def public_depth(self, request):
        pair = request.query.get("pair", "")
        if pair not in PAIRS:
            return fail("EQuery:Unknown asset pair")
        ts = self.now_ms() // 1000
        bids, asks = self._sides()
        return ok({PAIRS[pair][0]: {"asks": [[f"{Decimal(p):.5f}", f"{Decimal(s):.8f}", ts] for p, s in asks],
                                    "bids": [[f"{Decimal(p):.5f}", f"{Decimal(s):.8f}", ts] for p, s in bids]}})

    async def public_ticker(self, request):
        pair = request.query.get("pair", "")
        if pair not in PAIRS:
            return fail("EQuery:Unknown asset pair")
        return ok({PAIRS[pair][0]: {"a": [f"{ASK:.5f}", "2", "2.000"], "b": [f"{BID:.5f}", "2", "2.000"],
                                    "c": [f"{ASK:.5f}", "0.01000000"]}})

    # -- account --------------------------------------------------------------------------------------
    def _held(self) -> Decimal:
        return sum((Decimal(o["descr"]["price"]) * (Decimal(o["vol"]) - Decimal(o["vol_exec"]))
                    for o in self.orders.values() if o["status"] == "open" and o["descr"]["type"] == "buy"), Decimal(0))

    @signed
    async def private_balance(self, request, p):
        return ok({"ZUSD": f"{self.usd:.4f}", "XXBT": "1.0000000000"})

    @signed
    async def private_balanceex(self, request, p):
        return ok({"ZUSD": {"balance": f"{self.usd:.4f}", "hold_trade": f"{self._held():.4f}"},
                   "XXBT": {"balance": "1.0000000000", "hold_trade": "0.0000000000"},
                   "XBT.F": {"balance": "0.5000000000", "hold_trade": "0.0000000000"},      # auto-earn: spendable as BTC
                   "ETH.B": {"balance": "2.0000000000", "hold_trade": "0.0000000000"}})     # staked: not spendable

    @signed
    async def private_tradevolume(self, request, p):
        key = PAIRS.get(p.get("pair", ""), ("XXBTZUSD",))[0]
        return ok({"currency": "ZUSD", "volume": "0.0000",
                   "fees": {key: {"fee": "0.4000", "minfee": "0.1000", "maxfee": "0.4000", "nextfee": "0.3500",
                                  "tiervolume": "0.0000", "nextvolume": "10000.0000"}},
                   "fees_maker": {key: {"fee": "0.2500", "minfee": "0.0000", "maxfee": "0.2500", "nextfee": "0.2000",
                                        "tiervolume": "0.0000", "nextvolume": "10000.0000"}}})

    # -- trading --------------------------------------------------------------------------------------
    @staticmethod
    def _bad_cl_ord_id(cl: str) -> bool:
        hexdigits = cl.replace("-", "")
        is_uuid = len(hexdigits) == 32 and all(c in "0123456789abcdef" for c in hexdigits.lower())
        return not (is_uuid or (0 < len(cl) <= 18 and cl.isascii()))

    @signed
    async def private_addorder(self, request, p):
        self.placed.append(p)
        if self.refuse_next_place:
            error, self.refuse_next_place = self.refuse_next_place, None
            return fail(error)
        if any(k not in p for k in ("pair", "type", "ordertype", "volume")):
            return fail("EGeneral:Invalid arguments")
        if p["pair"] not in PAIRS:
            return fail("EQuery:Unknown asset pair")
        if "cl_ord_id" in p and self._bad_cl_ord_id(p["cl_ord_id"]):
            return fail("EGeneral:Invalid arguments:cl_ord_id")
        vol = Decimal(p["volume"])
        if vol.as_tuple().exponent < -8 or vol <= 0:
            return fail("EGeneral:Invalid arguments:volume")
        if vol < Decimal("0.00005"):
            return fail("EOrder:Order minimum not met:volume minimum not met")
        px = Decimal(p["price"]) if p.get("price") else None
        if p["ordertype"] == "limit" and (px is None or px.as_tuple().exponent < -1):
            return fail(f"EOrder:Invalid price:{p['pair']} price can only be specified up to 1 decimals.")
        side = p["type"]
        touch = ASK if side == "buy" else BID
        if side == "buy" and (px or touch) * vol > self.usd - self._held():
            return fail("EOrder:Insufficient funds")
        if side == "sell" and vol > 1:
            return fail("EOrder:Insufficient funds")
        flags = p.get("oflags", "").split(",")
        crosses = px is None or (px >= touch if side == "buy" else px <= touch)
        txid, now = self._id("O"), self.now_ms() / 1000
        order = {"refid": None, "userref": 0, "cl_ord_id": p.get("cl_ord_id"), "status": "open", "reason": None,
                 "opentm": now, "starttm": 0, "expiretm": 0,
                 "descr": {"pair": p["pair"], "type": side, "ordertype": p["ordertype"], "price": p.get("price", "0"),
                           "price2": "0", "leverage": "none", "close": "",
                           "order": f"{side} {vol:.8f} {p['pair']} @ {p['ordertype']} {p.get('price', '')}".strip()},
                 "vol": f"{vol:.8f}", "vol_exec": "0.00000000", "cost": "0.00000", "fee": "0.00000", "price": "0.00000",
                 "stopprice": "0.00000", "limitprice": "0.00000", "misc": "", "oflags": p.get("oflags", ""), "trades": []}
        if "post" in flags and crosses:
            order.update(status="canceled", reason="Post only order", closetm=now)
        elif crosses:
            qty = min(vol, Decimal("2"))
            cost = qty * touch
            tid = self._id("T")
            self.trades[tid] = {"ordertxid": txid, "postxid": self._id("P"), "pair": PAIRS[p["pair"]][0], "time": now,
                                "type": side, "ordertype": p["ordertype"], "price": f"{touch:.1f}", "cost": f"{cost:.5f}",
                                "fee": f"{cost * TAKER:.5f}", "vol": f"{qty:.8f}", "margin": "0.00000", "misc": "",
                                "trade_id": next(self._ids), "maker": False}
            self.usd += -cost - cost * TAKER if side == "buy" else cost - cost * TAKER
            order.update(vol_exec=f"{qty:.8f}", cost=f"{cost:.5f}", fee=f"{cost * TAKER:.5f}", price=f"{touch:.1f}",
                         trades=[tid], closetm=now)
            order["status"] = "closed" if qty == vol else ("canceled" if p["ordertype"] == "market" or
                                                          p.get("timeinforce") == "IOC" else "open")
            if order["status"] == "open":
                del order["closetm"]
        elif p.get("timeinforce") == "IOC":
            order.update(status="canceled", reason="Immediate or cancel", closetm=now)
        self.orders[txid] = order
        self._report_new(txid, order)
        return ok({"descr": {"order": order["descr"]["order"]}, "txid": [txid]})

    def _by(self, p) -> tuple[str, dict] | None:
        if p.get("cl_ord_id"):
            for txid, o in self.orders.items():
                if o["cl_ord_id"] == p["cl_ord_id"] and o["status"] == "open":
                    return txid, o
            return None
        o = self.orders.get(p.get("txid", ""))
        return (p["txid"], o) if o and o["status"] == "open" else None

    @signed
    async def private_cancelorder(self, request, p):
        found = self._by(p)
        if found is None:
            return fail("EOrder:Unknown order")
        found[1].update(status="canceled", reason="User requested", closetm=self.now_ms() / 1000)
        self._push(self._report(found[0], "canceled", reason="User requested"))
        return ok({"count": 1})

    @signed
    async def private_amendorder(self, request, p):
        found = self._by(p)
        if found is None:
            return fail("EOrder:Unknown order")
        order = found[1]
        if "limit_price" in p:
            px = Decimal(p["limit_price"])
            if px.as_tuple().exponent < -1:
                return fail(f"EOrder:Invalid price:{order['descr']['pair']} price can only be specified up to 1 decimals.")
            if p.get("post_only") == "true" and (px >= ASK if order["descr"]["type"] == "buy" else px <= BID):
                return fail("EOrder:Post only order")
            order["descr"]["price"] = p["limit_price"]
        if "order_qty" in p:
            order["vol"] = f"{Decimal(p['order_qty']):.8f}"
        self._push(self._report(found[0], "amended", order_qty=float(order["vol"]),
                                limit_price=float(order["descr"]["price"]), reason="User requested"))
        return ok({"amend_id": self._id("TA")})

    def _view(self, o: dict, p: dict) -> dict:
        return o if p.get("trades") == "true" else {k: v for k, v in o.items() if k != "trades"}

    def _matching(self, p, statuses):
        return {t: self._view(o, p) for t, o in self.orders.items()
                if o["status"] in statuses and (not p.get("cl_ord_id") or o["cl_ord_id"] == p["cl_ord_id"])}

    @signed
    async def private_openorders(self, request, p):
        return ok({"open": self._matching(p, ("open", "pending"))})

    @signed
    async def private_closedorders(self, request, p):
        closed = self._matching(p, ("closed", "canceled", "expired"))
        return ok({"closed": closed, "count": len(closed)})

    @signed
    async def private_queryorders(self, request, p):
        txids = [t for t in p.get("txid", "").split(",") if t]
        if not txids or any(t not in self.orders for t in txids):
            return fail("EOrder:Invalid order")
        return ok({t: self._view(self.orders[t], p) for t in txids})

    @signed
    async def private_querytrades(self, request, p):
        return ok({t: self.trades[t] for t in p.get("txid", "").split(",") if t in self.trades})

    @signed
    async def private_getwebsocketstoken(self, request, p):
        token = base64.b64encode(next(self._ids).to_bytes(8, "big") + b"-ws-token").decode()
        self.tokens[token] = {"issued_ms": self.now_ms(), "used": False}
        return ok({"token": token, "expires": 900})

    # -- private websocket (executions) ---------------------------------------------------------------------
    def _token_error(self, token) -> str | None:
        t = self.tokens.get(token or "")
        if t is None or (not t["used"] and self.now_ms() - t["issued_ms"] > TOKEN_TTL_MS):
            return "ESession:Invalid session"
        return self.ws_refusal

    async def private_ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"channel": "status", "type": "update",
                            "data": [{"api_version": "v2", "connection_id": 2, "system": "online", "version": "2.0.10"}]})
        async for msg in ws:
            body, now = json.loads(msg.data), iso(self.now_ms())
            if body.get("method") == "ping":
                self.pings += 1
                await ws.send_json({"method": "pong", "req_id": body.get("req_id"), "time_in": now, "time_out": now})
                continue
            params = body.get("params", {})
            if body.get("method") != "subscribe" or params.get("channel") != "executions":
                await ws.send_json({"error": "EGeneral:Invalid arguments", "method": body.get("method"), "success": False,
                                    "time_in": now, "time_out": now})
                continue
            error = self._token_error(params.get("token"))
            self.logins.append(error is None)
            if error:
                await ws.send_json({"error": error, "method": "subscribe", "success": False, "time_in": now, "time_out": now})
                continue
            self.tokens[params["token"]]["used"] = True
            await ws.send_json({"method": "subscribe", "result": {"channel": "executions", "maxratecount": 60,
                                                                 "snapshot": True, "warnings": []},
                                "success": True, "time_in": now, "time_out": now})
            opened = [t for t, o in self.orders.items() if o["status"] == "open"] if params.get("snap_orders", True) else []
            await ws.send_json({"channel": "executions", "type": "snapshot", "sequence": 1,
                                "data": [self._report(t, "new", **self._details(self.orders[t])) for t in opened]})
            self.private.append(ws)
        return ws

    def _details(self, o: dict) -> dict:
        """What Kraken reports of an order in full (its first report, the snapshot)."""
        d = o["descr"]
        return {"cl_ord_id": o["cl_ord_id"], "symbol": WS_NAMES[d["pair"]], "side": d["type"], "order_type": d["ordertype"],
                "order_qty": float(o["vol"]), "limit_price": float(d["price"]), "time_in_force": "GTC",
                "post_only": "post" in o["oflags"].split(","), "order_userref": 0}

    def _report(self, txid: str, exec_type: str, **fields) -> dict:
        o = self.orders[txid]
        status = {"open": "partially_filled" if Decimal(o["vol_exec"]) else "new", "closed": "filled"}.get(o["status"], o["status"])
        return {"order_id": txid, "exec_id": self._id("E"), "exec_type": exec_type,
                "order_status": "pending_new" if exec_type == "pending_new" else status,
                "cum_qty": float(o["vol_exec"]), "cum_cost": float(o["cost"]), "timestamp": iso(self.now_ms()), **fields}

    def _trade_report(self, txid: str, tid: str) -> dict:
        t, o = self.trades[tid], self.orders[txid]
        fee_asset = WS_NAMES[o["descr"]["pair"]].split("/")[1]
        # "A trade event can report order_status: partially_filled even when that trade fills the entire
        # order. A separate exec_type: filled update reports completion."
        # (https://docs.kraken.com/exchange/api-reference/unified-ws/executions, Spot)
        return self._report(txid, "trade", order_status="partially_filled", exec_id=tid, trade_id=t["trade_id"],
                            symbol=WS_NAMES[o["descr"]["pair"]],
                            side=t["type"], last_qty=float(t["vol"]), last_price=float(t["price"]),
                            liquidity_ind="m" if t["maker"] else "t", cost=float(t["cost"]),
                            fees=[{"asset": fee_asset, "qty": float(t["fee"])}], fee_usd_equiv=float(t["fee"]))

    def _report_new(self, txid: str, o: dict) -> None:
        """An order's reports as Kraken sends them on AddOrder: pending_new in full, then sparse ones."""
        messages = [self._report(txid, "pending_new", **self._details(o))]
        if o["reason"] != "Post only order":
            messages.append(self._report(txid, "new"))
        messages += [self._trade_report(txid, tid) for tid in o["trades"]]
        if o["status"] == "closed":
            messages.append(self._report(txid, "filled"))
        elif o["status"] == "canceled":
            messages.append(self._report(txid, "canceled", reason=o["reason"]))
        self._push(*messages)

    def _push(self, *entries: dict) -> None:
        """``executions`` updates to the subscribed sockets (on the server's loop)."""
        message = {"channel": "executions", "type": "update", "data": list(entries)}
        for ws in self.private:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def fill_resting(self, cl_ord_id: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.25% in quote), from any thread."""
        def go():
            txid, o = next((t, o) for t, o in self.orders.items() if o["cl_ord_id"] == cl_ord_id and o["status"] == "open")
            q, px = Decimal(qty), Decimal(o["descr"]["price"])
            cost, tid = q * px, self._id("T")
            self.trades[tid] = {"ordertxid": txid, "postxid": self._id("P"), "pair": PAIRS[o["descr"]["pair"]][0],
                                "time": self.now_ms() / 1000, "type": o["descr"]["type"], "ordertype": o["descr"]["ordertype"],
                                "price": f"{px:.1f}", "cost": f"{cost:.5f}", "fee": f"{cost * MAKER:.5f}", "vol": f"{q:.8f}",
                                "margin": "0.00000", "misc": "", "trade_id": next(self._ids), "maker": True}
            self.usd += -cost - cost * MAKER if o["descr"]["type"] == "buy" else cost - cost * MAKER
            filled = Decimal(o["vol_exec"]) + q
            o.update(vol_exec=f"{filled:.8f}", cost=f"{Decimal(o['cost']) + cost:.5f}",
                     fee=f"{Decimal(o['fee']) + cost * MAKER:.5f}", price=f"{px:.1f}", trades=o["trades"] + [tid])
            if filled >= Decimal(o["vol"]):
                o.update(status="closed", closetm=self.now_ms() / 1000)
            self._push(self._trade_report(txid, tid), *([self._report(txid, "filled")] if o["status"] == "closed" else []))
        self.soon(go)

    # -- websocket ----------------------------------------------------------------------------------------
    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"channel": "status", "type": "update",
                            "data": [{"api_version": "v2", "connection_id": 1, "system": "online", "version": "2.0.10"}]})
        async for msg in ws:
            body = json.loads(msg.data)
            now = iso(self.now_ms())
            if body.get("method") == "ping":
                self.pings += 1
                await ws.send_json({"method": "pong", "req_id": body.get("req_id"), "time_in": now, "time_out": now})
                continue
            params = body.get("params", {})
            for symbol in params.get("symbol", []):
                await ws.send_json({"method": body["method"], "result": {"channel": params["channel"], "symbol": symbol,
                                                                        "depth": params.get("depth", 10), "snapshot": True},
                                    "success": True, "time_in": now, "time_out": now})
                (self.subscriptions if body["method"] == "subscribe" else self.unsubscriptions).append(
                    {"channel": params["channel"], "symbol": symbol, "depth": params.get("depth")})
                if body["method"] == "subscribe" and params["channel"] == "book":
                    await ws.send_json(self._book_message("snapshot", symbol, self.bids, self.asks))
        return ws

    def _book_message(self, kind, symbol, bids, asks):
        def rows(side):
            return [{"price": float(Decimal(p)), "qty": float(Decimal(s))} for p, s in side.items()]
        return {"channel": "book", "type": kind,
                "data": [{"symbol": symbol, "bids": rows(bids), "asks": rows(asks), "checksum": checksum(self.bids, self.asks),
                          "timestamp": iso(self.now_ms())}]}

    def push_book(self, bids=None, asks=None, symbol="BTC/USD") -> None:
        """Change the book and send the update (qty "0" deletes), from any thread."""
        def go():
            for side, changes in ((self.bids, bids or {}), (self.asks, asks or {})):
                for p, s in changes.items():
                    if Decimal(s):
                        side[p] = s
                    else:
                        side.pop(p, None)
            if self.skip_next_update:
                self.skip_next_update = False
                return
            message = self._book_message("update", symbol, bids or {}, asks or {})
            if self.corrupt_next_checksum:
                self.corrupt_next_checksum = False
                message["data"][0]["checksum"] = (message["data"][0]["checksum"] + 1) % (1 << 32)
            self.broadcast(message)
        self.soon(go)

    def push_trade(self, price: str, qty: str, side: str, symbol="BTC/USD") -> None:
        self.broadcast({"channel": "trade", "type": "update",
                        "data": [{"symbol": symbol, "side": side, "price": float(price), "qty": float(qty),
                                  "ord_type": "market", "trade_id": next(self._ids), "timestamp": iso(self.now_ms())}]})
