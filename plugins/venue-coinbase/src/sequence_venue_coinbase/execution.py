"""Coinbase Advanced Trade spot execution session: the engine's node orders as Coinbase orders.

Order types (``order_configuration``, https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/orders/create-order):
``market`` -> ``market_market_ioc`` with ``base_size`` (a market order that carries a price
cap goes as ``sor_limit_ioc`` at it); ``ioc`` -> ``sor_limit_ioc``; ``limit`` ->
``limit_limit_gtc``; ``post_only`` -> ``limit_limit_gtc`` with ``post_only`` (Coinbase refuses
one that would take: ``INVALID_LIMIT_PRICE_POST_ONLY``).

``client_order_id`` is the node's client order id (``sq<graph hex>n<node>s<seq>``, some 20-30
characters: Coinbase refuses ids over 128 characters with an invalid-argument error since
mid-October 2025, changelog 2025-Aug-14 at
https://docs.cdp.coinbase.com/coinbase-app/introduction/changelog). Coinbase: "If the ID provided
is not unique, the order will not be created and the order corresponding with that ID will be
returned instead", so a second place of the same node never makes a second order. Orders are read by
``order_id`` (``GET /orders/historical/{order_id}``; its ``client_order_id`` query is
deprecated and List Orders has no such filter): the session keeps the id from the create
answer, and after a lost answer or a restart looks the client id up among the product's
latest orders.

Amend is native for resting limit orders (``POST /orders/edit``, GTC limit orders only; Coinbase
needs both ``price`` and ``size``, the size being the new total, not below what has filled);
market and IOC orders never rest, so the engine cancel-replaces those. Fills from
``/orders/historical/fills``: ``commission`` is positive, in the quote currency;
``liquidity_indicator`` MAKER/TAKER; ``size_in_quote`` true means ``size`` is in quote.

Order changes are also pushed on the ``user`` websocket channel (stream.py). It carries no
fills, so fills are always read here, by ``trade_id``; the push only makes that read come at once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sequence_core.errors import InvalidOrder, OrderNotFound
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill

from .http import CoinbaseClient

STATUS = {"PENDING": "NEW", "OPEN": "NEW", "QUEUED": "NEW", "EDIT_QUEUED": "NEW", "CANCEL_QUEUED": "NEW",
          "FILLED": "FILLED", "CANCELLED": "CANCELLED", "EXPIRED": "EXPIRED", "FAILED": "REJECTED"}
RESTING = ("limit", "post_only")


def iso_ns(text: str | None) -> int | None:
    """Coinbase's RFC 3339 times (up to nanoseconds, ``Z``) as int ns UTC."""
    if not text:
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    frac = frac.split("+")[0]                      # Python parses at most microseconds: do the rest here
    seconds = int(datetime.fromisoformat(head.split("+")[0] + "+00:00").timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


def _fill(f: dict) -> VenueFill:
    price, size = Decimal(f["price"]), Decimal(f["size"])
    if f.get("size_in_quote"):
        size = size / price
    return VenueFill(str(f["trade_id"]), price, size, Decimal(f.get("commission") or "0"), f["product_id"].split("-")[1],
                     "maker" if f.get("liquidity_indicator") == "MAKER" else "taker", iso_ns(f.get("trade_time")) or 0)


def _config(o: dict) -> dict:
    return next(iter((o.get("order_configuration") or {}).values()), {}) or {}


def _state(o: dict, fills: tuple = ()) -> OrderState:
    cfg, filled = _config(o), Decimal(o.get("filled_size") or "0")
    status = STATUS.get(o.get("status", ""), "NEW")
    if status == "NEW" and filled > 0:
        status = "PARTIALLY_FILLED"
    reason = o.get("reject_message") or o.get("cancel_message") or ""
    return OrderState(o.get("client_order_id", ""), str(o["order_id"]), status, filled, fills, reason=reason,
                      venue_ts_ns=iso_ns(o.get("last_fill_time") or o.get("created_time")),
                      price=Decimal(cfg["limit_price"]) if cfg.get("limit_price") else None,
                      qty=Decimal(cfg["base_size"]) if cfg.get("base_size") else None)


def order_configuration(node) -> dict:
    size = {"base_size": f"{node.qty:f}"}
    if node.limit_price is None:
        if node.order_type != "market":
            raise InvalidOrder(f"coinbase: a {node.order_type} order needs a limit price")
        return {"market_market_ioc": size}
    price = {**size, "limit_price": f"{node.limit_price:f}"}
    if node.order_type in ("market", "ioc"):
        return {"sor_limit_ioc": price}
    return {"limit_limit_gtc": {**price, "post_only": node.order_type == "post_only"}}


class CoinbaseSession(ExecutionSession):
    venue = "coinbase"
    amend_mode = "native_atomic"

    def __init__(self, client: CoinbaseClient, settings: dict | None = None):
        self.client, self.settings = client, dict(settings or {})
        self._ids: dict[str, str] = {}          # client order id -> Coinbase order id

    def _product(self, inst) -> str:
        if inst.kind != "crypto":
            raise InvalidOrder(f"coinbase: {inst.symbol} is not a spot book; this adapter trades spot only so far")
        return inst.venue_symbol

    async def place(self, node, instrument) -> OrderState:
        body = {"client_order_id": node.client_order_id, "product_id": self._product(instrument),
                "side": node.side.upper(), "order_configuration": order_configuration(node)}
        created = await self.client.create_order(body)
        self._ids[node.client_order_id] = created["order_id"]
        return await self._read(created["order_id"])

    async def _read(self, order_id: str) -> OrderState:
        order = await self.client.order(order_id)
        fills = ()
        if Decimal(order.get("filled_size") or "0"):
            fills = tuple(_fill(f) for f in await self.client.fills(order_id))
        return _state(order, fills)

    async def _order_id(self, client_order_id: str, instrument) -> str | None:
        if client_order_id not in self._ids and instrument is not None:
            for o in await self.client.orders(self._product(instrument), pages=3):
                if o.get("client_order_id") == client_order_id:
                    self._ids[client_order_id] = o["order_id"]
                    break
        return self._ids.get(client_order_id)

    async def order_state(self, client_order_id, instrument=None):
        order_id = await self._order_id(client_order_id, instrument)
        if order_id is None:
            return None
        try:
            return await self._read(order_id)
        except OrderNotFound:
            return None

    async def cancel(self, node, instrument) -> OrderState:
        order_id = await self._order_id(node.client_order_id, instrument)
        if order_id is None:
            return OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason="coinbase does not know this order")
        return await self.cancel_and_read(node, instrument, lambda: self.client.cancel(order_id))

    def native_amend(self, node, price, qty) -> bool:
        return node.order_type in RESTING and node.limit_price is not None

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        order_id = await self._order_id(node.client_order_id, instrument)
        if order_id is None:
            raise OrderNotFound(f"coinbase does not know order {node.client_order_id}")
        # Coinbase's edit needs both fields: the one not changing is sent as it is now
        new_price = price if price is not None else node.limit_price
        new_size = qty if qty is not None else node.qty
        await self.client.edit(order_id, f"{new_price:f}", f"{new_size:f}")
        return AmendResult("native_atomic", await self._read(order_id))

    async def open_orders(self, instrument) -> list[OrderState]:
        orders = await self.client.orders(self._product(instrument), status="OPEN", pages=10)
        for o in orders:
            if o.get("client_order_id"):
                self._ids[o["client_order_id"]] = o["order_id"]
        return [_state(o) for o in orders]

    async def balances(self):
        return {a["currency"]: Decimal(a["available_balance"]["value"]) for a in await self.client.accounts()}

    async def holdings(self):
        """Each account's ``available_balance`` plus its ``hold`` (funds held for open orders;
        List Accounts, https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/accounts/list-accounts)."""
        out: dict[str, Decimal] = {}
        for a in await self.client.accounts():
            total = Decimal(a["available_balance"]["value"]) + Decimal((a.get("hold") or {}).get("value") or "0")
            out[a["currency"]] = out.get(a["currency"], Decimal(0)) + total
        return {c: q for c, q in out.items() if q}

    async def fee_tier(self) -> tuple[str, Decimal, Decimal]:
        """The key's own tier: (name, maker rate, taker rate)."""
        tier = (await self.client.transaction_summary())["fee_tier"]
        return tier.get("pricing_tier", ""), Decimal(tier["maker_fee_rate"]), Decimal(tier["taker_fee_rate"])

    def user_stream(self):
        """The ``user`` websocket channel (stream.py): order states pushed without fills, so a
        pushed fill makes the engine read the order and its fills here at once."""
        from .stream import CoinbaseUserStream

        return CoinbaseUserStream(self, self.settings)

    async def close(self) -> None:
        await self.client.close()
