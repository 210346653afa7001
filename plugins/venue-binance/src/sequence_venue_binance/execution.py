"""Binance execution session: spot (api.binance.com) and USD-M perpetuals (fapi.binance.com).

Spot order types: ``market`` -> MARKET; ``ioc`` -> LIMIT + timeInForce IOC (MARKET if no price);
``limit`` -> LIMIT GTC; ``post_only`` -> LIMIT_MAKER (Binance rejects it if it would take).
The client order id is the node's (``newClientOrderId``), so a lost answer is resolved by
asking for the order by that id; Binance also refuses a duplicate id (-2010), so nothing is
placed twice. Spot amend: a quantity decrease is native (``order/amend/keepPriority``: same order,
same client id, queue place kept); a price change or increase is cancel-replace by the engine
(spot has no in-place amend for those). Fees arrive in the commission asset; a base-asset
commission is converted to quote at the fill price (BNB commissions cannot be priced here and
are recorded as 0).

USD-M perps (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api):
``POST /fapi/v1/order`` with ``newClientOrderId`` = the node's client id (rule
``^[\\.A-Z\\:/a-z0-9_-]{1,36}$``, "unique among open orders": the engine never re-sends a place,
it asks ``GET /fapi/v1/order?origClientOrderId=`` after a lost answer) and
``newOrderRespType=RESULT`` (a MARKET or IOC order comes back in its final state). ``market`` ->
MARKET; ``ioc`` -> LIMIT IOC; ``limit`` -> LIMIT GTC; ``post_only`` -> LIMIT GTX ("Good Till
Crossing (Post Only)"; one that would take is refused with -5022). Quantities are base units
(one contract = one base unit). Fills come from ``GET /fapi/v1/userTrades?orderId=``: ``id``
(the trade id the private stream's ``o.t`` carries), ``price``, ``qty``, ``commission`` in
``commissionAsset`` (USDT, or BNB with the BNB fee discount on: recorded as 0), ``maker``.
A final order whose listed trades do not yet add up to ``executedQty`` stays open here, so
the engine reads it again. Amend is native for resting perp orders: ``PUT /fapi/v1/order``
(LIMIT only; price and quantity both sent) changes the order in place under the same ids;
"modified orders will be reordered in the match queue", so the queue place is lost; Binance
cancels the order if the new quantity is at or under what has filled, or if a GTX order's new
price would take. ``positions()`` reads ``GET /fapi/v3/positionRisk``: ``positionAmt`` (signed,
short negative), ``entryPrice``, ``markPrice``, ``unRealizedProfit``, ``liquidationPrice`` (0 when
none), margin = ``isolatedWallet`` for an isolated position, else ``positionInitialMargin``.

Assumed account settings: One-way position mode (``positionSide`` BOTH); margin type and
leverage are the account's per-symbol settings (Binance's defaults: cross margin, 20x) and are
never changed here. Before the first perp order (and again after ``MODE_TTL_S``) the session
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
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

from sequence_core.errors import AuthenticationError, InvalidOrder, OrderNotFound, VenueError
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill, VenuePosition, perp_margin

from .http import DEFAULT_BASE_URL, DEFAULT_FAPI_URL, BinanceClient, BinanceFuturesClient
from .symbols import PERP_SUFFIX, fapi_symbol

log = logging.getLogger("sequence.venue.binance")
MODE_TTL_S = 60.0
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


def _fee_in_quote(price: Decimal, commission: Decimal, asset: str, inst) -> Decimal:
    if asset == inst.quote:
        return commission
    if asset == inst.base:
        return commission * price
    return Decimal(0)


def _dec(value) -> Decimal | None:
    return Decimal(str(value)) if value not in (None, "") else None


def _price(order: dict) -> Decimal | None:
    """The order's limit price (Binance sends 0 for a market order)."""
    price = _dec(order.get("price"))
    return price if price else None


