"""Bybit v5 execution session: spot (``category=spot``) and USDT linear perps (``linear``).

Order types: ``market`` -> Market with ``marketUnit=baseCoin`` on spot (Bybit reads a spot
market buy's ``qty`` in the quote coin otherwise); ``ioc`` -> Limit IOC (Market if no
price); ``limit`` -> Limit GTC; ``post_only`` -> Limit PostOnly (Bybit cancels it if it would
take). ``orderLinkId`` is the node's client order id, so a lost answer is resolved by asking
for it; Bybit refuses a duplicate ``orderLinkId`` (10014/170141-class errors), so nothing is
placed twice. Amend is native (``/v5/order/amend``: qty and/or price, same ids). Fills come
from ``/v5/execution/list`` (https://bybit-exchange.github.io/docs/v5/order/execution), every
page of the order's (each ``execId`` once): ``execFee`` in ``feeCurrency``, reported as charged:
a spot buy's fee in the base comes out of the base received, and the ledger takes it from that
holding. ``feeCurrency`` is given for derivatives too since 2025-09-18 (changelog: "supports
derivatives trading"; MNT where MNT fee deduction is on); without it, as on perps before, the
quote. Orders' ``cumExecFee`` (deprecated for spot and linear since then, ``cumFeeDetail``
instead) is not read. Fills also arrive on the private ``execution`` topic (stream.py). Linear
perps: quantities in base coin, fees in USDT; ``positions()`` reads ``/v5/position/list``,
which ``sequence positions`` shows in live mode.

Balances (https://bybit-exchange.github.io/docs/v5/account/wallet-balance): ``GET
/v5/account/wallet-balance?accountType=UNIFIED``, per coin ``walletBalance``, ``locked`` ("Locked
balance due to the Spot open order") and ``spotBorrow`` (spot margin and manual borrowing,
added 2025-09-16). Since UTA manual borrowing (Oct 2025,
https://github.com/bybit-exchange/docs/pull/567) ``walletBalance`` includes what is borrowed:
"Old walletBalance = New walletBalance - spotBorrow"; the coin's own is the old one, so
spotBorrow is taken off (absent, as before the change: 0).

Leverage (``[venues.bybit] leverage = 5``, a positive whole number; absent, the account's leverage
is left as it is): before the first order on a linear perp in a session, ``POST
/v5/position/set-leverage`` with ``category=linear``, ``symbol`` and ``buyLeverage`` =
``sellLeverage`` (each "[1, max leverage]"; https://bybit-exchange.github.io/docs/v5/position/leverage).
It sets a value, so it is retried like a read; never for spot. retCode 110043 "Set leverage not
modified" (already at that value) is success; a leverage over the symbol's maximum is refused
(110013 "Due to risk limit, cannot set leverage", or 10001 for a value outside the documented
range; https://bybit-exchange.github.io/docs/v5/error): the session then reads
``leverageFilter.maxLeverage`` from ``GET /v5/market/instruments-info``
(https://bybit-exchange.github.io/docs/v5/market/instrument) and raises InvalidOrder naming the
symbol, the leverage asked and that maximum, before the order is sent. ``/v5/position/list``
rows carry ``leverage`` (https://bybit-exchange.github.io/docs/v5/position): one that differs from the setting (changed in Bybit's app, say) makes
the next order set it again.

Funding (``funding_payments``; https://bybit-exchange.github.io/docs/v5/account/transaction-log):
``GET /v5/account/transaction-log`` with ``accountType=UNIFIED``, ``category=linear``,
``type=SETTLEMENT`` (USDT perp funding; for USDC perps funding and the 8-hour session
settlement in one row: https://bybit-exchange.github.io/docs/v5/enum#typeuta-translog),
``startTime``/``endTime`` in ms with endTime - startTime <= 7 days, ``limit`` 1..50, and
``cursor`` = the previous page's ``nextPageCursor`` (a window is read until the cursor or
the page comes back empty). Rows: ``id`` ("Unique id": the payment id), ``symbol`` (ours
is ``symbol_LINEAR``), ``currency`` (the coin moved), ``transactionTime`` (ms, a string) and
``funding``: "Positive fee value means receive funding; negative fee value means pay
funding" (the text said the opposite until https://github.com/bybit-exchange/docs/pull/636,
Dec 2025); ``change`` = cashFlow + funding - fee. The amount is ``funding``, not ``change``:
on a USDC perp row ``change`` also carries the session P&L (``cashFlow``). The sign is
checked on the docs' own example (a long of 100 XRPUSDT at a rate of +0.0001: ``funding``
-0.003676, and ``cashBalance`` falls by exactly that from the row before). Bybit keeps two
years of it; the endpoint's budget is 25/s (https://bybit-exchange.github.io/docs/v5/rate-limit).
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from sequence_core.errors import OrderNotFound, VenueError
from sequence_core.execution import (AmendResult, ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill,
                                     VenuePosition)

from .http import BybitClient

log = logging.getLogger("sequence.venue.bybit")
WINDOW_MS = 7 * 86_400_000       # the transaction log's widest startTime..endTime
FUNDING_REQUESTS = 50            # at most this many transaction-log reads per funding_payments() call

STATUS = {"New": "NEW", "Created": "NEW", "Untriggered": "NEW", "PartiallyFilled": "PARTIALLY_FILLED",
          "Filled": "FILLED", "Cancelled": "CANCELLED", "PartiallyFilledCanceled": "CANCELLED",
          "Rejected": "REJECTED", "Deactivated": "CANCELLED"}


def where(inst) -> tuple[str, str]:
    """(category, symbol) for Bybit: perps carry ``_LINEAR`` here to keep venue names unique."""
    return ("linear", inst.venue_symbol.removesuffix("_LINEAR")) if inst.kind == "perp" else ("spot", inst.venue_symbol)


def ours(category: str, symbol: str) -> str:
    """Our venue symbol for Bybit's (category, symbol): where() the other way round."""
    return symbol + "_LINEAR" if category == "linear" else symbol


