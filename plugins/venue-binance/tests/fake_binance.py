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
for every order change; ``fill_resting()`` fills a resting order as a taker would. An order that
expires says why, as Binance has since 2026-03-26: ``expiryReason`` in its REST answers and ``eR``
in its execution reports (IOC remainder ``UNFILLED_IOC_QUANTITY_EXPIRED``, MARKET remainder
``INSUFFICIENT_LIQUIDITY``); ``legacy_reports`` leaves both out (the shape before).
Spot account (``GET /api/v3/account``): ``balances`` rows ``{"asset", "free", "locked"}`` for BTC
(``spot_btc``, 1.0) and USDT (``spot_usdt``, 100000) free, each fill moving them as Binance does
(a buy's commission out of the BTC received, a sell's out of the USDT); ``spot_locked`` gives an
asset's ``locked`` (resting orders here lock nothing by themselves).
``server_shutdown()`` sends ``serverShutdown`` on the spot market sockets (``{"e", "E"}``) and the
WebSocket API sessions (``{"event": {"e", "E"}}``) without closing them, as Binance does before it
shuts a server down (sent since 2026-05-08).
USD-M futures (``/fapi/...``, the same signature check, its own ``X-MBX-USED-WEIGHT-1M``
count): ``POST/PUT/GET/DELETE /fapi/v1/order`` (RESULT answers; LIMIT GTC/IOC/GTX and MARKET
against a fixed book asks 91000.0, bids 90990.0, 2 BTC each; GTX that would take -5022;
tick, step, minimum quantity and notional checked as Binance does; -4116 for a client id
already open), ``openOrders``, ``userTrades`` (USDT commission: taker 0.05%, maker 0.02%),
``/fapi/v3/balance``, ``/fapi/v3/positionRisk`` (one-way netting at average entry; a test may
set ``position_rows`` to a recorded answer), ``positionSide/dual`` (``dual_side``),
``POST /fapi/v1/leverage`` (``symbol``, ``leverage`` an int from 1 to the symbol's first bracket's
``initialLeverage``, 125 for BTCUSDT and 100 for ETHUSDT, else -4028 "Leverage N is not valid";
``f_leverage`` holds each symbol's, 20 until set, which the margin check uses, and
``f_leverage_sets`` records each accepted call as (symbol, leverage, how many perp orders had
been placed before it)), ``GET /fapi/v1/leverageBracket?symbol=`` (that symbol's brackets),
``/fapi/v1/depth`` and ``exchangeInfo``. ``futures_refused`` answers -2015 on signed futures
calls and on listenKey requests (a key without futures permission); ``fill_resting_perp()``
fills a resting perp order.
USD-M market websocket at ``/public/ws`` (SUBSCRIBE, ``depthUpdate`` with U/u/pu for the one perp
book, BTCUSDT): ``push_perp_depth()`` changes the book and sends the event; update ids advance by
more than the event's own (other books take ids in between, as on Binance, so ``U`` > ``pu`` + 1)
and ``GET /fapi/v1/depth`` answers ``lastUpdateId`` = the last event's ``u`` (a snapshot taken
between two events); ``push_perp_depth(..., lost=True)`` changes the book without sending (the
next event's ``pu`` then names an event the client never had). USD-M trades at ``/market/ws``
(SUBSCRIBE to ``@aggTrade`` only there, as on Binance's split routes): ``push_perp_trade()``.
USD-M user data:
``POST/PUT/DELETE /fapi/v1/listenKey`` (the API key header, no signature; one key per account,
a POST returns the active one), the private websocket at
``/private/ws?listenKey=...&events=ORDER_TRADE_UPDATE`` (a key it did not issue: the handshake is
refused with -1125, the fake's choice), and an ``ORDER_TRADE_UPDATE`` for every perp order
change made through its REST API or ``fill_resting_perp()`` (a TRADE's ``t``, ``L``, ``l``,
``n``, ``N``, ``m``, ``T`` are the ``userTrades`` row's ``id``, ``price``, ``qty``,
``commission``, ``commissionAsset``, ``maker``, ``time``); ``expire_listen_key()`` drops the key
and pushes ``listenKeyExpired``. Each kind of socket has its own list (``spot_market``,
``f_market``, ``private``, ``f_private``); ``drop_sockets()`` closes them all.
USD-M income: ``GET /fapi/v1/income`` (signed) serves ``f_income`` rows as Binance documents them
(Get Income History): filtered by ``incomeType`` and ``symbol``, ``startTime``/``endTime`` in ms
both inclusive (neither: the last 7 days; only one: open on the other side, the fake's choice),
oldest first, the first ``limit`` of them (default 100, over 1000 refused with -1130); ``page`` is
not served. ``book_funding()`` adds a row; ``settle_funding(rate)`` books one funding round on the
open positions (funding = position value x rate, a positive rate paid by longs to shorts, as
Binance's futures FAQ has it, quoted at https://docs.traderwagon.com/faq/futures-trading-introduction/funding-fee),
so income = -size x mark x rate, the mark being the fake book's mid.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
from decimal import Decimal
from urllib.parse import parse_qsl

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed

ASK, BID = Decimal("91000.00"), Decimal("90990.00")
PERP_SPECS = {"BTCUSDT": (Decimal("0.1"), Decimal("0.001"), Decimal("0.001"), Decimal("100")),   # tick, step, min qty, notional
              "ETHUSDT": (Decimal("0.01"), Decimal("0.001"), Decimal("0.001"), Decimal("20"))}
LEVERAGE = Decimal(20)                      # an account's leverage on a symbol until it is set
MAX_LEVERAGE = {"BTCUSDT": 125, "ETHUSDT": 100}  # the first bracket's initialLeverage
OTHER_BOOKS_IDS = 4          # update ids other USD-M books take between two events of this one


class FuturesDesk:
    """The USD-M half of the fake (a mixin: ``verify``, ``error``, ``now_ms`` and ``_ids`` are FakeBinance's)."""

    def futures_state(self) -> None:
        self.f_orders: dict[str, dict] = {}
        self.f_trades: dict[int, list] = {}
        self.f_positions: dict[str, list] = {}          # symbol -> [signed amount, entry price]
        self.f_wallet = Decimal("50000")
        self.spot_usdt = "100000"                  # the spot wallet's free USDT (apart from f_wallet)
        self.spot_btc = "1.0"                      # ... and free BTC
        self.spot_locked: dict[str, str] = {}      # asset -> its "locked" (in open orders)
        self.f_weight = 0
        self.f_asks = {Decimal("91000.0"): Decimal("2"), Decimal("91010.0"): Decimal("3")}
        self.f_bids = {Decimal("90990.0"): Decimal("2"), Decimal("90980.0"): Decimal("3")}
        self.dual_side = False
        self.f_leverage: dict[str, Decimal] = {}
        self.f_leverage_sets: list[tuple[str, int, int]] = []
        self.futures_refused = False
        self.position_rows = None                        # a recorded positionRisk answer to serve instead
        self.f_requests: list[dict] = []                 # verified params of each signed futures call
        self.f_last_u = 7000                              # the perp book's last update id
        self.f_depth_requests = 0
        self.f_depth_limits: list[int] = []
        self.f_market: list = []                          # /public/ws sockets
        self.f_subscriptions: list[list[str]] = []
        self.f_trade_sockets: list = []                   # /market/ws sockets
        self.f_trade_subscriptions: list[list[str]] = []
        self.f_listen_key: str | None = None
        self.f_key_posts = 0
        self.f_keepalives = 0
        self.f_private: list = []                         # /private/ws sockets with a valid key
        self.f_logins: list[bool] = []                    # each private handshake: a key it issued?
        self.f_events: list[str] = []                     # the events= each private socket asked for
        self.f_income: list[dict] = []                    # /fapi/v1/income rows
        self._tran_ids = itertools.count(6725918796342150260, 7919)   # Binance's tranIds run past 2^53

    def futures_routes(self, app) -> None:
        r = app.router
        r.add_get("/fapi/v1/ping", self.ping)
        r.add_get("/fapi/v1/time", self.time)
        r.add_get("/fapi/v1/depth", self.f_depth)
        r.add_get("/fapi/v1/exchangeInfo", self.f_exchange_info)
        r.add_post("/fapi/v1/order", self.f_new_order)
        r.add_put("/fapi/v1/order", self.f_modify)
        r.add_get("/fapi/v1/order", self.f_query)
        r.add_delete("/fapi/v1/order", self.f_cancel)
        r.add_get("/fapi/v1/openOrders", self.f_open_orders)
        r.add_get("/fapi/v1/userTrades", self.f_user_trades)
        r.add_get("/fapi/v3/balance", self.f_balance)
        r.add_get("/fapi/v3/positionRisk", self.f_position_risk)
        r.add_get("/fapi/v1/positionSide/dual", self.f_dual)
        r.add_post("/fapi/v1/leverage", self.f_set_leverage)
        r.add_get("/fapi/v1/leverageBracket", self.f_leverage_bracket)
        r.add_get("/fapi/v1/income", self.f_income_history)
        r.add_post("/fapi/v1/listenKey", self.f_listen_key_post)
        r.add_put("/fapi/v1/listenKey", self.f_listen_key_put)
        r.add_delete("/fapi/v1/listenKey", self.f_listen_key_delete)
        r.add_get("/public/ws", self.f_public_ws)
        r.add_get("/market/ws", self.f_market_ws)
        r.add_get("/private/ws", self.f_private_ws)

    def f_verify(self, request):
        p = self.verify(request)
        if isinstance(p, dict):
            if self.futures_refused:
                return self.error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            self.f_requests.append({**p, "_path": request.path, "_method": request.method})
        return p

    def _touch(self, side: str) -> Decimal:
        return min(self.f_asks) if side == "BUY" else max(self.f_bids)

    def _refusal(self, p: dict, qty: Decimal, price: Decimal | None):
        """Binance's own checks, in its words: filters, position side, margin, post-only."""
        tick, step, min_qty, notional = PERP_SPECS.get(p["symbol"], (None,) * 4)
        if tick is None:
            return self.error(400, -1121, "Invalid symbol.")
        if qty <= 0:
            return self.error(400, -4003, "Quantity less than or equal to zero.")
        if qty % step:
            return self.error(400, -1111, "Precision is over the maximum defined for this asset.")
        if qty < min_qty:
            return self.error(400, -4004, "Quantity less than min quantity.")
        if price is not None and price % tick:
            return self.error(400, -4014, "Price not increased by tick size.")
        if qty * (price or self._touch(p["side"])) < notional:
            return self.error(400, -4164, f"Order's notional must be no smaller than {notional} (unless you choose reduce only).")
        if self.dual_side and p.get("positionSide", "BOTH") == "BOTH":
            return self.error(400, -4061, "Order's position side does not match user's setting.")
        if qty * (price or self._touch(p["side"])) / self.f_leverage.get(p["symbol"], LEVERAGE) > self.f_wallet:
            return self.error(400, -2019, "Margin is insufficient.")
        return None

    async def f_new_order(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        cid, qty, kind = p["newClientOrderId"], Decimal(p["quantity"]), p["type"]
        price = Decimal(p["price"]) if "price" in p else None
        if cid in self.f_orders and self.f_orders[cid]["status"] in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -4116, "clientOrderId is duplicated.")
        refused = self._refusal(p, qty, price)
        if refused is not None:
            return refused
        side, tif = p["side"], p.get("timeInForce", "GTC")
        touch = self._touch(side)
        crosses = price is None or (price >= touch if side == "BUY" else price <= touch)
        if tif == "GTX" and crosses:
            return self.error(400, -5022, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
        now = self.now_ms()
        order = {"orderId": next(self._ids), "symbol": p["symbol"], "status": "NEW", "clientOrderId": cid,
                 "price": str(price or 0), "avgPrice": "0", "origQty": str(qty), "executedQty": "0", "cumQuote": "0",
                 "timeInForce": tif, "type": kind, "reduceOnly": False, "closePosition": False, "side": side,
                 "positionSide": "BOTH", "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
                 "origType": kind, "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0,
                 "updateTime": now}
        self.f_orders[cid] = order
        self._f_report(order, "NEW")
        if crosses:
            self._perp_fill(order, min(qty, Decimal(2)), touch, maker=False)
            if Decimal(order["executedQty"]) < qty and (kind == "MARKET" or tif == "IOC"):
                order["status"] = "EXPIRED"
                self._f_report(order, "EXPIRED")
        elif tif == "IOC":
            order["status"] = "EXPIRED"
            self._f_report(order, "EXPIRED")
        return web.json_response(order)

    def _perp_fill(self, order: dict, qty: Decimal, price: Decimal, maker: bool) -> None:
        fee = qty * price * (Decimal("0.0002") if maker else Decimal("0.0005"))
        realized = self._book_position(order["symbol"], order["side"], qty, price)
        self.f_wallet += realized - fee
        trade = {"symbol": order["symbol"], "id": next(self._ids), "orderId": order["orderId"], "side": order["side"],
                 "price": str(price), "qty": str(qty), "realizedPnl": str(realized), "marginAsset": "USDT",
                 "quoteQty": str(qty * price), "commission": str(fee), "commissionAsset": "USDT", "time": self.now_ms(),
                 "positionSide": "BOTH", "buyer": order["side"] == "BUY", "maker": maker}
        self.f_trades.setdefault(order["orderId"], []).append(trade)
        done = Decimal(order["executedQty"]) + qty
        order.update(executedQty=str(done), avgPrice=str(price), cumQuote=str(Decimal(order["cumQuote"]) + qty * price),
                     updateTime=trade["time"], status="FILLED" if done >= Decimal(order["origQty"]) else "PARTIALLY_FILLED")
        self._f_report(order, "TRADE", trade)

    def _book_position(self, symbol: str, side: str, qty: Decimal, price: Decimal) -> Decimal:
        """One-way netting at average entry; the realized P&L of the part that closes."""
        amt, entry = self.f_positions.get(symbol, [Decimal(0), Decimal(0)])
        signed = qty if side == "BUY" else -qty
        if amt == 0 or (amt > 0) == (signed > 0):
            entry = (amt * entry + signed * price) / (amt + signed)
            self.f_positions[symbol] = [amt + signed, entry]
            return Decimal(0)
        closing = min(abs(signed), abs(amt))
        realized = closing * (price - entry) * (1 if amt > 0 else -1)
        left = amt + signed
        self.f_positions[symbol] = [left, entry if (left > 0) == (amt > 0) and left else (price if left else Decimal(0))]
        return realized

    def fill_resting_perp(self, cid: str, qty: str) -> None:
        """A taker hits our resting perp order for ``qty`` at its price (maker fee 0.02%), from any thread."""
        self.soon(lambda: self._perp_fill(self.f_orders[cid], Decimal(qty), Decimal(self.f_orders[cid]["price"]), maker=True))

    async def f_modify(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        order = self.f_orders.get(p.get("origClientOrderId", ""))
        if order is None or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -2013, "Order does not exist.")
        qty, price = Decimal(p["quantity"]), Decimal(p["price"])
        if order["type"] != "LIMIT":
            return self.error(400, -5025, "Only limit order is supported.")
        if p["side"] != order["side"]:
            return self.error(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        if price % PERP_SPECS[order["symbol"]][0]:
            return self.error(400, -4014, "Price not increased by tick size.")
        if (qty, price) == (Decimal(order["origQty"]), Decimal(order["price"])):
            return self.error(400, -5027, "No need to modify the order.")
        touch = self._touch(order["side"])
        crosses = price >= touch if order["side"] == "BUY" else price <= touch
        if qty <= Decimal(order["executedQty"]) or (order["timeInForce"] == "GTX" and crosses):
            order["status"] = "CANCELED"                 # Binance cancels the order in these two cases
        else:
            order.update(price=str(price), origQty=str(qty))
        order["updateTime"] = self.now_ms()
        self._f_report(order, "CANCELED" if order["status"] == "CANCELED" else "AMENDMENT")
        return web.json_response(order)

    async def f_query(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        order = self.f_orders.get(p.get("origClientOrderId", ""))
        return web.json_response(order) if order else self.error(400, -2013, "Order does not exist.")

    async def f_cancel(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        order = self.f_orders.get(p.get("origClientOrderId", ""))
        if order is None or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return self.error(400, -2011, "Unknown order sent.")
        order.update(status="CANCELED", updateTime=self.now_ms())
        self._f_report(order, "CANCELED")
        return web.json_response(order)

    async def f_open_orders(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        return web.json_response([o for o in self.f_orders.values()
                                  if o["symbol"] == p["symbol"] and o["status"] in ("NEW", "PARTIALLY_FILLED")])

    async def f_user_trades(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        return web.json_response(self.f_trades.get(int(p["orderId"]), []))

    async def f_balance(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        margin = sum((abs(a) * e / LEVERAGE for a, e in self.f_positions.values()), Decimal(0))
        return web.json_response([{"accountAlias": "SgsR", "asset": "USDT", "balance": str(self.f_wallet),
                                   "crossWalletBalance": str(self.f_wallet), "crossUnPnl": "0",
                                   "availableBalance": str(self.f_wallet - margin), "maxWithdrawAmount": str(self.f_wallet - margin),
                                   "marginAvailable": True, "updateTime": self.now_ms()}])

    async def f_position_risk(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        if self.position_rows is not None:
            return web.json_response(self.position_rows)
        mark = (min(self.f_asks) + max(self.f_bids)) / 2
        return web.json_response([
            {"symbol": s, "positionSide": "BOTH", "positionAmt": str(a), "entryPrice": str(e), "breakEvenPrice": str(e),
             "markPrice": str(mark), "unRealizedProfit": str((mark - e) * a), "liquidationPrice": "0", "isolatedMargin": "0",
             "notional": str(mark * a), "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": str(abs(mark * a) / LEVERAGE),
             "maintMargin": "0", "positionInitialMargin": str(abs(mark * a) / LEVERAGE), "openOrderInitialMargin": "0",
             "adl": 0, "bidNotional": "0", "askNotional": "0", "updateTime": self.now_ms()}
            for s, (a, e) in self.f_positions.items() if a])

    async def f_dual(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        return web.json_response({"dualSidePosition": self.dual_side})

    async def f_set_leverage(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        symbol, leverage = p.get("symbol", ""), p.get("leverage", "")
        if symbol not in MAX_LEVERAGE:
            return self.error(400, -1121, "Invalid symbol.")
        if not leverage.isdigit() or not 1 <= int(leverage) <= MAX_LEVERAGE[symbol]:
            return self.error(400, -4028, f"Leverage {leverage} is not valid")
        self.f_leverage[symbol] = Decimal(leverage)
        self.f_leverage_sets.append((symbol, int(leverage), len(self.f_orders)))
        return web.json_response({"leverage": int(leverage), "maxNotionalValue": "1000000", "symbol": symbol})

    async def f_leverage_bracket(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        def row(symbol):
            top = MAX_LEVERAGE[symbol]
            return {"symbol": symbol, "brackets": [
                {"bracket": 1, "initialLeverage": top, "notionalCap": 300000, "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0},
                {"bracket": 2, "initialLeverage": top // 2, "notionalCap": 800000, "notionalFloor": 300000,
                 "maintMarginRatio": 0.005, "cum": 300.0}]}
        if "symbol" in p:
            return web.json_response(row(p["symbol"])) if p["symbol"] in MAX_LEVERAGE else self.error(400, -1121, "Invalid symbol.")
        return web.json_response([row(s) for s in MAX_LEVERAGE])

    async def f_income_history(self, request):
        p = self.f_verify(request)
        if not isinstance(p, dict):
            return p
        limit = int(p.get("limit", 100))
        if not 1 <= limit <= 1000:
            return self.error(400, -1130, "Data sent for parameter 'limit' is not valid.")
        now = self.now_ms()
        start, end = int(p.get("startTime", 0)), int(p.get("endTime", now))
        if "startTime" not in p and "endTime" not in p:
            start = now - 7 * 86_400_000
        rows = [r for r in self.f_income if start <= r["time"] <= end and p.get("incomeType", r["incomeType"]) == r["incomeType"]
                and p.get("symbol", r["symbol"]) == r["symbol"]]
        return web.json_response(sorted(rows, key=lambda r: (r["time"], r["tranId"]))[:limit])

    def book_funding(self, symbol: str, income: str, time_ms: int | None = None, asset: str = "USDT") -> dict:
        """One FUNDING_FEE income row (``income`` signed: received > 0), at ``time_ms`` or now."""
        row = {"symbol": symbol, "incomeType": "FUNDING_FEE", "income": income, "asset": asset, "info": "FUNDING_FEE",
               "time": self.now_ms() if time_ms is None else time_ms, "tranId": next(self._tran_ids), "tradeId": ""}
        self.f_income.append(row)
        if asset == "USDT":
            self.f_wallet += Decimal(income)
        return row

    def settle_funding(self, rate: str) -> list[dict]:
        """A funding round at ``rate`` on every open position at the mid (longs pay a positive rate)."""
        mark = (min(self.f_asks) + max(self.f_bids)) / 2
        return [self.book_funding(s, f"{-a * mark * Decimal(rate):.8f}") for s, (a, _) in self.f_positions.items() if a]

    async def f_depth(self, request):
        self.f_depth_requests += 1
        self.f_depth_limits.append(int(request.query.get("limit", 0)))
        return web.json_response({"lastUpdateId": self.f_last_u, "E": self.now_ms(), "T": self.now_ms(),
                                  "bids": [[f"{p:.2f}", f"{q:.3f}"] for p, q in sorted(self.f_bids.items(), reverse=True)],
                                  "asks": [[f"{p:.2f}", f"{q:.3f}"] for p, q in sorted(self.f_asks.items())]})

    async def f_exchange_info(self, request):
        return web.json_response({"futuresType": "U_MARGINED", "symbols": [
            {"symbol": s, "pair": s, "contractType": "PERPETUAL", "status": "TRADING", "baseAsset": s[:-4], "quoteAsset": "USDT",
             "marginAsset": "USDT", "filters": [{"filterType": "PRICE_FILTER", "tickSize": str(tick)},
                                                {"filterType": "LOT_SIZE", "stepSize": str(step), "minQty": str(min_qty)},
                                                {"filterType": "MIN_NOTIONAL", "notional": str(notional)}]}
            for s, (tick, step, min_qty, notional) in PERP_SPECS.items()]})

    # -- USD-M websockets ----------------------------------------------------------------------
    async def f_public_ws(self, request):
        return await self._usdm_ws(request, self.f_market, self.f_subscriptions)

    async def f_market_ws(self, request):
        return await self._usdm_ws(request, self.f_trade_sockets, self.f_trade_subscriptions)

    async def _usdm_ws(self, request, sockets: list, subscriptions: list):
        """A USD-M route's socket: kept in *sockets*, each SUBSCRIBE's streams in *subscriptions*."""
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.append(ws)
        sockets.append(ws)
        async for msg in ws:
            body = msg.json()
            if body.get("method") == "SUBSCRIBE":
                subscriptions.append(body["params"])
                await ws.send_json({"result": None, "id": body["id"]})
        return ws


    def push_perp_trade(self, price: str, qty: str, buyer_maker: bool) -> None:
        """A BTCUSDT ``aggTrade`` on the ``/market`` route, from any thread."""
        def go():
            now = self.now_ms()
            self._send_to(self.f_trade_sockets, {"e": "aggTrade", "E": now, "s": "BTCUSDT", "a": next(self._ids), "p": price,
                                                 "q": qty, "f": 100, "l": 105, "T": now, "m": buyer_maker})
        self.soon(go)

    def push_perp_depth(self, bids=(), asks=(), lost: bool = False) -> None:
        """Change the perp book and send its ``depthUpdate`` (not when ``lost``), from any thread."""
        def go():
            first = self.f_last_u + 1 + OTHER_BOOKS_IDS
            event = {"e": "depthUpdate", "E": self.now_ms(), "T": self.now_ms(), "s": "BTCUSDT", "U": first,
                     "u": first + 2, "pu": self.f_last_u, "b": [[str(p), str(q)] for p, q in bids],
                     "a": [[str(p), str(q)] for p, q in asks]}
            self.f_last_u = first + 2
            for side, changes in ((self.f_bids, bids), (self.f_asks, asks)):
                for p, q in changes:
                    if Decimal(q):
                        side[Decimal(p)] = Decimal(q)
                    else:
                        side.pop(Decimal(p), None)
            if not lost:
                self._send_to(self.f_market, event)
        self.soon(go)

    def _send_to(self, sockets: list, message: dict) -> None:
        for ws in sockets:
            if not ws.closed:
                asyncio.ensure_future(ws.send_json(message))

    def _key_refused(self, request):
        if request.headers.get("X-MBX-APIKEY") != self.api_key or self.futures_refused:
            return self.error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        return None

    async def f_listen_key_post(self, request):
        refused = self._key_refused(request)
        if refused is not None:
            return refused
        self.f_key_posts += 1
        if self.f_listen_key is None:
            self.f_listen_key = f"fakeUsdmListenKey{next(self._ids):06d}"
        return web.json_response({"listenKey": self.f_listen_key})

    async def f_listen_key_put(self, request):
        refused = self._key_refused(request)
        if refused is not None:
            return refused
        if self.f_listen_key is None:
            return self.error(400, -1125, "This listenKey does not exist.")
        self.f_keepalives += 1
        return web.json_response({"listenKey": self.f_listen_key})

    async def f_listen_key_delete(self, request):
        refused = self._key_refused(request)
        if refused is not None:
            return refused
        self.f_listen_key = None
        return web.json_response({})

    async def f_private_ws(self, request):
        key = request.query.get("listenKey")
        self.f_logins.append(key is not None and key == self.f_listen_key)
        if not self.f_logins[-1]:
            return self.error(400, -1125, "This listenKey does not exist.")
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.append(ws)
        self.f_private.append(ws)
        self.f_events.append(request.query.get("events", ""))
        async for _ in ws:
            pass
        return ws

    def expire_listen_key(self) -> None:
        """The key expires: Binance pushes ``listenKeyExpired`` (``E`` a string) and sends nothing more."""
        def go():
            key, self.f_listen_key = self.f_listen_key, None
            self._send_to(self.f_private, {"e": "listenKeyExpired", "E": str(self.now_ms()), "listenKey": key})
            self.f_private.clear()
        self.soon(go)

    def _f_report(self, order: dict, execution: str, trade: dict | None = None) -> None:
        """An ``ORDER_TRADE_UPDATE`` for this change to every private socket (server loop)."""
        now = self.now_ms()
        o = {"s": order["symbol"], "c": order["clientOrderId"], "S": order["side"], "o": order["type"],
             "f": order["timeInForce"], "q": order["origQty"], "p": order["price"], "ap": order["avgPrice"], "sp": "0",
             "x": execution, "X": order["status"], "i": order["orderId"], "l": "0", "z": order["executedQty"], "L": "0",
             "T": now, "t": 0, "b": "0", "a": "0", "m": False, "R": False, "wt": "CONTRACT_PRICE", "ot": order["type"],
             "ps": "BOTH", "cp": False, "rp": "0", "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE",
             "gtd": 0}
        if trade:
            o.update(l=trade["qty"], L=trade["price"], N=trade["commissionAsset"], n=trade["commission"], T=trade["time"],
                     t=trade["id"], m=trade["maker"], rp=trade["realizedPnl"])
        self._send_to(self.f_private, {"e": "ORDER_TRADE_UPDATE", "E": now, "T": o["T"], "o": o})


class FakeBinance(FuturesDesk, FakeVenueServer):
    def __init__(self, api_key: str, secret: str):
        super().__init__()
        self.futures_state()
        self.api_key, self.secret = api_key, secret
        self.orders: dict[str, dict] = {}
        self.trades: dict[int, list] = {}
        self.post_503_next = 0
        self._ids = itertools.count(1000)
        self.update_id = 5000                 # the book's last update id
        self.bids = {Decimal("90990.00"): Decimal("2"), Decimal("90980.00"): Decimal("3")}
        self.asks = {Decimal("91000.00"): Decimal("2"), Decimal("91010.00"): Decimal("3")}
        self.subscriptions: list[list[str]] = []
        self.spot_market: list = []           # /ws sockets
        self.skip_next_update = 0
        self.used_weight = 0
        self.private: list = []               # WebSocket API sessions subscribed to user data
        self.logins: list[bool] = []
        self.depth_requests = 0
        self.legacy_reports = False           # no expiryReason / eR (Binance before 2026-03-26)

    # -- protocol -----------------------------------------------------------------------------
    def error(self, status: int, code: int, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg}, status=status)

    def verify(self, request) -> dict | web.Response:
        query = request.rel_url.raw_query_string       # as sent: Binance signs the exact query
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
        if isinstance(response, web.WebSocketResponse):
            return response
        if request.path.startswith("/fapi/"):          # USD-M counts its own weight
            self.f_weight += 1
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.f_weight)
        else:
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
        self.futures_routes(app)
        return app

    async def ping(self, request):
        return web.json_response({})

    async def time(self, request):
        return web.json_response({"serverTime": self.now_ms()})

    @signed
    async def account(self, request, p):
        return web.json_response({"balances": [{"asset": a, "free": free, "locked": self.spot_locked.get(a, "0")}
                                               for a, free in (("BTC", self.spot_btc), ("USDT", self.spot_usdt))]})

    def _settle_spot(self, side: str, qty: Decimal, price: Decimal, commission: Decimal, asset: str) -> None:
        """A spot fill moves the free balances: base for quote, less the commission in its asset."""
        sign = 1 if side == "BUY" else -1
        btc = Decimal(self.spot_btc) + sign * qty - (commission if asset == "BTC" else 0)
        usdt = Decimal(self.spot_usdt) - sign * qty * price - (commission if asset == "USDT" else 0)
        self.spot_btc, self.spot_usdt = str(btc), str(usdt)

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
            self._settle_spot(side, fill_qty, touch, commission, asset)
            order["status"] = "FILLED" if fill_qty == qty else ("EXPIRED" if p.get("timeInForce") == "IOC" or kind == "MARKET" else "PARTIALLY_FILLED")
        elif p.get("timeInForce") == "IOC":
            order["status"] = "EXPIRED"
        if order["status"] == "EXPIRED" and not self.legacy_reports:
            order["expiryReason"] = "INSUFFICIENT_LIQUIDITY" if kind == "MARKET" else "UNFILLED_IOC_QUANTITY_EXPIRED"
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
        self.spot_market.append(ws)
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
        event = {"e": "executionReport", "E": self.now_ms(), "s": order["symbol"], "c": order["clientOrderId"],
                 "S": order["side"], "o": order["type"], "q": order["origQty"], "p": order["price"], "C": "",
                 "x": execution, "X": order["status"], "r": "NONE", "i": order["orderId"], "z": order["executedQty"],
                 "l": "0", "L": "0", "n": "0", "N": None, "T": self.now_ms(), "t": -1, "m": False}
        if trade:
            event.update(l=trade["qty"], L=trade["price"], n=trade["commission"], N=trade["commissionAsset"],
                         t=trade["id"], m=trade["isMaker"], T=trade["time"])
        if "expiryReason" in order:
            event["eR"] = order["expiryReason"]
        for i, ws in enumerate(self.private):
            if not ws.closed:
                asyncio.ensure_future(ws.send_json({"subscriptionId": i, "event": event}))

    def server_shutdown(self) -> None:
        """``serverShutdown`` on every spot market socket and WebSocket API session, left open."""
        event = {"e": "serverShutdown", "E": self.now_ms()}
        self.soon(lambda: (self._send_to(self.spot_market, event), self._send_to(self.private, {"event": event})))

    def fill_resting(self, cid: str, qty: str) -> None:
        """A taker hits our resting order for ``qty`` at its price (maker fee 0.1%), from any thread."""
        def go():
            order = self.orders[cid]
            q, px = Decimal(qty), Decimal(order["price"])
            commission, asset = (q * Decimal("0.001"), "BTC") if order["side"] == "BUY" else (q * px * Decimal("0.001"), "USDT")
            trade = {"id": next(self._ids), "orderId": order["orderId"], "price": order["price"], "qty": str(q),
                     "commission": str(commission), "commissionAsset": asset, "time": self.now_ms(), "isMaker": True}
            self.trades.setdefault(order["orderId"], []).append(trade)
            self._settle_spot(order["side"], q, px, commission, asset)
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
            self._send_to(self.spot_market, event)
        self.soon(go)

    def push_trade(self, price: str, qty: str, buyer_maker: bool) -> None:
        event = {"e": "trade", "E": self.now_ms(), "s": "BTCUSDT", "t": next(self._ids), "p": price, "q": qty,
                 "T": self.now_ms(), "m": buyer_maker}
        self.soon(lambda: self._send_to(self.spot_market, event))

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
