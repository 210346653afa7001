"""Bitget unified trading account (UTA, the v3 API): spot and USDT-M perpetuals for an account
upgraded to UTA, which the classic v2 private API refuses (40085; http.py). execution.py's
``BitgetSession`` hands every call here once ``[venues.bitget] account`` (``auto``: detected
once, http.py ``account_mode``) says ``uta``. Endpoints and their doc pages: http.py.

Orders are the classic path's, in v3 names (the ``bitget-api`` npm package's
``PlaceOrderRequestV3``, src/types/request/v3/trade.ts; Bitget's page is
https://www.bitget.com/api-doc/uta/trade/Place-Order): ``category`` SPOT or USDT-FUTURES,
``qty`` (base coin), ``timeInForce`` ``ioc`` / ``gtc`` / ``post_only``, ``clientOid`` = the
node's client order id. A spot market *buy* is refused unless it carries a limit (then an IOC
at it), as on the classic path: the Get-Order-Details page's own example market buy has
``qty "0"`` and ``amount "100"`` (quote), so its size is not the base quantity the engine
holds. Perps: cross margin (``marginMode=crossed``) and one-way mode, no ``posSide``; before
the first perp order on a symbol (and again after ``MODE_TTL_S``) ``/api/v3/account/settings``
is read and ``holdMode=hedge_mode``, or the symbol's ``symbolConfigList`` entry with
``marginMode=isolated``, refused before sending; then ``[venues.bitget] leverage``, when set, is
set on the symbol with ``POST /api/v3/account/set-leverage`` (``sequence_core.execution.Leverage``, http.py).

An order is read with ``GET /api/v3/trade/order-info`` (one order, ``orderId`` or
``clientOid``; https://www.bitget.com/api-doc/uta/trade/Get-Order-Details): ``orderStatus``
(read with the classic table: ``live``/``new`` working, ``partially_filled``, ``filled``,
``cancelled``; the page's example shows ``filled``, its full v3 list was not read here), ``qty``, ``price``, ``cumExecQty`` (base), ``updatedTime``. By the ``orderId`` the place
answer gave when the session knows it; else by ``clientOid``, and if that finds nothing (Bitget
limits the classic spot lookup by ``clientOid`` to two hours; no such limit is documented for
v3, none is assumed either) among the symbol's ``unfilled-orders`` and the newest page of its
``history-orders``. So a lost place answer, or a restart, finds the order without sending it
again. Not-found: a refusal mapped to ``OrderNotFound``, or an empty ``data``.

Fills from ``GET /api/v3/trade/fills?orderId=`` (``{list, cursor}``; each ``execId``,
``execPrice``, ``execQty``, ``tradeScope`` maker/taker, ``feeDetail`` a list of ``{feeCoin,
fee}``, ``createdTime``). The fee is reported as charged, in the coin charged: v3 sends the
fee paid positive (https://www.bitget.com/api-doc/uta/trade/Get-Order-Fills: a taker sell of
1069.501 USDT with ``feeDetail [{feeCoin USDT, fee 0.6417006}]``, 0.06%; the Get-Order-Details
example: a market buy of ETH with ``fee 0.00000744`` in ``ETH``), unlike v2's negative ``totalFee``.

Balances from ``GET /api/v3/account/assets`` (``assets[].available`` per ``coin``). UTA keeps
spot and futures in one account, so there is no perp-margin wallet: a perp order is checked
against USDT itself, as on Bybit unified. Positions from
``GET /api/v3/position/current-position?category=USDT-FUTURES`` (``total`` signed by
``posSide`` long/short, ``avgPrice``, ``markPrice``, ``unrealisedPnl``, ``positionBalance`` as
margin, ``liquidationPrice``, a non-positive one reported as none).

Funding from ``GET /api/v3/account/financial-records``
(https://www.bitget.com/api-doc/uta/account/Get-Financial-Records): "financial records within
the last 90 days", ``startTime``..``endTime`` at most 30 days apart, ``limit`` at most 100,
``cursor`` from the last page for the next one; rows ``{category, id, symbol, coin, type,
amount, fee, balance, ts}``. Funding is ``type`` ``CONTRACT_MAIN_SETTLE_FEE_USER_IN``
("Funding fee collection") or ``CONTRACT_MAIN_SETTLE_FEE_USER_OUT`` ("Funding fee deduction")
(the page's enumeration, as listed in Bitget's tax docs and SDKs); each is read with its own
``type`` filter, and the sign is the type's (in: received > 0, out: paid < 0), whatever sign
``amount`` carries. The same 30-day windows and request cap as the classic bills
(execution.py).

Private websocket (stream.py: the v3 socket, its login and topics): ``uta_pushed`` reads its
pushes. An ``order`` push (https://www.bitget.com/api-doc/uta/websocket/private/Order-Channel)
is the order in the REST names ``uta_state`` reads (``clientOid``, ``orderId``,
``orderStatus``, ``qty``, ``price`` empty for a market order, ``cumExecQty``, ``updatedTime``;
the page's example spells ``category`` ``usdt-futures``) and carries no fill. A ``fill`` push
(https://www.bitget.com/api-doc/uta/websocket/private/Fill-Channel) is one fill per item, in the
REST fill's names (``execId``, ``execPrice``, ``execQty``, ``tradeScope``, ``feeDetail``
``[{feeCoin, fee}]`` positive as charged: the page's taker fill of 949.93 USDT pays
``0.569958``, 0.06%) with ``orderId``, ``clientOid`` and ``category`` (``USDT-FUTURES`` in that
example; read in either case), its time in ``execTime`` where REST says ``createdTime``. So it
is read by ``uta_fill``, to the same ``VenueFill`` a poll reads. Only SPOT and USDT-FUTURES
items with a ``clientOid`` can be ours (margin, coin-M and USDC-M ones are skipped).
"""