def _fill(e: dict, inst) -> VenueFill:
    return VenueFill(str(e["execId"]), Decimal(e["execPrice"]), Decimal(e["execQty"]), Decimal(e.get("execFee") or "0"),
                     e.get("feeCurrency") or inst.quote,
                     "maker" if e.get("isMaker") else "taker", int(e["execTime"]) * 1_000_000)


def _funding(r: dict) -> FundingPayment | None:
    """A SETTLEMENT row as the funding it moved (received > 0); None when it moved none."""
    if r.get("type") != "SETTLEMENT" or not Decimal(r.get("funding") or "0"):
        return None
    if not r.get("id"):
        raise VenueError("bybit sent a funding settlement without an id")
    return FundingPayment(str(r["id"]), ours("linear", r["symbol"]), r["currency"], Decimal(r["funding"]),
                          int(r["transactionTime"]) * 1_000_000)


def _dec(value) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _state(o: dict, fills: tuple = ()) -> OrderState:
    return OrderState(o["orderLinkId"], str(o["orderId"]), STATUS.get(o["orderStatus"], "NEW"),
                      Decimal(o.get("cumExecQty") or "0"), fills,
                      price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["qty"]) if o.get("qty") else None, reason=o.get("rejectReason", "").removeprefix("EC_NoError"),
                      venue_ts_ns=int(o.get("updatedTime") or 0) * 1_000_000)


def _own(coin: dict) -> Decimal:
    """A wallet coin row's own balance: ``walletBalance`` less what it borrowed (``spotBorrow``)."""
    return Decimal(coin.get("walletBalance") or "0") - Decimal(coin.get("spotBorrow") or "0")


