"""Binance spot execution session: the engine's node orders as Binance orders.

Order types: ``market`` -> MARKET; ``ioc`` -> LIMIT + timeInForce IOC (MARKET if no price);
``limit`` -> LIMIT GTC; ``post_only`` -> LIMIT_MAKER (Binance rejects it if it would take).
The client order id is the node's (``newClientOrderId``), so a lost answer is resolved by
asking for the order by that id; Binance also refuses a duplicate id (-2010), so nothing is
placed twice. Amend: a quantity decrease is native (``order/amend/keepPriority``: same order,
same client id, queue place kept); a price change or increase is cancel-replace by the engine
(spot has no in-place amend for those). Fees arrive in
the commission asset; a base-asset commission is converted to quote at the fill price (BNB
commissions cannot be priced here and are recorded as 0 with the asset noted in the reason).
Perpetuals (USD-M, another host) are not traded by this session yet.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill

from .http import BinanceClient

STATUS = {"NEW": "NEW", "PARTIALLY_FILLED": "PARTIALLY_FILLED", "FILLED": "FILLED", "CANCELED": "CANCELLED",
          "PENDING_CANCEL": "NEW", "REJECTED": "REJECTED", "EXPIRED": "EXPIRED", "EXPIRED_IN_MATCH": "EXPIRED"}


def _fee_in_quote(price: Decimal, commission: Decimal, asset: str, inst) -> Decimal:
    if asset == inst.quote:
        return commission
    if asset == inst.base:
        return commission * price
    return Decimal(0)


def _state(order: dict, fills: tuple = ()) -> OrderState:
    return OrderState(order["clientOrderId"], str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                      Decimal(order["executedQty"]), fills, price=Decimal(order["price"]) if "price" in order else None,
                      qty=Decimal(order["origQty"]) if "origQty" in order else None,
                      venue_ts_ns=order.get("updateTime", order.get("transactTime", 0)) * 1_000_000)


class BinanceSession(ExecutionSession):
    venue = "binance"
    amend_mode = "native_atomic"     # for a quantity decrease; see native_amend

    def __init__(self, client: BinanceClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})

    def user_stream(self):
        from .stream import BinanceUserStream

        return BinanceUserStream(self.client, self.settings)

    def _symbol(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"binance: {inst.symbol} is a perpetual; this adapter trades spot books only so far")
        return inst.venue_symbol

    async def place(self, node, instrument) -> OrderState:
        params = {"symbol": self._symbol(instrument), "side": node.side.upper(), "quantity": f"{node.qty:f}",
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
        try:
            order = await self.client.query_order(self._symbol(instrument), client_order_id)
        except OrderNotFound:
            return None
        trades = await self.client.my_trades(self._symbol(instrument), order["orderId"]) if Decimal(order["executedQty"]) else []
        fills = tuple(VenueFill(str(t["id"]), Decimal(t["price"]), Decimal(t["qty"]),
                                _fee_in_quote(Decimal(t["price"]), Decimal(t["commission"]), t["commissionAsset"], instrument),
                                instrument.quote, "maker" if t.get("isMaker") else "taker", t["time"] * 1_000_000) for t in trades)
        return OrderState(client_order_id, str(order["orderId"]), STATUS.get(order["status"], "NEW"),
                          Decimal(order["executedQty"]), fills, venue_ts_ns=order.get("updateTime", 0) * 1_000_000)

    def native_amend(self, node, price, qty) -> bool:
        return price in (None, node.limit_price) and qty is not None and qty < node.qty

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        answer = await self.client.amend_keep_priority(self._symbol(instrument), node.client_order_id, f"{qty:f}")
        return AmendResult("native_atomic", _state(answer["amendedOrder"]))

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(self._symbol(instrument))]

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel_order(self._symbol(instrument), node.client_order_id))

    async def balances(self):
        account = await self.client.account()
        return {b["asset"]: Decimal(b["free"]) for b in account.get("balances", [])}

    async def close(self) -> None:
        await self.client.close()
