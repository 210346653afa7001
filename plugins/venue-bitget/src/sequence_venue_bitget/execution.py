"""Bitget v2 execution session: spot and USDT-M perpetual futures (``productType=USDT-FUTURES``).

Order types: ``ioc`` -> limit with ``force=ioc``; ``limit`` -> ``gtc``; ``post_only`` ->
``post_only`` (Bitget cancels it if it would take). A spot ``market`` sell is a market order;
a spot market *buy* is refused unless it carries a limit (then an IOC at it), because Bitget
reads a spot market buy's ``size`` in the quote coin and the engine's quantities are in base.
A perp market order (either side) is a market order: futures sizes are always base coin
(https://www.bitget.com/api-doc/contract/trade/Place-Order).
``clientOid`` is the node's client order id, so a lost answer is resolved by asking for it.
Spot orders are read by ``orderId`` where the session knows it (from the place answer, or
found as below): Bitget's changelog of 2025-03-20 limits the spot order-info query by
``clientOid`` to "the data within last 2 hours" (https://www.bitget.com/api-doc/common/changelog,
"[Mar 20,2025] For Spot get order information endpoints ..."; one version of the
Get-Order-Info page also asks that the order be unfilled), so a resting order placed earlier,
or any order after a restart, may not be found that way. When the ``clientOid`` query
finds nothing, the order is looked for by ``clientOid`` among the symbol's open orders
(``unfilled-orders``, any age) and then the newest page of its order history
(``history-orders``), and read again by the ``orderId`` found there.
Amend is cancel-replace on both: Bitget spot has no in-place amend, and the futures
``modify-order`` is no amend either: a new price or size "will cancel the old order; then
create a new order asynchronously" under a required ``newClientOid``, only for orders with no
fill yet, and one version of the page allows it in hedge mode only
(https://www.bitget.com/api-doc/contract/trade/Modify-Order). The engine's cancel-replace does
the same with its own ids and a confirmed cancel first.

Spot fills from ``trade/fills`` (``feeDetail.totalFee`` negative when charged, in ``feeCoin``,
reported as charged: a buy's fee in the base comes out of the base received, and the ledger
takes it from that holding). Perp fills from
``/api/v2/mix/order/fills`` (``tradeId``, ``price``, ``baseVolume``, ``tradeScope``
maker/taker, ``feeDetail`` a list of ``{feeCoin, totalFee}``, negative when charged, USDT
unless BGB deduction is on, in which case the fee is reported in BGB as charged).
Both also arrive on the private ``orders`` channel (stream.py; a unified account's on the v3
socket's ``order`` and ``fill`` topics).

Perps assume Bitget's defaults for this adapter: one-way position mode and cross margin
(``marginMode=crossed``, ``marginCoin=USDT``, no ``tradeSide``). Before the first perp order
on a symbol (and again after ``MODE_TTL_S``) the session reads
``GET /api/v2/mix/account/account`` and refuses, before sending anything, an account in
``hedge_mode`` or a symbol set to isolated margin. ``positions()`` reads
``/api/v2/mix/position/all-position``: ``total`` signed by ``holdSide`` (long/short; Bitget
reports both in one-way mode too), ``openPriceAvg``, ``markPrice``, ``unrealizedPL``,
``marginSize``, ``liquidationPrice`` (Bitget sends a negative one when a cross position
cannot be liquidated: reported as none).

Funding payments (``funding_payments``) from ``GET /api/v2/mix/account/bill``
(https://www.bitget.com/api-doc/contract/account/Get-Account-Bill): ``productType``,
``businessType=contract_settle_fee`` ("funding fee" in the page's list), ``startTime`` and
``endTime`` in ms at most 30 days apart, ``limit`` at most 100 (default 20), and
``idLessThan`` = the previous page's ``endId`` for older bills; bills are kept for 90 days
("It only supports to get the data within 90days"). The answer is
``{"bills": [{billId, symbol, amount, fee, feeByCoupon, businessType, coin, balance, cTime}],
"endId"}``, ``cTime`` in ms. ``amount`` is the signed change of the futures balance, the
fee apart in ``fee``: the page's example funding bill is ``amount -0.004992``, ``fee 0`` (a
payment), its ``open_long`` bill ``amount 0``, ``fee -0.222012``; funding received is a
positive ``amount`` (public bill readers book it so). A payment is ``billId`` (Bitget's id
for the bill, unique per account), ``symbol`` + ``_UMCBL``, ``coin`` and ``amount`` as
given. The read walks 30-day windows from ``since_ns`` (at most 90 days back) to now, each
newest page first, at most ``MAX_BILL_REQUESTS`` requests a call: past that it returns the
windows it read whole (the engine reads on from the last payment next time) and says so in
the log, or raises if not even the first window fit. A unified trading account (UTA) is
answered 40404 here; Bitget points it at ``/api/v3/account/financial-records``
(https://github.com/ccxt/ccxt/issues/28041).

Leverage: ``[venues.bitget] leverage = 5`` (a positive integer; absent, the account's leverage
is left as it is) sets that cross leverage on a perp symbol before its first order of the
session (``sequence_core.execution.Leverage``; Classic ``set-leverage`` v2, a unified account's
v3, http.py), never for spot. Setting it is idempotent, so it is retried like a read. A refusal above the contract's
maximum (40797) is raised as an ``InvalidOrder`` naming the symbol, the leverage asked and the
contract's ``maxLever``, and the order is not sent. Any other value of the setting is refused
(``ConfigError``) when the session is built.

Account mode: ``[venues.bitget] account`` = ``auto`` (default), ``classic`` or ``uta``. With
``auto`` the first call learns the mode (http.py ``account_mode``: one signed
``/api/v3/account/settings``, kept per key); a unified trading account (UTA) is then served by
uta.py over the v3 API, a Classic one exactly as above.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal

from sequence_core.errors import AuthenticationError, InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import (ExecutionSession, FundingPayment, Leverage, OrderState, VenueFill, VenuePosition,
                                     perp_margin)

from .http import BILL_PAGE, FUNDING_BILL, BitgetClient
from .symbols import MARGIN_COIN, PERP_SUFFIX, PRODUCT_TYPE, ours, where

log = logging.getLogger("sequence.venue.bitget")
MODE_TTL_S = 60.0
DAY_MS = 86_400_000
BILL_WINDOW_MS = 30 * DAY_MS       # startTime..endTime of one bill request
BILL_HISTORY_MS = 90 * DAY_MS      # how far back Bitget serves bills
MAX_BILL_REQUESTS = 50             # per funding_payments call
ORDER_IDS_KEPT = 10_000            # clientOid -> orderId of the spot orders this session saw
STATUS = {"init": "NEW", "new": "NEW", "live": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED",
          "cancelled": "CANCELLED", "canceled": "CANCELLED"}


def _dec(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _futures_wallet(account: dict) -> Decimal:
    """A futures account row's wallet balance: equity less unrealized P&L (``holdings``)."""
    upl = _dec(account.get("unrealizedPL"))
    if upl is None:   # sent empty: the cross and isolated parts instead
        upl = sum((_dec(account.get(k)) or Decimal(0) for k in ("crossedUnrealizedPL", "isolatedUnrealizedPL")), Decimal(0))
    return Decimal(account.get("accountEquity") or "0") - upl


