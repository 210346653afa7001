"""Binance execution session: spot (api.binance.com) and USD-M perpetuals (fapi.binance.com).

Spot order types: ``market`` -> MARKET; ``ioc`` -> LIMIT + timeInForce IOC (MARKET if no price);
``limit`` -> LIMIT GTC; ``post_only`` -> LIMIT_MAKER (Binance rejects it if it would take).
The client order id is the node's (``newClientOrderId``), so a lost answer is resolved by
asking for the order by that id; Binance also refuses a duplicate id (-2010), so nothing is
placed twice. Spot amend: a quantity decrease is native (``order/amend/keepPriority``: same order,
same client id, queue place kept); a price change or increase is cancel-replace by the engine
(spot has no in-place amend for those). Fees are reported as charged, in the commission asset:
a buy's commission in the base comes out of the base received, a BNB commission (the fee
discount) out of the BNB held, and the ledger takes each from that holding.
An expired spot order says why in ``expiryReason`` (order placement with ``newOrderRespType`` FULL
since 2026-03-26, ``GET /api/v3/order`` since 2026-05-08; values in the "Expiry Reasons" enum,
e.g. ``EXECUTION_RULE_PRICE_RANGE_EXCEEDED`` for the Price Range Execution Rule rolled out from
2026-03-09; https://developers.binance.com/docs/binance-spot-api-docs/CHANGELOG and
https://developers.binance.com/docs/binance-spot-api-docs/enums#expiryreasons): it is the state's
reason, so an order that expired on that rule is not read as one that found no liquidity.

USD-M perps (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api):
``POST /fapi/v1/order`` with ``newClientOrderId`` = the node's client id (rule
``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``, "unique among open orders": the engine never re-sends a place,
it asks ``GET /fapi/v1/order?origClientOrderId=`` after a lost answer) and
``newOrderRespType=RESULT`` (a MARKET or IOC order comes back in its final state). ``market`` ->
MARKET; ``ioc`` -> LIMIT IOC; ``limit`` -> LIMIT GTC; ``post_only`` -> LIMIT GTX ("Good Till
Crossing (Post Only)"; one that would take is refused with -5022). Quantities are base units
(one contract = one base unit). Fills come from ``GET /fapi/v1/userTrades?orderId=``: ``id``
(the trade id the private stream's ``o.t`` carries), ``price``, ``qty``, ``commission`` in
``commissionAsset`` (USDT, or BNB with the BNB fee discount on), ``maker``.
A final order whose listed trades do not yet add up to ``executedQty`` stays open here, so
the engine reads it again. Amend is native for resting perp orders: ``PUT /fapi/v1/order``
(LIMIT only; price and quantity both sent) changes the order in place under the same ids;
"modified orders will be reordered in the match queue", so the queue place is lost; Binance
cancels the order if the new quantity is at or under what has filled, or if a GTX order's new
price would take. ``positions()`` reads ``GET /fapi/v3/positionRisk``: ``positionAmt`` (signed,
short negative), ``entryPrice``, ``markPrice``, ``unRealizedProfit``, ``liquidationPrice`` (0 when
none), margin = ``isolatedWallet`` for an isolated position, else ``positionInitialMargin``.

Assumed account settings: One-way position mode (``positionSide`` BOTH); margin type is the
account's per-symbol setting (Binance's default: cross margin) and is never changed here.
Leverage is the account's too (default 20x) unless ``[venues.binance] leverage = 5`` (a positive
whole number) is set: then, before the first order on a perp in a session, the session sends
``POST /fapi/v1/leverage`` with ``symbol`` and ``leverage`` ("target initial leverage: int from 1
to 125"; weight 1, TRADE;
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Initial-Leverage).
It sets a value, so it is retried like a read; never for spot. A leverage over what the symbol's
brackets allow is refused with -4028 INVALID_LEVERAGE ("Leverage 100 is not valid";
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code, and CCXT's binance
error table): the session then reads the symbol's brackets, ``GET /fapi/v1/leverageBracket?symbol=``
(the highest ``initialLeverage``, "Max initial leverage for this bracket";
https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Notional-and-Leverage-Brackets),
and raises InvalidOrder naming the symbol, the leverage asked and that maximum, before the order
is sent. A leverage changed later at Binance is not noticed: ``/fapi/v3/positionRisk`` rows no
longer carry it, and the USD-M stream here asks for ``ORDER_TRADE_UPDATE`` only (not the
``ACCOUNT_CONFIG_UPDATE`` that reports it). Before the first perp order (and again after ``MODE_TTL_S``) the session
reads ``GET /fapi/v1/positionSide/dual`` and refuses, before sending anything, an account in
Hedge Mode; ``positions()`` refuses LONG/SHORT rows the same way.

Order updates: pushed on two private streams, spot and USD-M (``user_streams``; stream.py),
polled as the safety net: every 5 s while both are live, 4 times a second otherwise; a MARKET or
IOC perp order's fills come back with its place (``newOrderRespType=RESULT`` then ``userTrades``).

Balances: Binance keeps spot and USD-M money in separate wallets: spot assets are their free
spot balance, and the USD-M wallet's ``availableBalance`` (``GET /fapi/v3/balance``) is reported
as perp margin (``sequence_core.execution.perp_margin``, e.g. ``USDT:perp-margin``), which the
engine checks a perp order against. A key without futures permission trades spot as before
(its refused futures read is left out).

Funding payments (``funding_payments``) come from Get Income History, ``GET /fapi/v1/income``
(USER_DATA, signed like the other fapi reads, weight 30;
https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History)
with ``incomeType=FUNDING_FEE``. Its rules as documented there: ``startTime`` and ``endTime`` are
ms and both inclusive; ``limit`` defaults to 100, at most 1000; without either time the last 7
days are returned; the history only holds the last three months; "trandId is unique in the same
incomeType for a user". Each row: ``symbol`` (the USD-M symbol, ``BTCUSDT``), ``incomeType``,
``income`` (a signed decimal string), ``asset``, ``info``, ``time`` (ms, when it was booked: at
the funding time or seconds after, in recorded rows), ``tranId`` (a number past 2^53, read
exactly), ``tradeId`` ("").
When more rows fall between the two times than ``limit``, the answer is "startTime + limit": the
oldest ones (Binance Link's page for the same endpoint,
https://developers.binance.com/docs/binance_link/link-and-trade/futures/Get-Income-History).
Sign: "positive numbers mean inflow, negative numbers outflow" (the Chinese page of that
endpoint, https://developers.binance.com/docs/zh-CN/binance_link/link-and-trade/futures/Get-Income-History:
正数代表流入,负数代表流出), so ``income`` is the amount as is: received > 0, paid < 0. The
``asset`` is the coin it moved (USDT for these perps; BNFCR on a credits account, as in the
rows recorded in freqtrade/freqtrade#11783).
How it is read: USD-M documents no longest span between the two times (COIN-M's ``/dapi``
says 1 year), so the walk sends both and keeps each request to 7 days (the span Binance itself
answers without times), starting no earlier than 92 days ago (older rows are gone). Inside a
window, pages advance ``startTime`` to the last row's time, inclusive, and drop the rows seen
twice by id (the documented ``page`` parameter has no documented meaning, so it is not used);
a full page all at one millisecond cannot be paged that way and is refused as an error. At
most ``FUNDING_MAX_REQUESTS`` requests per call (1200 of the 2400 weight a minute): past that
the oldest part read so far is returned and a warning logged; the engine's next read starts
from the last payment it kept, so the rest follows on its next poll.
payment_id = ``symbol:tranId``: Binance promises tranId unique only within an incomeType per
user, and FUNDING_FEE rows are the one type read here, so tranId would do; the symbol in front
costs nothing and keeps ids apart should two symbols' rows of one funding round ever share a
tranId. Both parts are fixed once booked, so the id is the same on every read.
venue_symbol = ``symbol`` + ``_PERP`` (symbols.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

from sequence_core.errors import AuthenticationError, InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import (AmendResult, ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill, VenuePosition,
                                     perp_margin)

from .http import DEFAULT_BASE_URL, DEFAULT_FAPI_URL, BinanceClient, BinanceFuturesClient
from .symbols import PERP_SUFFIX, fapi_symbol

log = logging.getLogger("sequence.venue.binance")
MODE_TTL_S = 60.0
DAY_MS = 86_400_000
FUNDING_WINDOW_MS = 7 * DAY_MS        # one income request's span
FUNDING_HISTORY_MS = 92 * DAY_MS      # "only contains data for the last three months"
FUNDING_PAGE = 1000                   # the endpoint's largest limit
FUNDING_MAX_REQUESTS = 40             # per call, weight 30 each
STATUS = {"NEW": "NEW", "PARTIALLY_FILLED": "PARTIALLY_FILLED", "FILLED": "FILLED", "CANCELED": "CANCELLED",
          "PENDING_CANCEL": "NEW", "REJECTED": "REJECTED", "EXPIRED": "EXPIRED", "EXPIRED_IN_MATCH": "EXPIRED"}
PERP_TIF = {"ioc": "IOC", "post_only": "GTX"}
HEDGE_MODE = ("binance: this USD-M futures account is in Hedge Mode (dualSidePosition: separate LONG and SHORT "
              "positions); Sequence trades USD-M perps in One-way Mode only: switch Position Mode to One-way in "
              "Binance's futures preferences (allowed with no open orders or positions)")


def fapi_url(settings: dict, client: BinanceClient | None = None) -> str:
    """``[venues.binance] fapi_url``; else the spot URL when that was pointed elsewhere (a proxy or
    a local fake serving both); else https://fapi.binance.com."""
    if settings.get("fapi_url"):
        return settings["fapi_url"]
    spot = settings.get("base_url") or (client.rest.base_url if client is not None else DEFAULT_BASE_URL)
    return spot if spot.rstrip("/") != DEFAULT_BASE_URL else DEFAULT_FAPI_URL


