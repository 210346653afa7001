"""The execution protocol between the engine and a venue (real adapter or paper venue).

One :class:`ExecutionSession` per venue and mode. Every call is keyed by the client order
id derived from the node order id, which is what makes a retried or reconciled order
recognisable: ``place`` of an id the venue already knows returns that order's state
instead of creating a second one.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .market import Instrument
from .orders import NodeOrder


class VenueFill(msgspec.Struct, frozen=True):
    fill_id: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str                 # maker | taker
    venue_ts_ns: int


class OrderState(msgspec.Struct, frozen=True):
    """What the venue says about one order."""

    client_order_id: str
    venue_order_id: str | None
    status: str                    # NEW | PARTIALLY_FILLED | FILLED | CANCELLED | REJECTED | EXPIRED
    filled_qty: Decimal
    fills: tuple[VenueFill, ...] = ()
    reason: str = ""
    venue_ts_ns: int | None = None
    price: Decimal | None = None
    qty: Decimal | None = None


class AmendResult(msgspec.Struct, frozen=True):
    mode: str                      # native_atomic | cancel_replace
    state: OrderState


class Settlement(msgspec.Struct, frozen=True):
    """A resolved event contract: which outcome won and what one contract pays."""

    symbol: str
    winning_outcome: str           # YES | NO
    payout_per_contract: Decimal   # 1 for the winning side
    method: str                    # auto_settlement | relayer_redeem | paper_resolution
    venue_ts_ns: int
    reference: str = ""            # venue settlement / transaction id


class VenuePosition(msgspec.Struct, frozen=True):
    """A position as the venue itself reports it (perps, event contracts), for reconciling
    the ledger and for ``positions`` in live mode."""

    venue_symbol: str
    qty: Decimal                   # signed: a short is negative
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    margin: Decimal | None = None
    liquidation_price: Decimal | None = None


class FundingPayment(msgspec.Struct, frozen=True):
    """A perp funding payment the venue booked on the account (its income or bill history)."""

    payment_id: str                # the venue's id for it; unique per venue (the ledger keeps each once)
    venue_symbol: str              # the perp it was paid on
    asset: str                     # the coin it moved (the settlement coin: USDT, USDC)
    amount: Decimal                # signed: received > 0, paid < 0
    venue_ts_ns: int               # when the venue booked it


def perp_margin(quote: str) -> str:
    """The ``balances()`` key of the free margin for perps settled in *quote*, where the venue
    keeps it in a wallet of its own (Binance USD-M, Bitget futures): without it a perp order is
    checked against *quote* itself, as on venues with one account (Bybit unified, OKX)."""
    return f"{quote}:perp-margin"


def spendable(asset: str) -> str:
    """The ``balances()`` key of the most of *asset* one sell can spend, where the venue pays
    it from another balance too (dex_ethereum: native ETH sent for the router to wrap, in place
    of WETH): without it a sell is checked against *asset* itself."""
    return f"{asset}:spendable"


class Leverage:
    """``[venues.<venue>] leverage``: a positive whole number set on each perp before its first
    order in a session (None: the account's own leverage is left as it is). The adapter gives the
    venue's calls: ``set_call(venue_symbol, leverage)``, which raises InvalidOrder when the venue
    refuses the value, and ``max_call(venue_symbol)``, the most it allows there; a refusal is
    raised again naming the symbol, the leverage asked and that maximum, before any order."""

    def __init__(self, venue: str, title: str, settings: dict):
        from .config import leverage_error
        from .errors import ConfigError

        self.venue, self.title, self.value = venue, title, settings.get("leverage")
        if why := leverage_error(venue, self.value):
            raise ConfigError(why)
        self._set: set[str] = set()              # venue symbols whose leverage this session has set

    async def ensure(self, symbol: str, label: str, set_call, max_call) -> None:
        """Set it on the venue's *symbol* unless already set this session (*label*: what the
        message calls it besides, e.g. the canonical symbol or "USD-M")."""
        from .errors import InvalidOrder, VenueError

        if self.value is None or symbol in self._set:
            return
        try:
            await set_call(symbol, self.value)
        except InvalidOrder as refused:
            try:
                allowed = await max_call(symbol)
            except VenueError:
                allowed = None                   # the refusal itself still says why
            most = f"; {self.title} allows at most {allowed}x on it" if allowed else ""
            raise InvalidOrder(f"{self.venue}: leverage {self.value} refused for {symbol} ({label}): "
                               f"{str(refused).removeprefix(f'{self.venue}: ')}{most}; lower [venues.{self.venue}] "
                               "leverage") from None
        self._set.add(symbol)

    def seen(self, venue_symbol: str, leverage) -> None:
        """The venue reports *leverage* on a symbol (an order or position read): one other than
        the setting (changed in the venue's app, say) is set again before the next order."""
        if self.value is not None and leverage and Decimal(str(leverage)) != self.value:
            self._set.discard(venue_symbol)


class ExecutionSession:
    """Base class; venue plugins implement it. All methods are coroutines."""

    leverage: Leverage | None = None     # a session that sets perp leverage keeps it here (admission's margin check)

    venue: str
    amend_mode: str = "cancel_replace"   # what amend does at this venue

    async def place(self, node: NodeOrder, instrument: Instrument) -> OrderState:
        raise NotImplementedError

    async def cancel(self, node: NodeOrder, instrument: Instrument) -> OrderState:
        raise NotImplementedError

    def native_amend(self, node: NodeOrder, price: Decimal | None, qty: Decimal | None) -> bool:
        """Whether the venue changes this order in place (``amend``); else the engine cancels
        and replaces it. Venues whose amend covers only some changes override this."""
        return self.amend_mode == "native_atomic"

    async def cancel_and_read(self, node: NodeOrder, instrument: Instrument, request) -> OrderState:
        """Ask the venue to cancel (``await request()``), then read the order's final state: a
        cancel of an order already filled or cancelled is no error, its state says which."""
        from .errors import OrderNotFound

        try:
            await request()
        except OrderNotFound:
            pass
        state = await self.order_state(node.client_order_id, instrument)
        return state or OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason=f"{self.venue} does not know this order")

    async def amend(self, node: NodeOrder, instrument: Instrument, price: Decimal | None, qty: Decimal | None) -> AmendResult:
        """Native amend where the venue has one; the engine does cancel-replace otherwise.
        A refusal is raised as the venue's error (InvalidOrder, OrderNotFound, ...), never
        returned as a REJECTED state: the order itself is still working as it was."""
        raise NotImplementedError

    async def open_orders(self, instrument: Instrument) -> list[OrderState]:
        """Orders resting at the venue on this book (reconciliation and ``orders`` views)."""
        raise NotImplementedError

    async def order_state(self, client_order_id: str, instrument: Instrument | None = None) -> OrderState | None:
        """The venue's view of an order (None: the venue never received it)."""
        raise NotImplementedError

    async def poll(self, nodes: list[tuple[NodeOrder, Instrument]]) -> list[OrderState]:
        """Current state of resting orders (fills since placement included)."""
        return [s for n, inst in nodes if (s := await self.order_state(n.client_order_id, inst)) is not None]

    async def balances(self) -> dict[str, Decimal] | None:
        """Free balance per asset at the venue (None: this session cannot tell). A venue that
        keeps perp margin in a wallet apart from spot cash also reports that margin under
        :func:`perp_margin` of its settlement coin: a perp order is checked against it."""
        return None

    async def holdings(self) -> dict[str, Decimal] | None:
        """What the account holds of each asset in total, as the venue reports it: free plus
        locked in open orders (None: this session cannot tell). Keys are canonical asset names
        (``BTC``, ``USDT``, ``USD``), the ones the ledger books fills under; cash and spot only
        (perps and event contracts are ``positions``). Live ``positions`` shows these in place of
        the ledger's cash and spot rows. Adapters read it with the same request(s) as
        ``balances``."""
        return None

    async def prepare(self, instrument: Instrument) -> None:
        """Before a live order on *instrument* is admitted (beside the balance read): load what
        the venue's synchronous estimates (``Venue.fee``) need that only the venue can tell, so
        they never wait on the network themselves (Kalshi: the market's series fee terms). A
        failure is logged and the estimate falls back to the published schedule. Default: none."""
        return None

    def user_stream(self):
        """The venue's private order/fill websocket (:class:`sequence_core.userstream.UserStream`),
        or None: the engine then learns of fills by polling alone."""
        return None

    def user_streams(self) -> list:
        """Every private stream of the venue, where its orders are pushed on more than one
        socket (Binance spot and USD-M); the engine keeps each connected. Default: user_stream."""
        stream = self.user_stream()
        return [stream] if stream is not None else []

    async def positions(self) -> list[VenuePosition] | None:
        """Open positions as the venue reports them (None: this session cannot tell)."""
        return None

    async def funding_payments(self, since_ns: int) -> list[FundingPayment] | None:
        """Perp funding booked on the account at or after *since_ns* (ns since the epoch),
        oldest first, every page of it (None: this session cannot tell). The engine asks
        every few minutes while the ledger holds a perp on this venue and keeps each payment
        once, by its id: repeats across calls are expected."""
        return None

    async def settle(self, instruments: list[Instrument]) -> Settlement | None:
        """Resolution of an event contract (both outcomes given), or None if not resolved."""
        raise NotImplementedError

    async def close(self) -> None:
        return None
