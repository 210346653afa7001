"""Kraken Futures perpetuals: the engine's perp orders, positions, margin and funding.

Credentials: Kraken Futures is a separate API with keys of its own (created at
futures.kraken.com, https://docs.kraken.com/api/docs/guides/futures-rest), so the plugin asks
for them as two optional fields of the one ``kraken`` venue, ``futures_api_key`` and
``futures_api_secret`` (venue.py): one ``sequence connect kraken``, one credentials entry,
and a spot-only user leaves them empty and sees nothing change. (A second venue, say
``kraken_futures``, would split one exchange's balances, symbols and fee schedule in two, and
``BTC-USD-PERP`` on ``--venue kraken`` would not resolve.) Without them a perp order is refused
before anything is sent, and positions, perp margin, funding and the futures collateral in
``holdings`` are not read.

Orders (``POST /derivatives/api/v3/sendorder``, Kraken Futures trading API,
https://docs.kraken.com/api/docs/futures-api/trading/; statuses as ccxt's krakenfutures and
NautilusTrader's Kraken adapter read them): ``orderType`` ``mkt``
(``market``, or no price), ``lmt`` (``limit``), ``ioc`` (``ioc``), ``post`` (``post_only``;
Kraken refuses one that would take: ``postWouldExecute``); ``symbol``, ``side``, ``size`` (base
units: ``contractSize`` 1 on PF_ perps), ``limitPrice``, and ``cliOrdId`` = the node's client
order id (Kraken takes up to 100 characters), so every later call names the order by it. The
answer's ``sendStatus.status`` is ``placed`` (or ``partiallyFilled``/``filled``) when accepted;
``postWouldExecute`` ("the post-only order would be filled upon placement, thus is cancelled"),
``iocWouldNotExecute`` and ``cancelled`` end the order (CANCELLED with that
reason, as the engine reads a venue-cancelled post-only); ``insufficientAvailableFunds`` and
``wouldCauseLiquidation`` are InsufficientFunds; ``clientOrderIdAlreadyExist`` means the order
is there already (a resend after a lost answer), so it is read, not placed twice; any other
status (``invalidSize``, ``invalidPrice``, ``marketSuspended``, ``tooManySmallOrders``,
``outsidePriceCollar``, ``maxPositionViolation``...) is InvalidOrder.

Lookup (``POST /derivatives/api/v3/orders/status`` with ``cliOrdIds``,
https://docs.kraken.com/api-reference/order-management/get-specific-orders-status): "orders
which are open or were filled/cancelled in the last 5 seconds": ``orders[].order`` (``orderId``,
``cliOrdId``, ``quantity``, ``filled``, ``limitPrice``, ``lastUpdateTimestamp``) and ``status``
(``ENTERED_BOOK``, ``FULLY_EXECUTED``, ``CANCELLED``, ``REJECTED``, ``TRIGGER_*``). Past those
5 seconds an order is no longer open: its fills (``GET /fills``, the latest 100,
https://docs.kraken.com/api/docs/futures-api/trading/get-fills: ``fill_id``, ``order_id``,
``cliOrdId``, ``price``, ``size``, ``fillTime``, ``fillType`` maker/taker, and ``fee_paid`` in
``fee_currency`` as recorded answers carry them: shared http_futures_fills.json and the
websocket ``fills`` feed, https://docs.kraken.com/exchange/api-reference/futures-websocket/fills;
the docs' older REST example omits the fee, which then reads 0) say how much filled, and the
quantity this session sent says whether that was all (FILLED) or the rest was cancelled. An
order this process never sent, no longer open and without fills among the latest 100, cannot be
told from one never received (None): a known limit of the REST API without the history API.
Cancel: ``POST cancelorder`` with ``cliOrdId``; ``cancelStatus.status`` ``notFound`` is an order
already gone (its state is read). Open orders: ``GET openorders`` (``cli_ord_id``,
``unfilledSize``, ``filledSize``, ``limitPrice``, ``status`` untouched/partiallyFilled).

Amend is native (``POST editorder``, same trading API):
``cliOrdId``, ``limitPrice``, ``size``; ``editStatus.status`` ``edited`` when done. Kraken reads
``size`` as the new open size by default (NautilusTrader's Kraken adapter: "Relative, the
venue's default, sets its open size"), so the engine's new total is sent less what has filled.

Positions (``GET openpositions``): ``side`` long/short, ``size`` (signed here), ``price`` (entry);
Kraken gives no mark, P&L or liquidation price there. Only linear ``PF_`` perps are reported.
Perp margin (``GET accounts``): the multi-collateral ``flex`` account's ``availableMargin``
(USD; python-kraken-sdk's recorded answer of the endpoint shows the field), reported as
``perp_margin("USD")``: a perp order is checked against it, never against spot cash.
Collateral (same ``GET accounts``, https://docs.kraken.com/api-reference/account-information/get-wallets):
``flex.currencies`` is keyed by upper-case currency (the page's example: ``XBT``, ``USD``, ``EUR``),
each with ``quantity`` (how much of that currency the account holds: XBT 0.1185308247),
``value`` (its USD value: 4998.72), ``collateral`` (that value after the haircut: 4886.50) and
``available``; the account's unrealized P&L is apart, in ``pnl``, ``unrealizedFunding`` and
``totalUnrealized``. Kraken's wallet feed describes the same split
(https://docs.kraken.com/api/docs/futures-api/websocket/balances): ``balance`` "the current
balance", ``pnl`` "the total profit and loss for open positions", ``portfolio_value`` "the current
balance with haircuts and any unrealized margin from open positions"; and the glossary's
"Collateral Value: The USD value of balances in account usable for margin [(Balance Value *
(1-Haircut)]" (https://support.kraken.com/hc/en-us/articles/4975925630484-Futures-Trading-Glossary).
ccxt's krakenfutures ``parseBalance`` reads a flex currency's total as its ``quantity`` too. So
``quantity`` is the collateral held, in its own currency, without unrealized P&L (which the perp
rows carry): ``holdings`` (execution.py) adds it to the spot total of that asset.

Leverage: ``[venues.kraken] leverage = 5`` (a positive integer; absent, the contracts' leverage
preferences are left as they are) sends ``PUT leveragepreferences`` with ``maxLeverage`` for a
perp before its first order of the session (futures_http.py), never for spot. Kraken's page
says what that means: "When specifying a max leverage, the contract's margin mode will be
isolated" (https://docs.kraken.com/api/docs/futures-api/trading/set-leverage-setting), so on
Kraken Futures the setting also makes each traded contract isolated-margin at that leverage
(without it, cross, Kraken's default, as before). Setting the same preference again changes
nothing, so it is retried like a read. A refusal is raised as an ``InvalidOrder`` in Kraken's
words, naming the contract, the leverage asked and what its margin schedule allows
(``max_leverage``: 1 / its first ``initialMargin``), and the order is not sent
(``sequence_core.execution.Leverage``). Any other value of the setting is
refused (``ConfigError``) when the session is built.

Funding (``funding_payments``): the account log
(``GET https://futures.kraken.com/api/history/v3/account-log``,
https://docs.kraken.com/api-reference/account-history/get-account-log) filtered to
``info=funding rate change``, ``sort=asc``, ``since`` (ms), ``count`` 500, pages continued
with ``from`` = the last id + 1 (ids are the log's own, "IDs start at 1", so stable payment
ids). Per entry: ``contract`` (``pf_xbtusd``; upper-cased), ``asset`` (``usd``), ``date``,
``realized_funding``, signed as the balance moved: a published entry goes from
``old_balance`` 0.01215847263 to ``new_balance`` 0.01215715298 with ``realized_funding``
-1.31965e-06, so received > 0, the engine's sign. Ascending pages mean a read cut short
(FUNDING_REQUESTS) keeps the oldest payments, and the engine goes on from the newest it kept.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, OrderNotFound,
                                  RateLimitExceeded, VenueError)
from sequence_core.execution import AmendResult, FundingPayment, Leverage, OrderState, VenueFill, VenuePosition, perp_margin

from .feed import ts_ns
from .futures_http import KrakenFuturesClient
from .symbols import asset

log = logging.getLogger("sequence.venue.kraken")

ORDER_TYPE = {"limit": "lmt", "ioc": "ioc", "post_only": "post"}
ACCEPTED = {"placed", "partiallyFilled", "filled", "edited"}
UNFILLED_END = {"postWouldExecute", "iocWouldNotExecute", "cancelled"}   # accepted, then ended at once
FUNDS = {"insufficientAvailableFunds", "wouldCauseLiquidation", "insufficientFunds"}
STATUS = {"ENTERED_BOOK": "NEW", "FULLY_EXECUTED": "FILLED", "CANCELLED": "CANCELLED", "REJECTED": "REJECTED",
          "TRIGGER_PLACED": "NEW", "TRIGGER_ACTIVATED": "NEW"}
FUNDING_INFO = "funding rate change"
LOG_PAGE = 500
FUNDING_REQUESTS = 20


def _dec(value) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _ns(value) -> int:
    """A Kraken Futures time: RFC 3339 text or epoch milliseconds."""
    if value in (None, ""):
        return 0
    if isinstance(value, (int, float)):
        return int(value) * 1_000_000
    return ts_ns(value)


def _cid(row: dict) -> str | None:
    return row.get("cliOrdId") or row.get("cli_ord_id")


def _fill(f: dict) -> VenueFill:
    return VenueFill(str(f["fill_id"]), _dec(f["price"]), _dec(f["size"]), _dec(f.get("fee_paid")),
                     asset((f.get("fee_currency") or "USD").upper()),
                     "maker" if f.get("fillType") == "maker" else "taker", _ns(f.get("fillTime")))


def _funding(e: dict) -> FundingPayment:
    return FundingPayment(str(e["id"]), str(e.get("contract") or "").upper(), asset(str(e.get("asset") or "usd").upper()),
                          _dec(e.get("realized_funding")), _ns(e.get("date")))


class KrakenFutures:
    """The perp half of the Kraken session (one Kraken Futures client and key)."""

    def __init__(self, client: KrakenFuturesClient, settings: dict | None = None):
        self.client = client
        self._sent: dict[str, dict] = {}        # client id -> what this session sent and was answered
        self.leverage = Leverage("kraken", "Kraken Futures", settings or {})

    async def _send_leverage(self, symbol: str, leverage: int) -> None:
        """``leveragepreferences``; a refusal (Kraken's code for it is not documented) as InvalidOrder."""
        try:
            await self.client.set_leverage(symbol, leverage)
        except (NetworkError, AuthenticationError, RateLimitExceeded):
            raise
        except VenueError as refused:
            raise InvalidOrder(str(refused)) from None

    def knows(self, client_order_id: str) -> bool:
        return client_order_id in self._sent

    def sent_qty(self, client_order_id: str) -> Decimal | None:
        """The order's total size as this session sent or amended it (None: not sent here)."""
        return self._sent.get(client_order_id, {}).get("qty")

    def client_id(self, order_id: str) -> str | None:
        """The engine's client id of a Kraken order id this session placed (None: not known)."""
        return next((c for c, s in self._sent.items() if s.get("order_id") == order_id), None)

    def _keys(self, inst) -> str:
        if not self.client.has_credentials:
            raise InvalidOrder(f"kraken: {inst.symbol} trades on Kraken Futures, which has API keys of its own; add them "
                               f"with `sequence connect kraken` (futures_api_key, futures_api_secret)")
        return inst.venue_symbol

    # -- orders --------------------------------------------------------------------------------
    async def place(self, node, inst) -> OrderState:
        params = {"orderType": "mkt", "symbol": self._keys(inst), "side": node.side, "size": f"{node.qty:f}",
                  "cliOrdId": node.client_order_id}
        if node.order_type != "market" and node.limit_price is not None:
            params.update(orderType=ORDER_TYPE.get(node.order_type, "lmt"), limitPrice=f"{node.limit_price:f}")
        await self.leverage.ensure(params["symbol"], inst.symbol, self._send_leverage, self.client.max_leverage)
        sent = {"qty": node.qty, "price": node.limit_price if params["orderType"] != "mkt" else None}
        self._sent[node.client_order_id] = sent
        answer = await self.client.send_order(params)
        status = answer.get("status", "")
        sent["order_id"] = answer.get("order_id")
        if status in UNFILLED_END:
            sent["ended"] = status
        elif status in FUNDS:
            self._sent.pop(node.client_order_id, None)
            raise InsufficientFunds(f"kraken futures refused the order: {status}")
        elif status not in ACCEPTED and status != "clientOrderIdAlreadyExist":
            self._sent.pop(node.client_order_id, None)
            raise InvalidOrder(f"kraken futures refused the order: {status or 'no status'}")
        state = await self.order_state(node.client_order_id)
        return state or OrderState(node.client_order_id, sent.get("order_id"), "NEW", Decimal(0),
                                   price=sent["price"], qty=node.qty)

    async def _fills(self, client_order_id: str, order_id: str | None) -> tuple:
        rows = [f for f in await self.client.fills() if _cid(f) == client_order_id or (order_id and f.get("order_id") == order_id)]
        return tuple(_fill(f) for f in sorted(rows, key=lambda f: _ns(f.get("fillTime"))))

    async def order_state(self, client_order_id: str) -> OrderState | None:
        if not self.client.has_credentials:
            return None                                    # nothing can have been sent without keys
        entry = next((e for e in await self.client.order_status(client_order_id)
                      if _cid(e.get("order") or {}) in (client_order_id, None)), None)
        sent = self._sent.get(client_order_id, {})
        if entry is not None:
            o = entry.get("order") or {}
            filled = _dec(o.get("filled"))
            fills = await self._fills(client_order_id, o.get("orderId")) if filled else ()
            status = STATUS.get(entry.get("status", ""), "NEW")
            if status == "NEW" and filled:
                status = "PARTIALLY_FILLED"
            elif status == "FILLED" and filled < _dec(o.get("quantity")):
                status = "CANCELLED"                       # an IOC or market order out of depth
            reason = str(entry.get("updateReason") or entry.get("error") or "") if status in ("CANCELLED", "REJECTED") else ""
            return OrderState(client_order_id, o.get("orderId"), status, filled, fills, reason=reason,
                              venue_ts_ns=_ns(o.get("lastUpdateTimestamp") or o.get("timestamp")),
                              price=_dec(o["limitPrice"]) if o.get("limitPrice") else None,
                              qty=_dec(o["quantity"]) if o.get("quantity") is not None else None)
        # not open, and not closed within the last 5 seconds: its fills say what became of it
        fills = await self._fills(client_order_id, sent.get("order_id"))
        if not sent and not fills:
            return None
        filled = sum((f.qty for f in fills), Decimal(0))
        qty = sent.get("qty")
        done = qty is not None and filled >= qty
        reason = "" if done else (sent.get("ended") or "no longer open at Kraken Futures")
        return OrderState(client_order_id, sent.get("order_id"), "FILLED" if done else "CANCELLED", filled, fills,
                          reason=reason, venue_ts_ns=fills[-1].venue_ts_ns if fills else None, price=sent.get("price"), qty=qty)

    async def cancel(self, client_order_id: str) -> None:
        answer = await self.client.cancel_order(client_order_id)
        if answer.get("status") == "notFound":
            raise OrderNotFound("kraken futures: no open order with this client id")

    async def amend(self, node, inst, price, qty) -> AmendResult:
        params = {"cliOrdId": node.client_order_id, "limitPrice": f"{price:f}" if price is not None else None}
        self._keys(inst)
        if qty is not None:
            now = await self.order_state(node.client_order_id)
            filled = now.filled_qty if now is not None else node.filled_qty
            if qty <= filled:
                raise InvalidOrder(f"kraken futures: a new size of {qty:f} is not above the {filled:f} already filled")
            params["size"] = f"{qty - filled:f}"           # Kraken's size is the open size
        answer = await self.client.edit_order(params)
        status = answer.get("status", "")
        if status == "orderForEditNotFound":
            raise OrderNotFound("kraken futures: no open order to amend with this client id")
        if status in FUNDS:
            raise InsufficientFunds(f"kraken futures refused the amend: {status}")
        if status != "edited":
            raise InvalidOrder(f"kraken futures refused the amend: {status or 'no status'}")
        sent = self._sent.setdefault(node.client_order_id, {})
        sent.update({k: v for k, v in (("qty", qty), ("price", price)) if v is not None})
        return AmendResult("native_atomic", await self.order_state(node.client_order_id))

    async def open_orders(self, inst) -> list[OrderState]:
        if not self.client.has_credentials:
            return []
        symbol = inst.venue_symbol.upper()
        out = []
        for o in await self.client.open_orders():
            if str(o.get("symbol", "")).upper() != symbol:
                continue
            filled = _dec(o.get("filledSize"))
            out.append(OrderState(_cid(o) or o["order_id"], o["order_id"], "PARTIALLY_FILLED" if filled else "NEW", filled,
                                  venue_ts_ns=_ns(o.get("lastUpdateTime") or o.get("receivedTime")),
                                  price=_dec(o["limitPrice"]) if o.get("limitPrice") is not None else None,
                                  qty=filled + _dec(o.get("unfilledSize"))))
        return out

    # -- account -------------------------------------------------------------------------------
    async def margin(self) -> dict[str, Decimal]:
        flex = (await self.client.accounts()).get("flex") or {}
        return {perp_margin("USD"): _dec(flex.get("availableMargin"))} if flex else {}

    async def collateral(self) -> dict[str, Decimal]:
        """What the flex account holds of each currency, by canonical asset: its ``quantity``
        (units of the currency; ``XBT`` read as BTC), never ``value``/``collateral`` (USD, the
        latter after haircut), nor the account's unrealized ``pnl`` (module docstring)."""
        flex = (await self.client.accounts()).get("flex") or {}
        out: dict[str, Decimal] = {}
        for code, row in (flex.get("currencies") or {}).items():
            name = asset(str(code).upper())
            out[name] = out.get(name, Decimal(0)) + _dec((row or {}).get("quantity"))
        return out

    async def positions(self) -> list[VenuePosition]:
        return [VenuePosition(str(p["symbol"]).upper(), _dec(p["size"]) * (-1 if p.get("side") == "short" else 1),
                              _dec(p["price"]) if p.get("price") is not None else None)
                for p in await self.client.open_positions()
                if str(p.get("symbol", "")).upper().startswith("PF_") and _dec(p.get("size"))]

    async def funding_payments(self, since_ns: int) -> list[FundingPayment]:
        params = {"info": FUNDING_INFO, "sort": "asc", "since": str(since_ns // 1_000_000), "count": str(LOG_PAGE)}
        found: dict[str, FundingPayment] = {}
        for _ in range(FUNDING_REQUESTS):
            page = await self.client.account_log(params)
            found.update((p.payment_id, p) for e in page if e.get("info") == FUNDING_INFO
                         and (p := _funding(e)).amount and p.venue_ts_ns >= since_ns)
            if len(page) < LOG_PAGE:
                break
            params["from"] = str(max(int(e["id"]) for e in page) + 1)
        else:
            log.warning("kraken futures funding: %d pages read; the rest is read next time", FUNDING_REQUESTS)
        return sorted(found.values(), key=lambda p: (p.venue_ts_ns, int(p.payment_id)))

    async def close(self) -> None:
        await self.client.close()