def charged(total_fee, coin: str | None, inst) -> tuple[Decimal, str]:
    """A spot fill's fee as Bitget charged it (sent negative): amount and coin, the quote when
    none is named (a base coin or a BGB deduction as it is)."""
    return -Decimal(total_fee or "0"), coin or inst.quote


def _fill(f: dict, inst) -> VenueFill:
    price, detail = Decimal(f["priceAvg"]), f.get("feeDetail") or {}
    return VenueFill(str(f["tradeId"]), price, Decimal(f["size"]), *charged(detail.get("totalFee"), detail.get("feeCoin"), inst),
                     "maker" if f.get("tradeScope") == "maker" else "taker", int(f["cTime"]) * 1_000_000)


def _perp_fee(detail: list, quote: str) -> tuple[Decimal, str]:
    """The fee Bitget charged (positive) and its coin: one ``feeDetail`` entry per coin."""
    coin = (detail[0].get("feeCoin") or quote) if detail else quote
    return -sum((Decimal(d.get("totalFee") or "0") for d in detail if (d.get("feeCoin") or quote) == coin), Decimal(0)), coin


def _perp_fill(f: dict, inst) -> VenueFill:
    fee, coin = _perp_fee(f.get("feeDetail") or [], inst.quote)
    return VenueFill(str(f["tradeId"]), Decimal(f["price"]), Decimal(f["baseVolume"]), fee, coin,
                     "maker" if f.get("tradeScope") == "maker" else "taker", int(f["cTime"]) * 1_000_000)


def _state(o: dict, fills: tuple = ()) -> OrderState:
    """Spot orders, and perp ones (their detail says ``state``, their lists ``status``)."""
    return OrderState(o["clientOid"], str(o["orderId"]), STATUS.get(o.get("status") or o.get("state"), "NEW"),
                      Decimal(o.get("baseVolume") or "0"), fills,
                      price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["size"]) if o.get("size") else None, venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