class BybitSession(ExecutionSession):
    venue = "bybit"
    amend_mode = "native_atomic"

    def __init__(self, client: BybitClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self.leverage = Leverage("bybit", "Bybit", self.settings)

    async def positions(self) -> list[VenuePosition]:
        """USDT linear positions as Bybit reports them (a short is negative)."""
        rows = await self.client.positions()
        for p in rows:                           # a leverage changed at Bybit: set again before the next order
            self.leverage.seen(p["symbol"], p.get("leverage"))
        return [VenuePosition(p["symbol"] + "_LINEAR", Decimal(p["size"]) * (-1 if p["side"] == "Sell" else 1),
                              _dec(p.get("avgPrice")), _dec(p.get("markPrice")), _dec(p.get("unrealisedPnl")),
                              _dec(p.get("positionIM")), _dec(p.get("liqPrice")))
                for p in rows if Decimal(p.get("size") or "0")]

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """Linear perp funding from the transaction log, oldest first: 7-day windows from
        *since_ns* to now, every page of each. Past FUNDING_REQUESTS reads the windows read in
        full are returned and a warning says where the read stopped: the engine's next read
        starts from the last payment kept, so it goes on from there."""
        start, now = -(-since_ns // 1_000_000), self.client.clock.now_ms()
        if start < now - (FUNDING_REQUESTS - 1) * WINDOW_MS:
            # weeks without a payment would use up every read of every call before reaching
            # now (a perp closed long ago, another opened today): read no further back
            start = now - (FUNDING_REQUESTS - 1) * WINDOW_MS
            log.warning("bybit funding payments: reading the last %d weeks only", FUNDING_REQUESTS - 1)
        found: dict[str, FundingPayment] = {}
        left = FUNDING_REQUESTS
        while start <= now:
            end = min(start + WINDOW_MS, now)
            rows, used = await self._settlements(start, end, left)
            left -= used
            if rows is None:
                log.warning("bybit funding payments: %d reads reached only %s; the rest is read next time",
                            FUNDING_REQUESTS, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start / 1000)))
                break
            found.update((p.payment_id, p) for p in map(_funding, rows) if p and p.venue_ts_ns >= since_ns)
            if end == now:
                break
            start = end                  # the boundary ms is asked twice; ids keep each payment once
        return sorted(found.values(), key=lambda p: (p.venue_ts_ns, p.payment_id))

    async def _settlements(self, start_ms: int, end_ms: int, reads: int) -> tuple[list | None, int]:
        """Every SETTLEMENT row of one window and the reads it took; None if *reads* were not enough."""
        rows, cursor = [], ""
        for n in range(1, reads + 1):
            page = await self.client.settlements(start_ms, end_ms, cursor)
            rows += page.get("list") or []
            cursor = page.get("nextPageCursor") or ""
            if not cursor or not page.get("list"):
                return rows, n
        return None, reads

    def user_stream(self):
        from .stream import BybitUserStream

        return BybitUserStream(self.client, self.settings)

    async def place(self, node, instrument) -> OrderState:
        category, symbol = where(instrument)
        body = {"category": category, "symbol": symbol, "side": node.side.capitalize(), "qty": f"{node.qty:f}",
                "orderLinkId": node.client_order_id}
        if category == "linear":
            await self.leverage.ensure(symbol, "linear", self.client.set_leverage, self.client.max_leverage)
        if node.order_type == "market" or node.limit_price is None:
            body["orderType"] = "Market"
            if category == "spot":
                body["marketUnit"] = "baseCoin"
        else:
            tif = {"ioc": "IOC", "post_only": "PostOnly"}.get(node.order_type, "GTC")
            body.update(orderType="Limit", price=f"{node.limit_price:f}", timeInForce=tif)
        await self.client.create(body)
        return await self.order_state(node.client_order_id, instrument)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        category, symbol = where(instrument)
        try:
            order = await self.client.order(category, symbol, client_order_id)
        except OrderNotFound:
            return None
        if order is None:
            return None
        fills = ()
        if Decimal(order.get("cumExecQty") or "0"):
            rows = {e["execId"]: e for e in await self.client.executions(category, symbol, order["orderId"])}   # each fill once
            fills = tuple(_fill(e, instrument) for e in rows.values())
        return _state(order, fills)

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(*where(instrument), node.client_order_id))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        category, symbol = where(instrument)
        body = {"category": category, "symbol": symbol, "orderLinkId": node.client_order_id}
        if qty is not None:
            body["qty"] = f"{qty:f}"
        if price is not None:
            body["price"] = f"{price:f}"
        await self.client.amend(body)
        return AmendResult("native_atomic", await self.order_state(node.client_order_id, instrument))

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(*where(instrument))]

    async def balances(self):
        """What each coin holds of its own and no open order locks: walletBalance - spotBorrow
        - locked, never below 0 (a spot short holds nothing). See the module docstring."""
        return {c["coin"]: max(_own(c) - Decimal(c.get("locked") or "0"), Decimal(0)) for c in await self._coins()}

    async def _coins(self) -> list[dict]:
        """Every coin row of the wallet answer (``GET /v5/account/wallet-balance``)."""
        return [c for a in (await self.client.wallet()).get("list", []) for c in a.get("coin", [])]

    async def holdings(self):
        """What each coin holds of its own, ``walletBalance - spotBorrow``, locked in open orders
        included (Get Wallet Balance, https://bybit-exchange.github.io/docs/v5/account/wallet-balance):
        a coin borrowed and spent shows negative, the debt it is."""
        return {c["coin"]: q for c in await self._coins() if (q := _own(c))}

    async def close(self) -> None:
        await self.client.close()