from __future__ import annotations

import time
from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import FundingPayment, OrderState, VenueFill, VenuePosition

from .execution import STATUS, OrderIds, _dec
from .symbols import MARGIN_COIN, PERP_SUFFIX, PRODUCT_TYPE, ours, where

SPOT = "SPOT"
MODE_TTL_S = 60.0
FUNDING_TYPES = {"CONTRACT_MAIN_SETTLE_FEE_USER_IN": 1, "CONTRACT_MAIN_SETTLE_FEE_USER_OUT": -1}


def category(inst) -> tuple[str, str]:
    """(v3 ``category``, Bitget symbol) of one of our instruments."""
    product, symbol = where(inst)
    return product or SPOT, symbol


def _fee(detail: list, quote: str) -> tuple[Decimal, str]:
    """The fee charged (v3 sends it positive) and its coin: one ``feeDetail`` entry per coin."""
    coin = (detail[0].get("feeCoin") or quote) if detail else quote
    return sum((Decimal(d.get("fee") or "0") for d in detail if (d.get("feeCoin") or quote) == coin), Decimal(0)), coin


def uta_fill(f: dict, inst) -> VenueFill:
    """A fill as ``/api/v3/trade/fills`` answers it (``createdTime``) or the ``fill`` topic pushes it (``execTime``)."""
    return VenueFill(str(f["execId"]), Decimal(f["execPrice"]), Decimal(f["execQty"]), *_fee(f.get("feeDetail") or [], inst.quote),
                     "maker" if f.get("tradeScope") == "maker" else "taker", int(f.get("createdTime") or f["execTime"]) * 1_000_000)


def uta_state(o: dict, fills: tuple = ()) -> OrderState:
    return OrderState(o["clientOid"], str(o["orderId"]), STATUS.get(o.get("orderStatus"), "NEW"),
                      Decimal(o.get("cumExecQty") or "0"), fills,
                      price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["qty"]) if o.get("qty") not in (None, "", "0") else None,
                      venue_ts_ns=int(o.get("updatedTime") or 0) * 1_000_000)


def uta_pushed(topic: str, data, instruments: dict) -> list[OrderState]:
    """The order states of one v3 ``order`` or ``fill`` push (*instruments* by our venue symbol)."""
    out = []
    for item in data if isinstance(data, list) else [data]:
        cat = str(item.get("category") or "").upper()
        if cat not in (SPOT, PRODUCT_TYPE) or not item.get("clientOid"):
            continue                           # not a book we trade, or not an order of ours
        if topic == "order":
            out.append(uta_state(item))
        elif (inst := instruments.get(ours(item["symbol"], cat))) is not None:
            # a fill says nothing of the order's status: "NEW" never overrides one the engine knows
            out.append(OrderState(item["clientOid"], str(item["orderId"]), "NEW", Decimal(0), (uta_fill(item, inst),)))
    return out


def uta_position(p: dict) -> VenuePosition:
    liq = _dec(p.get("liquidationPrice"))
    return VenuePosition(p["symbol"] + PERP_SUFFIX, Decimal(p["total"]) * (-1 if p.get("posSide") == "short" else 1),
                         _dec(p.get("avgPrice")), _dec(p.get("markPrice")), _dec(p.get("unrealisedPnl")),
                         _dec(p.get("positionBalance")), liq if liq and liq > 0 else None)


def uta_funding(r: dict) -> FundingPayment | None:
    sign = FUNDING_TYPES.get(r.get("type"))
    if sign is None:
        return None
    return FundingPayment(str(r["id"]), ours(r["symbol"].upper(), PRODUCT_TYPE), (r.get("coin") or MARGIN_COIN).upper(),
                          sign * abs(Decimal(r["amount"])), int(r["ts"]) * 1_000_000)