def _state(order: dict, fills: tuple = ()) -> OrderState:
    return OrderState(order["clientOrderId"], str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                      Decimal(order["executedQty"]), fills, price=_price(order),
                      qty=Decimal(order["origQty"]) if "origQty" in order else None,
                      venue_ts_ns=order.get("updateTime", order.get("transactTime", 0)) * 1_000_000)


def perp_fill(t: dict, inst) -> VenueFill:
    """One ``/fapi/v1/userTrades`` row as a fill (fee in the quote asset where it can be)."""
    price = Decimal(t["price"])
    fee = _fee_in_quote(price, Decimal(t.get("commission") or "0"), t.get("commissionAsset") or "", inst)
    return VenueFill(str(t["id"]), price, Decimal(t["qty"]), fee, inst.quote, "maker" if t.get("maker") else "taker",
                     int(t["time"]) * 1_000_000)


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


def _perp_node(node) -> bool:
    return node.symbol.upper().endswith("-PERP") or node.symbol.endswith(PERP_SUFFIX)


class BinanceSession(ExecutionSession):
    venue = "binance"
    amend_mode = "native_atomic"     # spot: a quantity decrease only; perps: resting limits (see native_amend)

    def __init__(self, client: BinanceClient, settings: dict | None = None, futures: BinanceFuturesClient | None = None):
        self.client, self.settings = client, dict(settings or {})
        self.futures = futures or BinanceFuturesClient(client._key, client._secret, fapi_url(self.settings, client))
        self._one_way_at = -MODE_TTL_S

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
        fills = tuple(VenueFill(str(f["tradeId"]), Decimal(f["price"]), Decimal(f["qty"]),
                                _fee_in_quote(Decimal(f["price"]), Decimal(f["commission"]), f["commissionAsset"], instrument),
                                instrument.quote, "taker", answer.get("transactTime", 0) * 1_000_000)
                      for f in answer.get("fills", []))
        return OrderState(node.client_order_id, str(answer["orderId"]), STATUS.get(answer["status"], "NEW"),
                          Decimal(answer.get("executedQty", "0")), fills, venue_ts_ns=answer.get("transactTime", 0) * 1_000_000)

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
        fills = tuple(VenueFill(str(t["id"]), Decimal(t["price"]), Decimal(t["qty"]),
                                _fee_in_quote(Decimal(t["price"]), Decimal(t["commission"]), t["commissionAsset"], instrument),
                                instrument.quote, "maker" if t.get("isMaker") else "taker", t["time"] * 1_000_000) for t in trades)
        return OrderState(client_order_id, str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                          Decimal(order["executedQty"]), fills, venue_ts_ns=order.get("updateTime", 0) * 1_000_000)

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

    async def balances(self):
        account, futures = await asyncio.gather(self.client.account(), self._futures_available())
        out = {b["asset"]: Decimal(b["free"]) for b in account.get("balances", [])}
        out.update((perp_margin(asset), available) for asset, available in futures.items())
        return out

    async def positions(self) -> list[VenuePosition]:
        """USD-M positions as Binance reports them (a short is negative)."""
        rows = await self.futures.position_risk()
        if any(r.get("positionSide", "BOTH") != "BOTH" for r in rows):
            raise VenueError(HEDGE_MODE)
        return [perp_position(r) for r in rows if Decimal(r.get("positionAmt") or "0")]

    async def close(self) -> None:
        await self.client.close()
        await self.futures.close()

    # -- USD-M -----------------------------------------------------------------------------
    async def _place_perp(self, node, instrument) -> OrderState:
        await self._refuse_hedge_mode()
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

    async def _futures_available(self) -> dict[str, Decimal]:
        try:
            rows = await self.futures.balance()
        except AuthenticationError as exc:      # a key without futures permission still trades spot
            log.info("binance USD-M wallet not readable: %s", exc)
            return {}
        return {r["asset"]: Decimal(r.get("availableBalance") or "0") for r in rows}