def commission(row: dict, inst, amount: str = "commission", asset: str = "commissionAsset") -> tuple[Decimal, str]:
    """A fill's fee as Binance charged it: (amount, asset), the quote when no asset is named."""
    return Decimal(row.get(amount) or "0"), row.get(asset) or inst.quote


def _dec(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _price(order: dict) -> Decimal | None:
    """The order's limit price (Binance sends 0 for a market order)."""
    price = _dec(order.get("price"))
    return price if price else None


def expiry_reason(order: dict) -> str:
    """Spot's ``expiryReason`` (an expired order's cause; see the module notes), else ""."""
    reason = order.get("expiryReason") or ""
    return "" if reason == "NONE" else reason


def _state(order: dict, fills: tuple = ()) -> OrderState:
    return OrderState(order["clientOrderId"], str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                      Decimal(order["executedQty"]), fills, reason=expiry_reason(order), price=_price(order),
                      qty=Decimal(order["origQty"]) if "origQty" in order else None,
                      venue_ts_ns=order.get("updateTime", order.get("transactTime", 0)) * 1_000_000)


def perp_fill(t: dict, inst) -> VenueFill:
    """One ``/fapi/v1/userTrades`` row as a fill (its fee as charged)."""
    return VenueFill(str(t["id"]), Decimal(t["price"]), Decimal(t["qty"]), *commission(t, inst),
                     "maker" if t.get("maker") else "taker", int(t["time"]) * 1_000_000)


def perp_state(order: dict, fills: tuple = ()) -> OrderState:
    """A USD-M order; a final one whose listed fills fall short of ``executedQty`` is reported
    PARTIALLY_FILLED, so the engine polls it again rather than close it without a fill."""
    state = _state(order, fills)
    if state.status in ("CANCELLED", "EXPIRED", "REJECTED") and sum((f.qty for f in fills), Decimal(0)) < state.filled_qty:
        import msgspec

        return msgspec.structs.replace(state, status="PARTIALLY_FILLED")
    return state


def perp_position(p: dict) -> VenuePosition:
    """One ``/fapi/v3/positionRisk`` row (``/fapi/v2`` rows parse too: their margin is notional / leverage)."""
    isolated = _dec(p.get("isolatedWallet")) or _dec(p.get("isolatedMargin"))
    margin = isolated or _dec(p.get("positionInitialMargin") or p.get("initialMargin"))
    if margin is None and _dec(p.get("notional")) is not None and _dec(p.get("leverage")):
        margin = abs(Decimal(p["notional"])) / Decimal(p["leverage"])
    liquidation = _dec(p.get("liquidationPrice"))
    return VenuePosition(p["symbol"] + PERP_SUFFIX, Decimal(p["positionAmt"]), _dec(p.get("entryPrice")),
                         _dec(p.get("markPrice")), _dec(p.get("unRealizedProfit")), margin, liquidation or None)


def funding_payment(row: dict) -> FundingPayment:
    """One ``FUNDING_FEE`` income row (the id and sign are explained in the module docstring)."""
    return FundingPayment(f"{row['symbol']}:{row['tranId']}", row["symbol"] + PERP_SUFFIX, row["asset"],
                          Decimal(row["income"]), int(row["time"]) * 1_000_000)


def _next_page(rows: list[dict], cursor: int) -> int | None:
    """Where a window's next income page starts (the last row's time, inclusive), or None when
    this page was not full."""
    if len(rows) < FUNDING_PAGE:
        return None
    last = max(int(r["time"]) for r in rows)
    if last <= cursor:
        raise VenueError(f"binance: more than {FUNDING_PAGE} funding rows booked in one millisecond ({cursor}); "
                         "they cannot be paged by time")
    return last


def _perp_node(node) -> bool:
    return node.symbol.upper().endswith("-PERP") or node.symbol.endswith(PERP_SUFFIX)


class BinanceSession(ExecutionSession):
    venue = "binance"
    amend_mode = "native_atomic"     # spot: a quantity decrease only; perps: resting limits (see native_amend)

    def __init__(self, client: BinanceClient, settings: dict | None = None, futures: BinanceFuturesClient | None = None):
        self.client, self.settings = client, dict(settings or {})
        self.futures = futures or BinanceFuturesClient(client._key, client._secret, fapi_url(self.settings, client))
        self._one_way_at = -MODE_TTL_S
        self.leverage = Leverage("binance", "Binance", self.settings)

    def user_stream(self):
        """Spot order updates (the WebSocket API user data stream)."""
        from .stream import BinanceUserStream

        return BinanceUserStream(self.client, self.settings)

    def user_streams(self) -> list:
        """The spot stream and the USD-M one (a listenKey stream on fapi's private route), each its
        own socket; ``[venues.binance] usdm_stream = false`` leaves the USD-M one out (a key without
        futures permission: see stream.py)."""
        from .stream import BinanceFuturesUserStream

        streams = [self.user_stream()]
        if str(self.settings.get("usdm_stream", True)).lower() not in ("false", "0", "no", "off"):
            streams.append(BinanceFuturesUserStream(self.futures, self.settings))
        return streams

    # -- spot and perp dispatch --------------------------------------------------------------
    async def place(self, node, instrument) -> OrderState:
        if instrument.kind == "perp":
            return await self._place_perp(node, instrument)
        params = {"symbol": instrument.venue_symbol, "side": node.side.upper(), "quantity": f"{node.qty:f}",
                  "newClientOrderId": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            params["type"] = "MARKET"
        elif node.order_type == "post_only":
            params.update(type="LIMIT_MAKER", price=f"{node.limit_price:f}")
        else:
            params.update(type="LIMIT", price=f"{node.limit_price:f}", timeInForce="IOC" if node.order_type == "ioc" else "GTC")
        answer = await self.client.new_order(params)
        fills = tuple(VenueFill(str(f["tradeId"]), Decimal(f["price"]), Decimal(f["qty"]), *commission(f, instrument),
                                "taker", answer.get("transactTime", 0) * 1_000_000)
                      for f in answer.get("fills", []))
        return OrderState(node.client_order_id, str(answer["orderId"]), STATUS.get(answer["status"], "NEW"),
                          Decimal(answer.get("executedQty", "0")), fills, reason=expiry_reason(answer),
                          venue_ts_ns=answer.get("transactTime", 0) * 1_000_000)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        perp = instrument.kind == "perp"
        try:
            order = await (self.futures.query_order(fapi_symbol(instrument), client_order_id) if perp
                           else self.client.query_order(instrument.venue_symbol, client_order_id))
        except OrderNotFound:
            return None
        if perp:
            return await self._perp_read(order, instrument)
        trades = await self.client.my_trades(instrument.venue_symbol, order["orderId"]) if Decimal(order["executedQty"]) else []
        fills = tuple(VenueFill(str(t["id"]), Decimal(t["price"]), Decimal(t["qty"]), *commission(t, instrument),
                                "maker" if t.get("isMaker") else "taker", t["time"] * 1_000_000) for t in trades)
        return OrderState(client_order_id, str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                          Decimal(order["executedQty"]), fills, reason=expiry_reason(order),
                          venue_ts_ns=order.get("updateTime", 0) * 1_000_000)

    def native_amend(self, node, price, qty) -> bool:
        if _perp_node(node):
            return node.order_type in ("limit", "post_only") and node.limit_price is not None
        return price in (None, node.limit_price) and qty is not None and qty < node.qty

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        if instrument.kind == "perp":
            answer = await self.futures.modify_order(fapi_symbol(instrument), node.client_order_id, node.side.upper(),
                                                     f"{qty if qty is not None else node.qty:f}",
                                                     f"{price if price is not None else node.limit_price:f}")
            return AmendResult("native_atomic", await self._perp_read(answer, instrument))
        answer = await self.client.amend_keep_priority(instrument.venue_symbol, node.client_order_id, f"{qty:f}")
        return AmendResult("native_atomic", _state(answer["amendedOrder"]))

    async def open_orders(self, instrument) -> list[OrderState]:
        if instrument.kind == "perp":
            return [_state(o) for o in await self.futures.open_orders(fapi_symbol(instrument))]
        return [_state(o) for o in await self.client.open_orders(instrument.venue_symbol)]

    async def cancel(self, node, instrument) -> OrderState:
        if instrument.kind == "perp":
            request = lambda: self.futures.cancel_order(fapi_symbol(instrument), node.client_order_id)  # noqa: E731
        else:
            request = lambda: self.client.cancel_order(instrument.venue_symbol, node.client_order_id)  # noqa: E731
        return await self.cancel_and_read(node, instrument, request)

    async def _wallets(self) -> tuple[list[dict], list[dict]]:
        """The spot account's ``balances`` rows and the USD-M wallet's rows (none for a key
        without futures permission), read together: what ``balances`` and ``holdings`` parse."""
        account, futures = await asyncio.gather(self.client.account(), self._futures_rows())
        return account.get("balances", []), futures

    async def balances(self):
        spot, futures = await self._wallets()
        out = {b["asset"]: Decimal(b["free"]) for b in spot}
        out.update((perp_margin(r["asset"]), Decimal(r.get("availableBalance") or "0")) for r in futures)
        return out

    async def holdings(self):
        """Spot ``free + locked`` (GET /api/v3/account: "balances": [{"asset", "free", "locked"}],
        https://developers.binance.com/docs/binance-spot-api-docs/rest-api/account-endpoints#account-information-user_data)
        plus the USD-M wallet's ``balance`` (GET /fapi/v3/balance, the wallet balance without
        unrealized P&L, which the perp rows carry;
        https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Futures-Account-Balance-V3):
        the ledger books perp P&L and fees into the same coin, so both wallets are that coin."""
        spot, futures = await self._wallets()
        out: dict[str, Decimal] = {}
        for b in spot:
            out[b["asset"]] = Decimal(b.get("free") or "0") + Decimal(b.get("locked") or "0")
        for r in futures:
            out[r["asset"]] = out.get(r["asset"], Decimal(0)) + Decimal(r.get("balance") or "0")
        return {asset: qty for asset, qty in out.items() if qty}

    async def positions(self) -> list[VenuePosition]:
        """USD-M positions as Binance reports them (a short is negative)."""
        rows = await self.futures.position_risk()
        if any(r.get("positionSide", "BOTH") != "BOTH" for r in rows):
            raise VenueError(HEDGE_MODE)
        return [perp_position(r) for r in rows if Decimal(r.get("positionAmt") or "0")]

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """USD-M funding booked at or after *since_ns*, oldest first (``GET /fapi/v1/income``)."""
        since_ms, now_ms = -(-since_ns // 1_000_000), self.futures.clock.now_ms()
        start = max(since_ms, now_ms - FUNDING_HISTORY_MS)
        if start > since_ms:
            log.info("binance keeps three months of income history: funding before %d ms is not read", start)
        found: dict[str, FundingPayment] = {}
        async for rows in self._funding_pages(start, now_ms):
            for p in map(funding_payment, (r for r in rows if r.get("incomeType") == "FUNDING_FEE" and r.get("symbol"))):
                if p.venue_ts_ns >= since_ns:
                    found[p.payment_id] = p
        return sorted(found.values(), key=lambda p: (p.venue_ts_ns, p.payment_id))

    async def _funding_pages(self, start: int, now_ms: int):
        """Each income page from *start* to *now_ms*: 7-day windows, each paged by time; at most
        FUNDING_MAX_REQUESTS requests (then a warning: the rest is read on the next call)."""
        sent = 0
        while start <= now_ms:
            end, cursor = min(start + FUNDING_WINDOW_MS - 1, now_ms), start
            while cursor is not None:
                if sent == FUNDING_MAX_REQUESTS:
                    log.warning("binance funding: stopped after %d income requests at %d ms; the rest is read next time",
                                sent, cursor)
                    return
                rows = await self.futures.funding_income(cursor, end, FUNDING_PAGE)
                sent += 1
                yield rows
                cursor = _next_page(rows, cursor)
            start = end + 1

    async def close(self) -> None:
        await self.client.close()
        await self.futures.close()

    # -- USD-M -----------------------------------------------------------------------------
    async def _place_perp(self, node, instrument) -> OrderState:
        await self._refuse_hedge_mode()
        await self.leverage.ensure(fapi_symbol(instrument), "USD-M", self.futures.set_leverage, self.futures.max_leverage)
        params = {"symbol": fapi_symbol(instrument), "side": node.side.upper(), "quantity": f"{node.qty:f}",
                  "newClientOrderId": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            params["type"] = "MARKET"
        else:
            params.update(type="LIMIT", price=f"{node.limit_price:f}", timeInForce=PERP_TIF.get(node.order_type, "GTC"))
        return await self._perp_read(await self.futures.new_order(params), instrument)

    async def _perp_read(self, order: dict, instrument) -> OrderState:
        """The order with its fills (``userTrades`` by orderId, read only once something filled)."""
        trades = await self.futures.user_trades(fapi_symbol(instrument), order["orderId"]) if Decimal(order["executedQty"]) else []
        return perp_state(order, tuple(perp_fill(t, instrument) for t in trades))

    async def _refuse_hedge_mode(self) -> None:
        if time.monotonic() - self._one_way_at < MODE_TTL_S:
            return
        if await self.futures.hedge_mode():
            raise InvalidOrder(HEDGE_MODE)
        self._one_way_at = time.monotonic()

    async def _futures_rows(self) -> list[dict]:
        try:
            return await self.futures.balance()
        except AuthenticationError as exc:      # a key without futures permission still trades spot
            log.info("binance USD-M wallet not readable: %s", exc)
            return []
