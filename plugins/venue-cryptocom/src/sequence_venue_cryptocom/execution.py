"""Crypto.com Exchange spot execution session: the engine's node orders as ``private/create-order``.

Order types (https://exchange-developer.crypto.com/exchange/v1/docs/api/rest/private-create-order-dma):
``market`` -> ``type`` MARKET with ``quantity`` in base (the exchange also takes ``notional``
for market buys; not used); ``limit`` -> LIMIT GOOD_TILL_CANCEL; ``ioc`` -> LIMIT
IMMEDIATE_OR_CANCEL (MARKET without a price); ``post_only`` -> LIMIT with ``exec_inst``
["POST_ONLY"], which must be GOOD_TILL_CANCEL (else 43005). ``client_oid`` (at most 36
characters) is the node's client order id, so after a lost answer the order is found with
``private/get-order-detail`` by ``client_oid``; a second create with a live id is refused
(204 DUPLICATE_CLORDID) and answered here with the order the exchange already has.
create-order is asynchronous (its answer only confirms the request): the session reads the
order right after; an order not yet visible is reported NEW with the confirmed order id.
Amend is native (``private/amend-order``: ``new_price`` and ``new_quantity``, both required,
the same ``order_id``); the exchange performs it as cancel-then-create, so the order loses its
queue place unless only its size goes down. Without a ``client_oid`` the amended order would
take the request id as its client id, so the node's id is passed again to keep it findable.
Fills come from ``private/get-trades`` (1 request per second) for the order's instrument since
its creation, filtered by ``order_id``, and only when ``cumulative_quantity`` grew: ``fees``
is negative when charged, in ``fee_instrument_name``, and is reported in that asset as charged
(a buy's fee in the base is taken from the base received: the ledger takes it from that
holding, TCA counts it at the fill price); fills and order changes also arrive on the user websocket (stream.py).
Perpetuals are not traded here yet.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill

from .http import DESCRIPTIONS, CryptocomClient, DuplicateClientId

STATUS = {"PENDING": "NEW", "NEW": "NEW", "ACTIVE": "NEW", "FILLED": "FILLED", "CANCELED": "CANCELLED",
          "REJECTED": "REJECTED", "EXPIRED": "EXPIRED"}


def _ns(row: dict) -> int:
    return int(row.get("create_time_ns") or int(row.get("create_time") or 0) * 1_000_000)


def _fill(t: dict, inst) -> VenueFill:
    return VenueFill(str(t["trade_id"]), Decimal(t["traded_price"]), Decimal(t["traded_quantity"]),
                     -Decimal(t.get("fees") or "0"), t.get("fee_instrument_name") or inst.quote,
                     "maker" if t.get("taker_side") == "MAKER" else "taker", _ns(t))


def _state(o: dict, fills: tuple = ()) -> OrderState:
    filled = Decimal(o.get("cumulative_quantity") or "0")
    status = STATUS.get(o.get("status", ""), "NEW")
    if status == "NEW" and filled:
        status = "PARTIALLY_FILLED"
    code = str(o.get("reason") or "0")
    reason = f"{DESCRIPTIONS.get(code, 'reason')} ({code})" if code != "0" else ""
    limit = o.get("limit_price")
    return OrderState(o["client_oid"], str(o["order_id"]), status, filled, fills, reason=reason,
                      venue_ts_ns=int(o.get("update_time") or 0) * 1_000_000,
                      price=Decimal(limit) if limit and Decimal(limit) else None,
                      qty=Decimal(o["quantity"]) if o.get("quantity") else None)


class CryptocomSession(ExecutionSession):
    venue = "cryptocom"
    amend_mode = "native_atomic"

    def __init__(self, client: CryptocomClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._fills: dict[str, tuple[Decimal, tuple]] = {}     # order id -> (filled qty, fills) read

    def _name(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"cryptocom: {inst.symbol} is a perpetual; this adapter trades spot books only so far")
        return inst.venue_symbol

    async def place(self, node, instrument) -> OrderState:
        params = {"instrument_name": self._name(instrument), "side": node.side.upper(), "quantity": f"{node.qty:f}",
                  "client_oid": node.client_order_id}
        if node.order_type == "market" or node.limit_price is None:
            params["type"] = "MARKET"            # immediate by nature; no time_in_force
        else:
            params.update(type="LIMIT", price=f"{node.limit_price:f}", time_in_force="GOOD_TILL_CANCEL")
            if node.order_type == "ioc":
                params["time_in_force"] = "IMMEDIATE_OR_CANCEL"
            elif node.order_type == "post_only":
                params["exec_inst"] = ["POST_ONLY"]
        try:
            ack = await self.client.place(params)
        except DuplicateClientId:
            known = await self.order_state(node.client_order_id, instrument)
            if known is None:
                raise
            return known
        state = await self.order_state(node.client_order_id, instrument)
        return state or OrderState(node.client_order_id, str(ack.get("order_id") or "") or None, "NEW", Decimal(0))

    async def order_state(self, client_order_id, instrument=None):
        if instrument is None:
            return None
        try:
            order = await self.client.order(client_order_id)
        except OrderNotFound:
            return None
        return _state(order, await self._fills_of(order, instrument))

    async def _fills_of(self, order: dict, inst) -> tuple:
        filled = Decimal(order.get("cumulative_quantity") or "0")
        oid = str(order["order_id"])
        seen = self._fills.get(oid)
        if not filled or (seen and seen[0] == filled):
            return seen[1] if seen else ()
        start = str(order.get("create_time_ns") or order.get("create_time") or "")
        rows = await self.client.trades(self._name(inst), start)
        fills = tuple(_fill(t, inst) for t in sorted(rows, key=_ns) if str(t.get("order_id")) == oid)
        self._fills[oid] = (filled, fills)
        return fills

    async def cancel(self, node, instrument) -> OrderState:
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(node.client_order_id))

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        self._name(instrument)
        new_price = price if price is not None else node.limit_price
        if new_price is None:
            raise InvalidOrder("cryptocom: only a limit order can be amended (this one has no price)")
        params = {"orig_client_oid": node.client_order_id, "client_oid": node.client_order_id,
                  "new_price": f"{new_price:f}", "new_quantity": f"{(qty if qty is not None else node.qty):f}"}
        await self.client.amend(params)
        state = await self.order_state(node.client_order_id, instrument)
        if state is None:
            raise OrderNotFound(f"cryptocom: the amended order {node.client_order_id} is not found")
        return AmendResult("native_atomic", state)

    async def open_orders(self, instrument) -> list[OrderState]:
        return [_state(o) for o in await self.client.open_orders(self._name(instrument))]

    async def balances(self):
        """Free balance per asset: ``quantity`` less ``reserved_qty`` of ``position_balances``."""
        data = await self.client.balance()
        rows = data[0].get("position_balances", []) if data else []
        return {r["instrument_name"]: Decimal(r.get("quantity") or "0") - Decimal(r.get("reserved_qty") or "0") for r in rows}

    def user_stream(self):
        from .stream import CryptocomUserStream

        return CryptocomUserStream(self.client, self.settings)

    async def close(self) -> None:
        await self.client.close()
