"""OKX execution session: spot (``tdMode`` cash) and USDT-margined perpetual swaps (``tdMode``
cross, one-way ``net`` position mode), on the same v5 endpoints.

Order types: ``market`` -> ``market`` (spot adds ``tgtCcy=base_ccy``: OKX reads a spot market
buy's ``sz`` in the quote currency otherwise); ``ioc`` -> ``ioc`` (``market`` if no price);
``limit`` -> ``limit``; ``post_only`` -> ``post_only`` (OKX cancels it if it would take).
``clOrdId`` is the node's client order id (letters and digits, at most 32), so after a lost
answer the order is found by it; OKX refuses a second live order with the same id.
Amend is native (``amend-order``: size and/or price in place, same ids); ``newSz`` is the new
total including what has filled, as OKX asks. The place answer carries no fills: the session
reads the order and its fills right after (``fee`` is negative when charged, in ``feeCcy``,
reported as charged: a spot buy's fee in the base comes out of the base received, and the
ledger takes it from that holding). Order changes and fills also arrive
on the private ``orders`` channel (stream.py).

Swaps (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order): ``sz`` is a
number of contracts for SWAP, as are ``accFillSz``/``fillSz`` in order answers and fills
(#order-book-trading-trade-get-order-details, #order-book-trading-trade-get-transaction-details-
last-3-days); symbols.py converts base <-> contracts exactly, and a quantity that is not a whole
number of lots, under the minimum, or a price off the tick is refused before anything is sent.
Margin: ``cross`` only (the adapter never sends ``isolated``). Position mode: ``posSide`` is
left out, which OKX reads as ``net`` in net mode; in ``long_short_mode`` OKX requires it (51000),
so the first swap order of a session reads ``GET /api/v5/account/config`` and refuses a
long/short (hedge) account, or a Spot-mode one (``acctLv`` 1, no derivatives), with what to
change (#trading-account-rest-api-get-account-configuration). Fees are in USDT (``feeCcy``).
``positions()`` reads ``GET /api/v5/account/positions?instType=SWAP``: ``pos`` in contracts,
signed in net mode (a ``short`` posSide row, in hedge mode, is made negative), ``avgPx``,
``markPx``, ``upl`` (USDT), ``margin`` (isolated) or ``imr`` (cross), ``liqPx``
(#trading-account-rest-api-get-positions). Balances: ``availBal`` per currency from
``/account/balance`` (USDT's is the margin free for cross swaps and for spot alike).

Leverage (``[venues.okx] leverage = 5``, a positive whole number; absent, the account's leverage is
left as it is): before the first order on a swap in a session, ``POST /api/v5/account/set-leverage``
with ``instId``, ``lever`` and ``mgnMode`` cross, the only margin mode sent here; ``posSide`` is
needed only for isolated margin in long/short mode
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-leverage; 20 requests per 2 s). It
sets a value, so it is retried like a read; never for spot. A lever over the most OKX allows is
refused with 59102 "Leverage exceeds the maximum leverage" (https://www.okx.com/docs-v5/en/#error-code,
and CCXT's okx error table); the session then reads the swap's ``lever`` ("Max Leverage") from
``GET /api/v5/public/instruments`` (#public-data-rest-api-get-instruments) and raises InvalidOrder
naming the swap, the leverage asked and that maximum, before the order is sent. Every order
read carries the order's ``lever`` (#order-book-trading-trade-get-order-details): one that
differs from the setting (changed in OKX's app, say) makes the next order set it again.

Funding (``funding_payments``): ``GET /api/v5/account/bills`` with ``instType=SWAP``, ``type=8``
(funding fee; ``subType`` 173 expense, 174 income), ``begin`` (ms, a filter on ``ts``) and
``limit=100``, the maximum; 5 requests per second
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-bills-details-last-7-days).
Bills come newest first and ``after=<billId>`` gives those older than that bill, so the walk
sends the oldest billId of each page until a page comes back empty (a short page is not taken
for the end: the docs do not say it is). Whether ``begin`` counts its own millisecond is not
documented, so it is sent a millisecond early and the rows are filtered here. Per bill:
``billId`` (the payment id), ``instId`` (the swap, this adapter's venue symbol), ``ccy`` (the
coin, USDT for USDT swaps), ``ts`` (ms, when the balance changed) and ``balChg``, the signed
change of the account balance: income > 0, expense < 0, the engine's sign (CCXT's okx
``fetchFundingHistory`` reads the same field; its recorded subType 174 bill has ``balChg`` =
``pnl`` > 0). That endpoint reaches back 7 days; when *since_ns* is older, the part before is
read from ``GET /api/v5/account/bills-archive`` (same parameters and fields, 3 months, 5 per
2 s: #trading-account-rest-api-get-bills-details-last-3-months) and merged by billId; the
recent days stay on the 7-day endpoint, the one OKX documents for them. Before 3 months OKX
offers only downloadable files (``bills-history-archive``): logged, not read. At most 50
requests a call; past that it raises rather than return part (a newest-first walk cut short
would drop the oldest payments, and the engine moves on from the newest it keeps).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import (AmendResult, ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill,
                                     VenuePosition)

from .http import OkxClient
from .symbols import CONTRACT_VALUE, INSTRUMENTS, base, contracts

log = logging.getLogger("sequence.venue.okx")

STATUS = {"live": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED", "canceled": "CANCELLED",
          "mmp_canceled": "CANCELLED"}


def inst_type(inst) -> str:
    return "SWAP" if inst.kind == "perp" else "SPOT"


def _dec(value) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def _fill(f: dict, inst) -> VenueFill:
    return VenueFill(str(f["tradeId"]), Decimal(f["fillPx"]), base(inst, f["fillSz"]), -Decimal(f.get("fee") or "0"),
                     f.get("feeCcy") or inst.quote,
                     "maker" if f.get("execType") == "M" else "taker", int(f.get("fillTime") or f["ts"]) * 1_000_000)


def _state(o: dict, inst, fills: tuple = ()) -> OrderState:
    return OrderState(o["clOrdId"], str(o["ordId"]), STATUS.get(o["state"], "NEW"), base(inst, o.get("accFillSz")),
                      fills, price=Decimal(o["px"]) if o.get("px") else None, qty=base(inst, o["sz"]) if o.get("sz") else None,
                      venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


def _position(p: dict, inst) -> VenuePosition:
    qty = base(inst, p["pos"]) * (-1 if p.get("posSide") == "short" else 1)
    return VenuePosition(p["instId"], qty, _dec(p.get("avgPx")), _dec(p.get("markPx")), _dec(p.get("upl")),
                         _dec(p.get("margin")) or _dec(p.get("imr")), _dec(p.get("liqPx")))


DAY_MS = 86_400_000
RECENT_MS, ARCHIVE_MS = 7 * DAY_MS, 90 * DAY_MS     # how far back /account/bills and the archive reach
RECENT_MARGIN_MS = 3_600_000                         # the 7-day read starts this far inside its window
FUNDING_REQUESTS = 50                                # per funding_payments call, both endpoints together
FUNDING_BILLS = {"instType": "SWAP", "type": "8", "limit": "100"}


def _funding(b: dict) -> FundingPayment:
    return FundingPayment(str(b["billId"]), b["instId"], b["ccy"], Decimal(b["balChg"]), int(b["ts"]) * 1_000_000)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _on_tick(inst, price: Decimal) -> None:
    if inst.kind == "perp" and (price / inst.tick_size) % 1:
        raise InvalidOrder(f"okx: price {price:f} is off the {inst.venue_symbol} tick of {inst.tick_size}")


class OkxSession(ExecutionSession):
    venue = "okx"
    amend_mode = "native_atomic"

    def __init__(self, client: OkxClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._swaps_checked = False
        self.leverage = Leverage("okx", "OKX", self.settings)

    def _inst_id(self, inst) -> str:
        if inst.kind not in ("crypto", "perp"):
            raise InvalidOrder(f"okx: {inst.symbol} is not a spot or perpetual book")
        return inst.venue_symbol

    async def _check_account(self) -> None:
        """Net position mode and an account mode that trades derivatives, once per session."""
        if self._swaps_checked:
            return
        config = await self.client.account_config()
        if config.get("posMode") == "long_short_mode":
            raise InvalidOrder("okx: the account is in long/short (hedge) position mode; this adapter trades "
                               "perpetual swaps in net (one-way) mode only: set Position mode to One-way in OKX's "
                               "trading settings (POST /api/v5/account/set-position-mode posMode=net_mode)")
        if str(config.get("acctLv")) == "1":
            raise InvalidOrder("okx: the account is in Spot mode (acctLv 1), which cannot trade perpetual swaps; "
                               "switch it to Futures mode or a margin mode in OKX's settings")
        self._swaps_checked = True

    async def place(self, node, instrument) -> OrderState:
        perp = instrument.kind == "perp"
        body = {"instId": self._inst_id(instrument), "tdMode": "cross" if perp else "cash", "side": node.side,
                "sz": f"{contracts(instrument, node.qty):f}", "clOrdId": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            body["ordType"] = "market"
            if not perp:
                body["tgtCcy"] = "base_ccy"
        else:
            _on_tick(instrument, node.limit_price)
            body.update(ordType={"ioc": "ioc", "post_only": "post_only"}.get(node.order_type, "limit"),
                        px=f"{node.limit_price:f}")
        if perp:
            await self._check_account()
            await self.leverage.ensure(instrument.venue_symbol, instrument.symbol, self.client.set_leverage,
                                       self.client.max_leverage)
        await self.client.place(body)
        return await self.order_state(node.client_order_id, instrument)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        try:
            order = await self.client.order(self._inst_id(instrument), client_order_id)
        except OrderNotFound:
            return None
        self.leverage.seen(order.get("instId"), order.get("lever"))
        fills = ()
        if Decimal(order.get("accFillSz") or "0"):
            found = await self.client.fills(self._inst_id(instrument), order["ordId"], inst_type(instrument))
            fills = tuple(_fill(f, instrument) for f in found)
        return _state(order, instrument, fills)

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(self._inst_id(instrument), node.client_order_id))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        body = {"instId": self._inst_id(instrument), "clOrdId": node.client_order_id}
        if qty is not None:
            body["newSz"] = f"{contracts(instrument, qty):f}"
        if price is not None:
            _on_tick(instrument, price)
            body["newPx"] = f"{price:f}"
        await self.client.amend(body)
        return AmendResult("native_atomic", await self.order_state(node.client_order_id, instrument))

    async def open_orders(self, instrument) -> list[OrderState]:
        found = await self.client.open_orders(self._inst_id(instrument), inst_type(instrument))
        return [_state(o, instrument) for o in found]

    async def _details(self) -> list[dict]:
        """``GET /api/v5/account/balance``'s per-currency ``details`` (the one trading account)."""
        data = await self.client.balance()
        return data[0].get("details", []) if data else []

    async def balances(self):
        return {d["ccy"]: Decimal(d.get("availBal") or d.get("cashBal") or "0") for d in await self._details()}

    async def holdings(self):
        """Each currency's ``cashBal`` ("Cash balance": frozen in open orders included, swap
        unrealized P&L not, which the perp rows carry; Get balance,
        https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-balance)."""
        return {d["ccy"]: q for d in await self._details() if (q := Decimal(d.get("cashBal") or "0"))}

    async def positions(self) -> list[VenuePosition]:
        """The USDT swaps this adapter declares, as OKX reports them, in base units (a swap it
        does not declare has no known ``ctVal`` and is left out)."""
        declared = {i.venue_symbol: i for i in INSTRUMENTS if i.venue_symbol in CONTRACT_VALUE}
        return [_position(p, declared[p["instId"]]) for p in await self.client.positions("SWAP")
                if p.get("instId") in declared and Decimal(p.get("pos") or "0")]

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """Funding bills of every swap from *since_ns* on, oldest first (see the module docstring)."""
        first_ms = -(-since_ns // 1_000_000)                # the first millisecond at or after since_ns
        now_ms = self.client.clock.now_ms()
        recent_from = max(first_ms, now_ms - RECENT_MS + RECENT_MARGIN_MS)
        bills, spent = {}, 0
        if first_ms < recent_from:
            if first_ms < now_ms - ARCHIVE_MS:
                log.warning("okx: funding before %s is older than the 3 months the bills archive keeps; "
                            "not read", _day(now_ms - ARCHIVE_MS))
            spent = await self._funding_bills(first_ms, True, bills, FUNDING_REQUESTS)
        await self._funding_bills(recent_from, False, bills, FUNDING_REQUESTS - spent)
        found = [_funding(b) for b in bills.values() if int(b["ts"]) >= first_ms]
        return sorted(found, key=lambda p: (p.venue_ts_ns, int(p.payment_id)))

    async def _funding_bills(self, begin_ms: int, archive: bool, into: dict, requests: int) -> int:
        """Walk one endpoint's funding bills from *begin_ms* on, newest page first, into *into*
        (by billId); how many requests it took."""
        params = {**FUNDING_BILLS, "begin": str(begin_ms - 1)}
        for n in range(1, requests + 1):
            page = await self.client.bills(params, archive)
            if not page:
                return n
            into.update((b["billId"], b) for b in page)
            params["after"] = min(page, key=lambda b: int(b["billId"]))["billId"]
        raise VenueError(f"okx: the funding bills since {_day(begin_ms)} need more than {FUNDING_REQUESTS} requests "
                         f"(100 a page); none kept, as a part would leave out the oldest")

    def user_stream(self):
        from .stream import OkxUserStream

        return OkxUserStream(self.client, self.settings)

    async def close(self) -> None:
        await self.client.close()
