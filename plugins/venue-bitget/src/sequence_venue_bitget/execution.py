"""Bitget v2 spot execution session.

Order types: ``ioc`` -> limit with ``force=ioc``; ``limit`` -> ``gtc``; ``post_only`` ->
``post_only`` (Bitget cancels it if it would take). A ``market`` sell is a market order;
a market *buy* is refused unless it carries a limit (then an IOC at it), because Bitget reads
a market buy's ``size`` in the quote coin and the engine's quantities are in base.
``clientOid`` is the node's client order id, so a lost answer is resolved by asking for it.
Amend: Bitget spot has no in-place amend, so the engine cancels and replaces. Fills from
``trade/fills`` (``feeDetail.totalFee`` negative when charged, in ``feeCoin``; a base-coin
fee is converted to quote at the fill price); fills and order changes also arrive on the
private ``orders`` channel (stream.py).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import ExecutionSession, OrderState, VenueFill

from .http import BitgetClient

STATUS = {"init": "NEW", "new": "NEW", "live": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED",
          "cancelled": "CANCELLED", "canceled": "CANCELLED"}


def _fill(f: dict, inst) -> VenueFill:
    price, detail = Decimal(f["priceAvg"]), f.get("feeDetail") or {}
    fee = -Decimal(detail.get("totalFee") or "0")
    if detail.get("feeCoin") == inst.base:
        fee *= price
    return VenueFill(str(f["tradeId"]), price, Decimal(f["size"]), fee, inst.quote,
                     "maker" if f.get("tradeScope") == "maker" else "taker", int(f["cTime"]) * 1_000_000)


def _state(o: dict, fills: tuple = ()) -> OrderState:
    return OrderState(o["clientOid"], str(o["orderId"]), STATUS.get(o["status"], "NEW"), Decimal(o.get("baseVolume") or "0"),
                      fills, price=Decimal(o["price"]) if o.get("price") not in (None, "", "0") else None,
                      qty=Decimal(o["size"]) if o.get("size") else None, venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


class BitgetSession(ExecutionSession):
    venue = "bitget"
    amend_mode = "cancel_replace"

    def __init__(self, client: BitgetClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})

    def user_stream(self):
        from .stream import BitgetUserStream

        return BitgetUserStream(self.client, self.settings)

    def _symbol(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"bitget: {inst.symbol} is a futures book; this adapter trades spot books only so far")
        return inst.venue_symbol

    async def place(self, node, instrument) -> OrderState:
        body = {"symbol": self._symbol(instrument), "side": node.side, "size": f"{node.qty:f}", "clientOid": node.client_order_id}
        if node.limit_price is None:
            if node.side == "buy":
                raise InvalidOrder("bitget reads a market buy's size in the quote coin; give a limit price (an IOC at it is sent)")
            body.update(orderType="market", force="gtc")
        else:
            force = {"ioc": "ioc", "market": "ioc", "post_only": "post_only"}.get(node.order_type, "gtc")
            body.update(orderType="limit", force=force, price=f"{node.limit_price:f}")
        await self.client.place(body)
        return await self.order_state(node.client_order_id, instrument)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        try:
            order = await self.client.order(client_order_id)
        except OrderNotFound:
            return None
        if order is None:
            return None
        fills = ()
        if Decimal(order.get("baseVolume") or "0"):
            fills = tuple(_fill(f, instrument) for f in await self.client.fills(self._symbol(instrument), order["orderId"]))
        return _state(order, fills)

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(self._symbol(instrument), node.client_order_id))

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(self._symbol(instrument))]

    async def balances(self):
        return {a["coin"]: Decimal(a.get("available") or "0") for a in await self.client.assets()}

    async def close(self) -> None:
        await self.client.close()
