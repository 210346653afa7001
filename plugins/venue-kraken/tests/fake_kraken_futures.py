"""A fake Kraken Futures server on 127.0.0.1 that checks requests the way Kraken does
(https://docs.kraken.com/api/docs/guides/futures-rest): ``APIKey``, then ``Authent`` =
base64(HMAC-SHA512(base64-decoded secret, SHA256(postData + Nonce + endpointPath))) with the
path less its ``/derivatives`` prefix and postData the query (GET) or form body (POST) as sent,
then a ``Nonce`` above the last one. Refusals are ``{"result": "error", "error": "<code>"}``.
One perp, PF_XBTUSD (tick 1, lot 0.0001), matched against a fixed book (asks 91000 x 2, bids
90990 x 2); taker fee 0.05%, maker 0.02%, in USD. ``orders/status`` answers open orders and ones
closed within ``status_window_ms`` (Kraken: 5 s). A post order that would take answers
``postWouldExecute``; ``editorder``'s ``size`` is the new open size (Kraken's default).
``/api/history/v3/account-log`` serves ``logs`` (ids from 1) filtered by ``info``, ``since``,
``from``, ascending, ``count`` at most. Websocket ``/ws/v1``: ``book`` (snapshot then a message
per level, ``seq`` + 1 each; ``skip_next_seq`` makes a gap) and ``trade``; and the private feeds
``open_orders`` and ``fills`` as Kraken serves them (https://docs.kraken.com/api/docs/guides/futures-websockets):
``{"event": "challenge", "api_key"}`` answered with a UUID challenge (``Json Error`` without a key),
then each subscribe must carry this key, that socket's challenge and base64(HMAC-SHA512(
base64-decoded secret, SHA256(challenge))), else ``{"event": "alert", "message": "Failed to
subscribe to authenticated feed"}``. Accepted: ``subscribed``, a snapshot (``open_orders_snapshot``,
``fills_snapshot``), then an ``open_orders`` message for every change of the account's orders
(``qty`` the open size, as the recorded full fill shows it) and a ``fills`` message per fill.
``logins`` has one verdict per socket's first private subscribe; ``private`` the (socket, feed) pairs live.
``GET accounts``: the ``flex`` account as Kraken's page shows it
(https://docs.kraken.com/api-reference/account-information/get-wallets): ``currencies`` ``USD``
(``available``) and those in ``collateral``, each with ``quantity``, ``value``, ``collateral`` (after
a haircut), ``available``; the open position's unrealized P&L at the mid in ``pnl`` and
``portfolioValue`` only. ``PUT leveragepreferences`` (``symbol``, ``maxLeverage`` in the query, signed like a GET): the
preference is kept per contract in ``leverage``; an unknown contract is refused as Kraken does
(HTTP 500, ``errors: [{"code": 87, "message": "CONTRACT_DOES_NOT_EXIST"}]``), a leverage above
``max_leverage`` (the contract's first-tier 1 / initialMargin, 50) the same way with the
websocket API's words "Leverage exceeds the market's margin schedule" (the REST code for it is
not documented: none is sent).
Faults: ``slow_next_s`` (act, answer late), ``rate_limit_next`` (``apiLimitExceeded``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000"), Decimal("90990")
TAKER, MAKER = Decimal("0.0005"), Decimal("0.0002")
TICK, LOT = Decimal("1"), Decimal("0.0001")
PRIVATE_FEEDS = ("open_orders", "fills")
PRICE, HAIRCUT = {"XBT": Decimal("90995")}, {"XBT": Decimal("0.02")}     # flex collateral other than USD


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeKrakenFutures(FakeVenueServer):
    def __init__(self, api_key: str, secret_b64: str, instruments: list | None = None):
        super().__init__()
        self.api_key, self.secret = api_key, secret_b64
        self.instruments = instruments or []
        self.last_nonce = 0
        self.orders: dict[str, dict] = {}          # orderId -> order
        self.fills: list[dict] = []
        self.sent: list[dict] = []                 # sendorder parameters as received
        self.edits: list[dict] = []
        self.logs: list[dict] = []
        self.log_requests: list[dict] = []
        self.position = Decimal(0)
        self.entry = Decimal(0)
        self.available = Decimal("10000")            # the flex account's USD quantity (fees come out of it)
        self.collateral: dict[str, Decimal] = {}     # its other currencies, Kraken's names ("XBT": 0.25)
        self.status_window_ms = 5000
        self.slow_next_s = 0.0
        self.seq = 1000
        self.skip_next_seq = False
        self.subscriptions: list[dict] = []
        self.challenges: list[str] = []
        self.private_subscribes: list[dict] = []
        self.logins: list[bool] = []
        self.private: list[tuple] = []             # (socket, feed) of accepted private subscriptions
        self._ids = itertools.count(1)
        self._fill_seq = itertools.count(1)
        self._judged: set[int] = set()
        self.leverage: dict[str, int] = {}         # contract -> maxLeverage preference set
        self.max_leverage = 50

    # -- auth ---------------------------------------------------------------------------------------
    async def verify(self, request):
        post_data = await request.text() if request.method == "POST" else request.rel_url.raw_query_string
        if request.headers.get("APIKey") != self.api_key:
            return self.error("authenticationError")
        nonce = request.headers.get("Nonce", "")
        endpoint = request.path.removeprefix("/derivatives")
        digest = hashlib.sha256((post_data + nonce + endpoint).encode()).digest()
        expected = base64.b64encode(hmac.new(base64.b64decode(self.secret), digest, hashlib.sha512).digest()).decode()
        if not hmac.compare_digest(request.headers.get("Authent", ""), expected):
            return self.error("authenticationError")
        if not nonce.isdigit() or int(nonce) <= self.last_nonce:
            return self.error("nonceBelowThreshold")
        self.last_nonce = int(nonce)
        return dict(parse_qsl(post_data, keep_blank_values=True))

    def error(self, code: str):
        return web.json_response({"result": "error", "error": code, "serverTime": iso(self.now_ms())})

    def ok(self, **fields):
        return web.json_response({"result": "success", **fields, "serverTime": iso(self.now_ms())})

    def rate_limited(self):
        return self.error("apiLimitExceeded")

    @web.middleware
    async def slow(self, request, handler):
        response = await handler(request)
        if self.slow_next_s and request.method == "POST":
            delay, self.slow_next_s = self.slow_next_s, 0.0
            await asyncio.sleep(delay)
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults, self.slow])
        r, api = app.router, "/derivatives/api/v3"
        r.add_get("/ws/v1", self.ws)
        r.add_get(f"{api}/instruments", self.public_instruments)
        r.add_get(f"{api}/orderbook", self.public_orderbook)
        for name in ("accounts", "openpositions", "openorders", "fills"):
            r.add_get(f"{api}/{name}", getattr(self, f"get_{name}"))
        for name in ("sendorder", "editorder", "cancelorder"):
            r.add_post(f"{api}/{name}", getattr(self, name))
        r.add_post(f"{api}/orders/status", self.orders_status)
        r.add_put(f"{api}/leveragepreferences", self.leverage_preferences)
        r.add_get("/api/history/v3/account-log", self.account_log)
        return app

    # -- public -------------------------------------------------------------------------------------
    async def public_instruments(self, request):
        return self.ok(instruments=self.instruments)

    async def public_orderbook(self, request):
        return self.ok(orderBook={"bids": [[float(BID), 2.0], [90980.0, 3.0]], "asks": [[float(ASK), 2.0], [91010.0, 3.0]]})

    def refused_500(self, error: dict):
        return web.json_response({"status": "INTERNAL_SERVER_ERROR", "result": "error", "errors": [error],
                                  "serverTime": iso(self.now_ms())}, status=500)

    @signed
    async def leverage_preferences(self, request, p):
        symbol = p.get("symbol", "").upper()
        if symbol != "PF_XBTUSD" and symbol not in {i.get("symbol") for i in self.instruments}:
            return self.refused_500({"code": 87, "message": "CONTRACT_DOES_NOT_EXIST"})
        try:
            wanted = Decimal(p["maxLeverage"])
        except (KeyError, ArithmeticError):
            return self.error("requiredArgumentMissing")
        if wanted > self.max_leverage:
            return self.refused_500({"message": "Leverage exceeds the market's margin schedule"})
        self.leverage[symbol] = int(wanted)
        return self.ok()

    # -- account ------------------------------------------------------------------------------------
    @signed
    async def get_accounts(self, request, p):
        held = {"USD": self.available, **self.collateral}
        currencies = {c: {"quantity": float(q), "value": float(q * PRICE.get(c, 1)),
                          "collateral": float(q * PRICE.get(c, 1) * (1 - HAIRCUT.get(c, 0))), "available": float(q)}
                      for c, q in held.items()}
        balance_value = sum(q * PRICE.get(c, 1) for c, q in held.items())
        pnl = self.position * ((ASK + BID) / 2 - self.entry)            # the open position's, at the mid
        return self.ok(accounts={
            "cash": {"type": "cashAccount", "balances": {"xbt": 0.1, "usd": 5000.0}},
            "flex": {"type": "multiCollateralMarginAccount", "currencies": currencies,
                     "initialMargin": 0.0, "balanceValue": float(balance_value), "portfolioValue": float(balance_value + pnl),
                     "pnl": float(pnl), "unrealizedFunding": 0.0, "totalUnrealized": float(pnl),
                     "availableMargin": float(self.available), "marginEquity": float(self.available)}})

    @signed
    async def get_openpositions(self, request, p):
        rows = []
        if self.position:
            rows.append({"side": "long" if self.position > 0 else "short", "symbol": "PF_XBTUSD", "price": float(self.entry),
                         "fillTime": iso(self.now_ms()), "size": float(abs(self.position)), "unrealizedFunding": 0.0})
        rows.append({"side": "short", "symbol": "PI_XBTUSD", "price": 27523.7, "fillTime": iso(self.now_ms()),
                     "size": 8000.0, "unrealizedFunding": 0.0})           # an inverse position: not ours
        return self.ok(openPositions=rows)

    @signed
    async def get_openorders(self, request, p):
        return self.ok(openOrders=[{"order_id": o["orderId"], "cli_ord_id": o["cliOrdId"], "symbol": o["symbol"],
                                    "side": o["side"], "orderType": "lmt", "limitPrice": float(o["limitPrice"]),
                                    "unfilledSize": float(o["quantity"] - o["filled"]),
                                    "receivedTime": iso(o["ms"]), "lastUpdateTime": iso(o["ms"]),
                                    "status": "partiallyFilled" if o["filled"] else "untouched",
                                    "filledSize": float(o["filled"]), "reduceOnly": False}
                                   for o in self.orders.values() if o["state"] == "open"])

    @signed
    async def get_fills(self, request, p):
        return self.ok(fills=[{k: v for k, v in f.items() if k not in ("ms", "remaining")} for f in self.fills[-100:][::-1]])

    # -- orders -------------------------------------------------------------------------------------
    def _fill(self, o: dict, qty: Decimal, price: Decimal, maker: bool) -> None:
        fee = qty * price * (MAKER if maker else TAKER)
        self.fills.append({"fill_id": str(uuid.uuid4()), "symbol": o["symbol"], "side": o["side"], "order_id": o["orderId"],
                           "cliOrdId": o["cliOrdId"], "fillTime": iso(self.now_ms()), "size": float(qty),
                           "price": float(price), "fillType": "maker" if maker else "taker", "fee_paid": float(fee),
                           "fee_currency": "USD", "ms": self.now_ms(), "remaining": float(o["quantity"] - o["filled"] - qty)})
        self._push("fills", {"feed": "fills", "username": "fake-account", "fills": [self._ws_fill(self.fills[-1])]})
        signed_qty = qty if o["side"] == "buy" else -qty
        after = self.position + signed_qty
        if self.position == 0 or (self.position > 0) == (signed_qty > 0):
            self.entry = (self.entry * abs(self.position) + price * qty) / (abs(self.position) + qty)
        elif after and (after > 0) != (self.position > 0):
            self.entry = price                                         # flipped: the rest opened here
        self.position = after
        self.available -= fee
        o["filled"] += qty

    def _crosses(self, side: str, px: Decimal | None) -> bool:
        return px is None or (px >= ASK if side == "buy" else px <= BID)

    @signed
    async def sendorder(self, request, p):
        self.sent.append(p)
        if any(k not in p for k in ("orderType", "symbol", "side", "size")):
            return self.error("requiredArgumentMissing")
        status = lambda s, **kw: self.ok(sendStatus={"status": s, "receivedTime": iso(self.now_ms()), **kw})  # noqa: E731
        if p["symbol"] != "PF_XBTUSD":
            return self.error("contractNotFound")
        if len(p.get("cliOrdId", "")) > 100:
            return status("clientOrderIdTooLong")
        if any(o["cliOrdId"] == p.get("cliOrdId") and o["state"] == "open" for o in self.orders.values()):
            return status("clientOrderIdAlreadyExist")
        size = Decimal(p["size"])
        if size <= 0 or size % LOT:
            return status("invalidSize")
        px = Decimal(p["limitPrice"]) if p.get("limitPrice") else None
        if p["orderType"] != "mkt" and (px is None or px % TICK):
            return status("invalidPrice")
        if size * (px or ASK) > self.available * 50:
            return status("insufficientAvailableFunds")
        crosses = self._crosses(p["side"], px if p["orderType"] != "mkt" else None)
        if p["orderType"] == "post" and crosses:
            return status("postWouldExecute")
        if p["orderType"] == "ioc" and not crosses:
            return status("iocWouldNotExecute")
        order_id = str(uuid.uuid4())
        o = {"orderId": order_id, "cliOrdId": p.get("cliOrdId"), "symbol": p["symbol"], "side": p["side"],
             "quantity": size, "filled": Decimal(0), "limitPrice": px, "state": "open", "ms": self.now_ms(), "closed": 0}
        self.orders[order_id] = o
        if crosses:
            self._fill(o, min(size, Decimal(2)), ASK if p["side"] == "buy" else BID, maker=False)
        if o["filled"] == size:
            o.update(state="filled", closed=self.now_ms())
        elif p["orderType"] in ("ioc", "mkt"):
            o.update(state="cancelled", closed=self.now_ms())
        self._push_order(o, "full_fill" if o["state"] == "filled" else "partial_fill" if o["filled"] else
                         "new_placed_order_by_user" if o["state"] == "open" else "cancelled_by_user")
        return status("placed", order_id=order_id, cli_ord_id=o["cliOrdId"])

    def _open(self, cli_ord_id: str) -> dict | None:
        return next((o for o in self.orders.values() if o["cliOrdId"] == cli_ord_id and o["state"] == "open"), None)

    @signed
    async def cancelorder(self, request, p):
        o = self._open(p.get("cliOrdId", ""))
        if o is None:
            return self.ok(cancelStatus={"status": "notFound", "receivedTime": iso(self.now_ms())})
        o.update(state="cancelled", closed=self.now_ms())
        self._push_order(o, "cancelled_by_user")
        return self.ok(cancelStatus={"status": "cancelled", "order_id": o["orderId"], "cli_ord_id": o["cliOrdId"],
                                     "receivedTime": iso(self.now_ms())})

    @signed
    async def editorder(self, request, p):
        self.edits.append(p)
        o = self._open(p.get("cliOrdId", ""))
        if o is None:
            return self.ok(editStatus={"status": "orderForEditNotFound", "receivedTime": iso(self.now_ms())})
        px = Decimal(p["limitPrice"]) if p.get("limitPrice") else o["limitPrice"]
        if px % TICK:
            return self.ok(editStatus={"status": "invalidPrice", "orderId": o["orderId"], "receivedTime": iso(self.now_ms())})
        if self._crosses(o["side"], px):
            return self.ok(editStatus={"status": "postWouldExecute", "orderId": o["orderId"], "receivedTime": iso(self.now_ms())})
        o["limitPrice"] = px
        if p.get("size"):
            o["quantity"] = o["filled"] + Decimal(p["size"])             # size: the new open size
        self._push_order(o, "edited_by_user")
        return self.ok(editStatus={"status": "edited", "orderId": o["orderId"], "receivedTime": iso(self.now_ms())})

    @signed
    async def orders_status(self, request, p):
        wanted = set(p.get("cliOrdIds", "").split(","))
        status = {"open": "ENTERED_BOOK", "filled": "FULLY_EXECUTED", "cancelled": "CANCELLED"}
        rows = [{"order": {"type": "ORDER", "orderId": o["orderId"], "cliOrdId": o["cliOrdId"], "symbol": o["symbol"],
                           "side": o["side"], "quantity": float(o["quantity"]), "filled": float(o["filled"]),
                           "limitPrice": float(o["limitPrice"]) if o["limitPrice"] is not None else None,
                           "reduceOnly": False, "timestamp": iso(o["ms"]), "lastUpdateTimestamp": iso(self.now_ms())},
                 "status": status[o["state"]], "updateReason": None if o["state"] == "open" else "LOOKUP", "error": None}
                for o in self.orders.values()
                if o["cliOrdId"] in wanted and (o["state"] == "open" or self.now_ms() - o["closed"] <= self.status_window_ms)]
        return self.ok(orders=rows)

    def fill_resting(self, cli_ord_id: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee), from any thread."""
        def go():
            o = self._open(cli_ord_id)
            self._fill(o, Decimal(qty), o["limitPrice"], maker=True)
            if o["filled"] == o["quantity"]:
                o.update(state="filled", closed=self.now_ms())
            self._push_order(o, "full_fill" if o["state"] == "filled" else "partial_fill")
        self.soon(go)

    # -- history ------------------------------------------------------------------------------------
    def add_log(self, info: str, ms: int, realized_funding: float = 0.0, contract: str = "pf_xbtusd") -> dict:
        entry = {"id": next(self._ids), "date": iso(ms), "asset": "usd", "info": info, "booking_uid": str(uuid.uuid4()),
                 "margin_account": "flex", "old_balance": 1000.0, "new_balance": 1000.0 + realized_funding,
                 "contract": contract, "collateral": "usd", "fee": 0.0, "funding_rate": 1e-05,
                 "realized_funding": realized_funding, "realized_pnl": 0.0, "execution": ""}
        self.logs.append(entry)
        return entry

    @signed
    async def account_log(self, request, p):
        self.log_requests.append(p)
        rows = [e for e in self.logs
                if (not p.get("info") or e["info"] == p["info"])
                and (not p.get("since") or datetime.fromisoformat(e["date"].replace("Z", "+00:00")).timestamp() * 1000 >= int(p["since"]))
                and (not p.get("from") or e["id"] >= int(p["from"]))]
        rows.sort(key=lambda e: e["id"], reverse=p.get("sort") != "asc")
        return web.json_response({"accountUid": "f7d5571c-6d10-4cf1-944a-048d25682ed0", "logs": rows[:int(p.get("count", 500))]})

    # -- websocket ----------------------------------------------------------------------------------
    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"event": "info", "version": 1})
        challenge = None
        async for msg in ws:
            body = json.loads(msg.data)
            if body.get("event") == "challenge":
                challenge = await self._challenge(ws, body)
                continue
            if body.get("feed") in PRIVATE_FEEDS:
                await self._private_subscribe(ws, body, challenge)
                continue
            self.subscriptions.append(body)
            await ws.send_json({"event": body["event"] + "d", "feed": body["feed"], "product_ids": body["product_ids"]})
            if body["event"] != "subscribe":
                continue
            for product in body["product_ids"]:
                if body["feed"] == "book":
                    self.seq += 1
                    await ws.send_json({"feed": "book_snapshot", "product_id": product, "timestamp": self.now_ms(),
                                        "seq": self.seq, "tickSize": None,
                                        "bids": [{"price": 90990.0, "qty": 2.0}, {"price": 90980.0, "qty": 3.0}],
                                        "asks": [{"price": 91000.0, "qty": 2.0}, {"price": 91010.0, "qty": 0.0}]})
                else:
                    await ws.send_json({"feed": "trade_snapshot", "product_id": product, "trades": []})
        return ws

    def push_level(self, side: str, price: float, qty: float, product: str = "PF_XBTUSD") -> None:
        """One book message (``seq`` + 1; ``skip_next_seq`` loses one first), from any thread."""
        def go():
            self.seq += 2 if self.skip_next_seq else 1
            self.skip_next_seq = False
            self.broadcast({"feed": "book", "product_id": product, "side": side, "seq": self.seq, "price": price,
                            "qty": qty, "timestamp": self.now_ms()})
        self.soon(go)

    def push_trade(self, side: str, price: float, qty: float, kind: str = "fill", product: str = "PF_XBTUSD") -> None:
        self.broadcast({"feed": "trade", "product_id": product, "uid": str(uuid.uuid4()), "side": side, "type": kind,
                        "seq": self.seq, "time": self.now_ms(), "qty": qty, "price": price})

    # -- private websocket feeds ----------------------------------------------------------------------
    async def _challenge(self, ws, body: dict) -> str | None:
        if not body.get("api_key"):
            await ws.send_json({"event": "error", "message": "Json Error"})
            return None
        challenge = str(uuid.uuid4())
        self.challenges.append(challenge)
        await ws.send_json({"event": "challenge", "message": challenge})
        return challenge

    def signed(self, challenge: str) -> str:
        digest = hashlib.sha256(challenge.encode()).digest()
        return base64.b64encode(hmac.new(base64.b64decode(self.secret), digest, hashlib.sha512).digest()).decode()

    async def _private_subscribe(self, ws, body: dict, challenge: str | None) -> None:
        self.private_subscribes.append(body)
        ok = (body.get("event") == "subscribe" and body.get("api_key") == self.api_key and challenge is not None
              and body.get("original_challenge") == challenge
              and hmac.compare_digest(str(body.get("signed_challenge", "")), self.signed(challenge)))
        if id(ws) not in self._judged:                              # one verdict per socket
            self._judged.add(id(ws))
            self.logins.append(ok)
        if not ok:
            await ws.send_json({"event": "alert", "message": "Failed to subscribe to authenticated feed"})
            return
        feed = body["feed"]
        await ws.send_json({"event": "subscribed", "feed": feed,
                            **{k: body[k] for k in ("api_key", "original_challenge", "signed_challenge")}})
        if feed == "open_orders":
            await ws.send_json({"feed": "open_orders_snapshot", "account": "fake-account",
                                "orders": [self._ws_order(o) for o in self.orders.values() if o["state"] == "open"]})
        else:
            await ws.send_json({"feed": "fills_snapshot", "account": "fake-account", "fills": [self._ws_fill(f) for f in self.fills]})
        self.private.append((ws, feed))

    def _push(self, feed: str, message: dict) -> None:
        """To every socket subscribed to ``feed`` (on the server's loop)."""
        for ws, f in self.private:
            if f == feed and not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def _ws_order(self, o: dict) -> dict:
        return {"instrument": o["symbol"], "time": o["ms"], "last_update_time": self.now_ms(),
                "qty": float(o["quantity"] - o["filled"]), "filled": float(o["filled"]),
                "limit_price": float(o["limitPrice"]) if o["limitPrice"] is not None else None, "stop_price": 0.0,
                "type": "limit", "order_id": o["orderId"], "cli_ord_id": o["cliOrdId"],
                "direction": 0 if o["side"] == "buy" else 1, "reduce_only": False}

    def _push_order(self, o: dict, reason: str) -> None:
        if o["state"] == "cancelled" and reason == "cancelled_by_user":       # a cancel names the order only
            message = {"feed": "open_orders", "order_id": o["orderId"], "cli_ord_id": o["cliOrdId"], "is_cancel": True,
                       "reason": reason}
        else:
            message = {"feed": "open_orders", "order": self._ws_order(o), "is_cancel": o["state"] != "open", "reason": reason}
        self._push("open_orders", message)

    def _ws_fill(self, f: dict) -> dict:
        return {"instrument": f["symbol"], "time": f["ms"], "price": f["price"], "seq": next(self._fill_seq),
                "buy": f["side"] == "buy", "qty": f["size"], "remaining_order_qty": f["remaining"],
                "order_id": f["order_id"], "cli_ord_id": f["cliOrdId"], "fill_id": f["fill_id"], "fill_type": f["fillType"],
                "fee_paid": f["fee_paid"], "fee_currency": f["fee_currency"], "taker_order_type": "limit", "order_type": "limit"}
