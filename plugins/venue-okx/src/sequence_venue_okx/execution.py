"""OKX spot execution session: the engine's node orders as OKX orders (``tdMode`` cash).

Order types: ``market`` -> ``market`` with ``tgtCcy=base_ccy`` (OKX reads a spot market
buy's ``sz`` in the quote currency otherwise); ``ioc`` -> ``ioc`` (``market`` if no price);
``limit`` -> ``limit``; ``post_only`` -> ``post_only`` (OKX cancels it if it would take).
``clOrdId`` is the node's client order id (letters and digits, at most 32), so after a lost
answer the order is found by it; OKX refuses a second live order with the same id.
Amend is native (``amend-order``: size and/or price in place, same ids); ``newSz`` counts
what has filled, as OKX asks. The place answer carries no fills: the session reads the
order and its fills right after (``fee`` is negative when charged, in ``feeCcy``; a
base-asset fee is converted to quote at the fill price). Order changes and fills also arrive
on the private ``orders`` channel (stream.py). Swaps are not traded here yet.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill

from .http import OkxClient

STATUS = {"live": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED", "canceled": "CANCELLED",
          "mmp_canceled": "CANCELLED"}


def _fill(f: dict, inst) -> VenueFill:
    price, fee = Decimal(f["fillPx"]), -Decimal(f.get("fee") or "0")
    if f.get("feeCcy") == inst.base:
        fee *= price
    return VenueFill(str(f["tradeId"]), price, Decimal(f["fillSz"]), fee, inst.quote,
                     "maker" if f.get("execType") == "M" else "taker", int(f["ts"]) * 1_000_000)


def _state(o: dict, fills: tuple = ()) -> OrderState:
    return OrderState(o["clOrdId"], str(o["ordId"]), STATUS.get(o["state"], "NEW"), Decimal(o.get("accFillSz") or "0"),
                      fills, price=Decimal(o["px"]) if o.get("px") else None, qty=Decimal(o["sz"]) if o.get("sz") else None,
                      venue_ts_ns=int(o.get("uTime") or 0) * 1_000_000)


class OkxSession(ExecutionSession):
    venue = "okx"
    amend_mode = "native_atomic"

    def __init__(self, client: OkxClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})

    def _inst_id(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"okx: {inst.symbol} is a swap; this adapter trades spot books only so far")
        return inst.venue_symbol

    async def place(self, node, instrument) -> OrderState:
        body = {"instId": self._inst_id(instrument), "tdMode": "cash", "side": node.side, "sz": f"{node.qty:f}",
                "clOrdId": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            body.update(ordType="market", tgtCcy="base_ccy")
        else:
            body.update(ordType={"ioc": "ioc", "post_only": "post_only"}.get(node.order_type, "limit"),
                        px=f"{node.limit_price:f}")
        await self.client.place(body)
        return await self.order_state(node.client_order_id, instrument)

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        try:
            order = await self.client.order(self._inst_id(instrument), client_order_id)
        except OrderNotFound:
            return None
        fills = ()
        if Decimal(order.get("accFillSz") or "0"):
            fills = tuple(_fill(f, instrument) for f in await self.client.fills(self._inst_id(instrument), order["ordId"]))
        return _state(order, fills)

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(self._inst_id(instrument), node.client_order_id))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        body = {"instId": self._inst_id(instrument), "clOrdId": node.client_order_id}
        if qty is not None:
            body["newSz"] = f"{qty:f}"
        if price is not None:
            body["newPx"] = f"{price:f}"
        await self.client.amend(body)
        return AmendResult("native_atomic", await self.order_state(node.client_order_id, instrument))

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(self._inst_id(instrument))]

    async def balances(self):
        data = await self.client.balance()
        return {d["ccy"]: Decimal(d.get("availBal") or d.get("cashBal") or "0") for d in (data[0].get("details", []) if data else [])}

    def user_stream(self):
        from .stream import OkxUserStream

        return OkxUserStream(self.client, self.settings)

    async def close(self) -> None:
        await self.client.close()