def _position(p: dict) -> VenuePosition:
    size = Decimal(p["total"]) * (-1 if p.get("holdSide") == "short" else 1)
    liq = _dec(p.get("liquidationPrice"))
    return VenuePosition(p["symbol"] + PERP_SUFFIX, size, _dec(p.get("openPriceAvg")), _dec(p.get("markPrice")),
                         _dec(p.get("unrealizedPL")), _dec(p.get("marginSize")), liq if liq and liq > 0 else None)


def _funding(bill: dict) -> FundingPayment:
    return FundingPayment(str(bill["billId"]), ours(bill["symbol"].upper(), PRODUCT_TYPE), (bill.get("coin") or MARGIN_COIN).upper(),
                          Decimal(bill["amount"]), int(bill["cTime"]) * 1_000_000)


def funding_from(bills, since_ns: int = 0) -> list[FundingPayment]:
    """The funding bills among *bills* booked at or after *since_ns*, oldest first (one per id)."""
    found = {b["billId"]: _funding(b) for b in bills if b.get("businessType") == FUNDING_BILL}
    return sorted((p for p in found.values() if p.venue_ts_ns >= since_ns),
                  key=lambda p: (p.venue_ts_ns, len(p.payment_id), p.payment_id))


def _windows(start_ms: int, end_ms: int):
    """[start, end] in spans Bitget accepts (the shared edge is read twice; bills are kept by id)."""
    while True:
        stop = min(start_ms + BILL_WINDOW_MS, end_ms)
        yield start_ms, stop
        if stop >= end_ms:
            return
        start_ms = stop


class OrderIds:
    """``clientOid`` -> ``orderId`` of the orders a session saw (the newest ORDER_IDS_KEPT), and
    the lookup both APIs share: by the known ``orderId``, else by ``clientOid``, else found among
    the listings (open orders, then history) and read by its ``orderId``."""

    def __init__(self):
        self.ids: dict[str, str] = {}

    def remember(self, client_oid, order_id) -> None:
        if client_oid and order_id:
            self.ids[client_oid] = str(order_id)
            if len(self.ids) > ORDER_IDS_KEPT:
                self.ids.pop(next(iter(self.ids)))

    def learn(self, rows) -> None:
        for o in rows or []:
            self.remember(o.get("clientOid"), o.get("orderId"))

    async def find(self, client_oid: str, by_client, listings, by_id) -> dict | None:
        if client_oid not in self.ids:
            try:
                if found := await by_client(client_oid):
                    self.remember(client_oid, found.get("orderId"))
                    return found
            except OrderNotFound:
                pass
            for rows in listings:
                self.learn(await rows())
                if client_oid in self.ids:
                    break
            else:
                return None
        return await by_id(self.ids[client_oid])