class UtaTrading:
    """The v3 calls behind ``BitgetSession`` for a unified trading account."""

    def __init__(self, client, leverage):
        self.client, self.leverage = client, leverage
        self._modes_checked: dict[str, float] = {}
        self._ids = OrderIds()

    async def _one_way_cross(self, symbol: str) -> None:
        if time.monotonic() - self._modes_checked.get(symbol, -MODE_TTL_S) < MODE_TTL_S:
            return
        settings = await self.client.account_settings()
        if settings.get("holdMode") == "hedge_mode":
            raise InvalidOrder("bitget: this unified account is in hedge mode (open/close legs); this adapter trades "
                               "one-way mode only: switch it to one-way mode at Bitget")
        for c in settings.get("symbolConfigList") or []:
            if c.get("category") == PRODUCT_TYPE and c.get("symbol") == symbol and c.get("marginMode") == "isolated":
                raise InvalidOrder(f"bitget: {symbol} is set to isolated margin; this adapter trades cross margin only: "
                                   "switch the symbol to cross margin at Bitget")
        self._modes_checked[symbol] = time.monotonic()

    @staticmethod
    def order_body(node, cat: str, symbol: str) -> dict:
        body = {"category": cat, "symbol": symbol, "side": node.side, "qty": f"{node.qty:f}", "clientOid": node.client_order_id}
        if node.limit_price is None:
            if node.side == "buy" and cat == SPOT:
                raise InvalidOrder("bitget reads a market buy's size in the quote coin; give a limit price (an IOC at it is sent)")
            body["orderType"] = "market"
        else:
            force = {"ioc": "ioc", "market": "ioc", "post_only": "post_only"}.get(node.order_type, "gtc")
            body.update(orderType="limit", timeInForce=force, price=f"{node.limit_price:f}")
        if cat != SPOT:
            body["marginMode"] = "crossed"
        return body

    async def place(self, node, instrument) -> None:
        cat, symbol = category(instrument)
        body = self.order_body(node, cat, symbol)
        if cat != SPOT:
            await self._one_way_cross(symbol)
            await self.leverage.ensure(symbol, instrument.symbol, self.client.uta_set_leverage, self.client.max_leverage)
        self._ids.remember(node.client_order_id, (await self.client.uta_place(body) or {}).get("orderId"))

    async def _lookup(self, client_oid: str, cat: str, symbol: str) -> dict | None:
        """By the known ``orderId``, else by ``clientOid``, else among open and recent orders."""
        return await self._ids.find(client_oid, self.client.uta_order,
                                    (lambda: self.client.uta_open_orders(cat, symbol),
                                     lambda: self.client.uta_history_orders(cat, symbol)),
                                    lambda order_id: self.client.uta_order(order_id=order_id))

    async def order_state(self, client_order_id: str, instrument) -> OrderState | None:
        cat, symbol = category(instrument)
        try:
            order = await self._lookup(client_order_id, cat, symbol)
        except OrderNotFound:
            return None
        if not order:
            return None
        fills = ()
        if Decimal(order.get("cumExecQty") or "0"):
            fills = tuple(uta_fill(f, instrument) for f in await self.client.uta_fills(cat, str(order["orderId"])))
        return uta_state(order, fills)

    async def cancel(self, node, instrument) -> None:
        await self.client.uta_cancel(category(instrument)[0], node.client_order_id)

    async def open_orders(self, instrument) -> list[OrderState]:
        found = await self.client.uta_open_orders(*category(instrument))
        self._ids.learn(found)
        return [uta_state(o) for o in found]

    async def balances(self) -> dict[str, Decimal]:
        return {a["coin"]: Decimal(a.get("available") or "0") for a in await self.client.uta_assets()}

    async def holdings(self) -> dict[str, Decimal]:
        """Each coin's ``balance`` in the one wallet (locked in open orders included; ``equity``
        would add perp unrealized P&L, which the perp rows carry; ``GET /api/v3/account/assets``,
        https://www.bitget.com/api-doc/uta/account/Get-Account-Assets)."""
        return {a["coin"]: q for a in await self.client.uta_assets() if (q := Decimal(a.get("balance") or "0"))}

    async def positions(self) -> list[VenuePosition]:
        return [uta_position(p) for p in await self.client.uta_positions() if Decimal(p.get("total") or "0")]

    async def window_records(self, start_ms: int, end_ms: int, tickets) -> list | None:
        """Every funding record of one window, both types, page by page (None: the call's
        request budget, *tickets*, ran out first)."""
        found = []
        for kind in FUNDING_TYPES:
            cursor = None
            while True:
                if next(tickets, None) is None:
                    return None
                page = await self.client.financial_records(kind, start_ms, end_ms, cursor)
                rows = page.get("list") or []
                found += rows
                if len(rows) < 100 or page.get("cursor") in (None, "", cursor):
                    break
                cursor = page["cursor"]
        return found


def funding_from_records(rows, since_ns: int = 0) -> list[FundingPayment]:
    """The funding records among *rows* booked at or after *since_ns*, oldest first (one per id)."""
    found = {p.payment_id: p for r in rows if (p := uta_funding(r)) is not None}
    return sorted((p for p in found.values() if p.venue_ts_ns >= since_ns),
                  key=lambda p: (p.venue_ts_ns, len(p.payment_id), p.payment_id))