class BitgetSession(ExecutionSession):
    venue = "bitget"
    amend_mode = "cancel_replace"

    def __init__(self, client: BitgetClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._modes_checked: dict[str, float] = {}
        self._ids = OrderIds()
        self._unified = None
        self.leverage = Leverage("bitget", "Bitget", self.settings)

    async def _uta(self):
        """The v3 calls (uta.py) when this is a unified trading account, else None."""
        if await self.client.account_mode(self.settings.get("account", "auto")) != "uta":
            return None
        if self._unified is None:
            from .uta import UtaTrading

            self._unified = UtaTrading(self.client, self.leverage)
        return self._unified

    def user_stream(self):
        """The private socket: v2 for a Classic account, v3 for a unified one, chosen by the
        stream itself at each connect (stream.py)."""
        from .stream import BitgetUserStream

        return BitgetUserStream(self.client, self.settings)

    async def _one_way_cross(self, symbol: str) -> None:
        """Refuse (before sending) what this adapter does not trade: hedge mode, isolated margin."""
        if time.monotonic() - self._modes_checked.get(symbol, -MODE_TTL_S) < MODE_TTL_S:
            return
        account = await self.client.perp_account(symbol) or {}
        if account.get("posMode") == "hedge_mode":
            raise InvalidOrder("bitget: this futures account is in hedge mode (open/close legs); this adapter trades "
                               "one-way mode only: switch USDT-M futures to one-way mode at Bitget")
        if account.get("marginMode") == "isolated":
            raise InvalidOrder(f"bitget: {symbol} is set to isolated margin; this adapter trades cross margin only: "
                               "switch the symbol to cross margin at Bitget")
        self._modes_checked[symbol] = time.monotonic()

    def _order_body(self, node, symbol: str, perp: bool) -> dict:
        body = {"symbol": symbol, "side": node.side, "size": f"{node.qty:f}", "clientOid": node.client_order_id}
        if node.limit_price is None:
            if node.side == "buy" and not perp:
                raise InvalidOrder("bitget reads a market buy's size in the quote coin; give a limit price (an IOC at it is sent)")
            body.update(orderType="market", **({} if perp else {"force": "gtc"}))
        else:
            force = {"ioc": "ioc", "market": "ioc", "post_only": "post_only"}.get(node.order_type, "gtc")
            body.update(orderType="limit", force=force, price=f"{node.limit_price:f}")
        return body

    async def place(self, node, instrument) -> OrderState:
        if (uta := await self._uta()) is not None:
            await uta.place(node, instrument)
            return await self.order_state(node.client_order_id, instrument)
        product, symbol = where(instrument)
        body = self._order_body(node, symbol, product is not None)
        if product is None:
            self._ids.remember(node.client_order_id, (await self.client.place(body) or {}).get("orderId"))
        else:
            await self._one_way_cross(symbol)
            await self.leverage.ensure(symbol, instrument.symbol, self.client.set_leverage, self.client.max_leverage)
            await self.client.perp_place({**body, "marginMode": "crossed"})
        return await self.order_state(node.client_order_id, instrument)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        if (uta := await self._uta()) is not None:
            return await uta.order_state(client_order_id, instrument)
        product, symbol = where(instrument)
        try:
            order = await (self._spot_order(client_order_id, symbol) if product is None
                           else self.client.perp_order(symbol, client_order_id))
        except OrderNotFound:
            return None
        if not order:
            return None
        fills = ()
        if Decimal(order.get("baseVolume") or "0"):
            if product is None:
                fills = tuple(_fill(f, instrument) for f in await self.client.fills(symbol, order["orderId"]))
            else:
                fills = tuple(_perp_fill(f, instrument) for f in await self.client.perp_fills(symbol, order["orderId"]))
        return _state(order, fills)

    async def _spot_order(self, client_oid: str, symbol: str) -> dict | None:
        """A spot order by its ``orderId`` if known, else by ``clientOid`` (2 hours), else
        found among the open orders and the order history (module docstring)."""
        return await self._ids.find(client_oid, self.client.order,
                                    (lambda: self.client.open_orders(symbol), lambda: self.client.history_orders(symbol)),
                                    lambda order_id: self.client.order(order_id=order_id))

    async def cancel(self, node, instrument) -> OrderState:
        if (uta := await self._uta()) is not None:
            return await self.cancel_and_read(node, instrument, lambda: uta.cancel(node, instrument))
        product, symbol = where(instrument)
        cancel = self.client.cancel if product is None else self.client.perp_cancel
        return await self.cancel_and_read(node, instrument, lambda: cancel(symbol, node.client_order_id))

    async def open_orders(self, instrument) -> list[OrderState]:
        if (uta := await self._uta()) is not None:
            return await uta.open_orders(instrument)
        product, symbol = where(instrument)
        if product is not None:
            return [_state(o) for o in await self.client.perp_open_orders(symbol)]
        found = await self.client.open_orders(symbol)
        self._ids.learn(found)
        # unfilled-orders sends the order's price as priceAvg ("Order price"), without price
        return [_state({**o, "price": o.get("price") or o.get("priceAvg")}) for o in found]

    async def balances(self):
        """Free spot balances per coin, and the futures account's ``crossedMaxAvailable`` (what
        cross margin can open with) as perp margin (``sequence_core.execution.perp_margin``):
        Bitget keeps futures margin in an account of its own, and the engine checks a perp
        order against it. A unified account has one wallet: its free coins, no perp margin apart."""
        if (uta := await self._uta()) is not None:
            return await uta.balances()
        out = {a["coin"]: Decimal(a.get("available") or "0") for a in await self.client.assets()}
        for a in await self._futures_accounts():
            out[perp_margin(MARGIN_COIN)] = Decimal(a.get("crossedMaxAvailable") or a.get("available") or "0")
        return out

    async def holdings(self):
        """Each spot coin's ``available + frozen + locked`` (Get Account Assets,
        https://www.bitget.com/api-doc/spot/account/Get-Account-Assets), plus the USDT-M futures
        account's wallet balance without unrealized P&L, added to USDT: the ledger books perp
        P&L, fees and funding into that coin, and the perp rows carry the unrealized P&L, so
        counting it here too would count it twice. A unified account's from its one wallet (uta.py).

        The wallet balance is ``accountEquity - unrealizedPL`` of the ``marginCoin`` USDT row of
        GET /api/v2/mix/account/accounts (Get Account List,
        https://www.bitget.com/api-doc/contract/account/Get-Account-List): ``accountEquity`` is
        the "Account equity (margin coin), Includes unrealized PnL (based on mark price)",
        ``unrealizedPL`` the account's unrealized PnL. Equity less P&L is used rather than
        ``available + locked + isolatedMargin + crossedMargin`` because the page does not say
        which of those overlap (``locked`` is only "Locked quantity", ``isolatedMargin`` and
        ``crossedMargin`` "Margin Occupied"); in one version of the example answer on Get
        Single Account (the same fields, ``isolatedMargin``/``crossedMargin`` null there,
        https://www.bitget.com/api-doc/contract/account/Get-Single-Account)
        ``accountEquity - unrealizedPL`` is exactly ``available + locked`` (-4767.74182959 +
        267.63713333 = -4500.10469626). The Get Account List example sends ``unrealizedPL``
        empty with ``crossedUnrealizedPL`` / ``isolatedUnrealizedPL`` ("unrealizedPL for
        crossed / isolated") filled: then their sum is the P&L taken off. In multi-assets mode
        (``assetMode`` union) the USDT equity can be negative (USDT owed against other
        collateral): it is counted as it is. A key without futures permission (the read is
        refused as an authentication error): spot only, as in ``balances``."""
        if (uta := await self._uta()) is not None:
            return await uta.holdings()
        out = {a["coin"]: sum((Decimal(a.get(k) or "0") for k in ("available", "frozen", "locked")), Decimal(0))
               for a in await self.client.assets()}
        for a in await self._futures_accounts():
            out[MARGIN_COIN] = out.get(MARGIN_COIN, Decimal(0)) + _futures_wallet(a)
        return {coin: q for coin, q in out.items() if q}

    async def _futures_accounts(self) -> list:
        """The USDT-M futures account's USDT row(s) (GET /api/v2/mix/account/accounts), none when
        the key may not read futures."""
        try:
            return [a for a in await self.client.perp_accounts() if a.get("marginCoin") == MARGIN_COIN]
        except AuthenticationError as exc:   # a key without futures permission still trades spot
            log.info("bitget futures account not readable: %s", exc)
            return []

    async def positions(self) -> list[VenuePosition]:
        """USDT-M perpetual positions as Bitget reports them (a short is negative)."""
        if (uta := await self._uta()) is not None:
            return await uta.positions()
        return [_position(p) for p in await self.client.positions() if Decimal(p.get("total") or "0")]

    async def _window_bills(self, start_ms: int, end_ms: int, tickets) -> list | None:
        """Every funding bill of one window, page by page back to its start (None: the
        call's request budget, *tickets*, ran out first)."""
        found, before = [], None
        while next(tickets, None) is not None:
            page = await self.client.funding_bills(start_ms, end_ms, before)
            rows = page.get("bills") or []
            found += rows
            if len(rows) < BILL_PAGE or page.get("endId") in (None, "", before):
                return found
            before = page["endId"]
        return None

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        """USDT-M funding bills booked at or after *since_ns*, oldest first (module docstring;
        a unified account's from its financial records, uta.py)."""
        if (uta := await self._uta()) is not None:
            from .uta import funding_from_records

            return funding_from_records(await self._walk_windows(since_ns, uta.window_records), since_ns)
        return funding_from(await self._walk_windows(since_ns, self._window_bills), since_ns)

    async def _walk_windows(self, since_ns: int, read_window) -> list:
        """Every row ``read_window(lo, hi, tickets)`` gives for the 30-day windows from *since_ns*
        (at most 90 days back) to now, within ``MAX_BILL_REQUESTS`` requests."""
        now_ms = self.client.clock.now_ms()
        start_ms = min(since_ns // 1_000_000, now_ms)
        if start_ms < now_ms - BILL_HISTORY_MS:
            log.warning("bitget serves futures bills for 90 days: funding before that is not read")
            start_ms = now_ms - BILL_HISTORY_MS
        bills, tickets = [], iter(range(MAX_BILL_REQUESTS))
        for lo, hi in _windows(start_ms, now_ms):
            window = await read_window(lo, hi, tickets)
            if window is None:
                if not bills:
                    raise VenueError(f"bitget: the funding bills of the 30 days from {lo} ms take more than "
                                     f"{MAX_BILL_REQUESTS} requests of {BILL_PAGE}; none were returned")
                log.warning("bitget: funding read up to %d ms only (%d requests); the rest on the next read", lo, MAX_BILL_REQUESTS)
                break
            bills += window
        return bills

    async def close(self) -> None:
        await self.client.close()
