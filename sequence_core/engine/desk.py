"""A desk: one mode's (live or sandbox) journal, venue sessions and running graphs."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from decimal import Decimal

import msgspec

from ..bundles import Routing
from ..errors import ConfigError, InsufficientFunds, InvalidOrder, OrderNotFound, SequenceError, UsageError
from ..execution import OrderState, perp_margin, spendable
from ..journal import Journal
from ..market import USD_FAMILY, Instrument, matches, resolve, traded_outcome
from ..router import under_minimum
from ..orders import (GRAPH_ACTIVE, NODE_TERMINAL, Fill, LifecycleEvent, NodeOrder, OrderGraph, OrderRequest,
                      URGENCIES, add_fill, new_graph_id, node_id_from_client, parse_order_id)
from ..policy import check_policy_name
from .context import GraphRuntime

log = logging.getLogger("sequence.engine")
SEND_TIMEOUT_S = float(os.environ.get("SEQUENCE_ENGINE_SEND_TIMEOUT", "10"))
BALANCES_MAX_AGE_S = 5.0   # live: a policy's take re-reads venue balances older than this
POLL_INTERVAL_S = 0.25
STREAM_POLL_S = 5.0       # resting orders' REST check while the venue's private stream is live
USER_CANCEL = "cancelled by user"
UNCONFIRMED = "unconfirmed: the venue answered neither the place nor the read:"
RESOLVE_TTL_S = 5.0       # how long a symbol's resolved books are reused by admission
FUNDING_POLL_S = 600.0    # live: how often the venues' funding payments are read (they book every 1-8 h)
FUNDING_TAIL_S = 86_400   # a perp closed this recently still has its funding read (late bookings)
FUNDING_TIMEOUT_S = 30.0
PROFILE_TTL_S = 3600.0     # a learned intraday volume curve is read again after this
DEFAULT_PERP_LEVERAGE = 10  # a perp order's margin check where no venue that could take it sets one


FAULT_POINT = os.environ.get("SEQUENCE_ENGINE_FAULT")     # read once: it is set when the engine starts


def _fault(point: str) -> None:
    """Test hook: SEQUENCE_ENGINE_FAULT=<point> kills the engine there, like a SIGKILL."""
    if FAULT_POINT == point:
        os._exit(137)


def _books_key(instruments: dict[str, Instrument]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((i.venue, i.symbol) for i in instruments.values()))


def _spends(inst: Instrument, side: str) -> str:
    """The balance an order spends: quote cash for a buy and for a perp either way; for a sell,
    the holding a fill moves (the base, or the contract and its outcome)."""
    from ..journal import position_key

    return inst.quote if side == "buy" or inst.kind == "perp" else position_key(inst)


def _under_every_minimum(left: Decimal, price: Decimal | None, instruments: dict[str, Instrument]) -> str | None:
    """Why *left* can be sent nowhere, when it is under every venue's lot or minimum order (a
    partial fill's remainder often is): else None."""
    if instruments and all(left < i.lot_size or under_minimum(left, i, price) for i in instruments.values()):
        return f"the remaining {left} is under every venue's minimum order"
    return None


def _listed_elsewhere(symbol: str, venue: str | None) -> UsageError | None:
    """The error for a symbol that *venue* (None: every connected venue) does not list but an
    installed venue does, naming where it trades; None when no venue lists it at all."""
    from ..plugins import venues as installed

    listed = sorted({i.venue for v in installed().values() if not v.sandbox_only for i in v.instruments() if matches(symbol, i)})
    if not listed:
        return None
    if venue is not None:
        return UsageError(f"{venue} does not list '{symbol}'; it trades on {', '.join(listed)}")
    return UsageError(f"no connected venue lists '{symbol}' (it trades on {', '.join(listed)}): connect one "
                      "with `sequence connect <venue>`, or use --sandbox")


def _market_settings() -> dict:
    from ..config import load_config

    return load_config().get("market_data", {})


def _short(venue: str, asset: str, amount: Decimal, free: Decimal, what: str, where: str = " (paper account)") -> str | None:
    """Why an account whose *free* balance is short of *amount* refuses, else None."""
    if amount <= free:
        return None
    return f"insufficient balance on {venue}{where}: the {what} needs {amount:.8g} {asset}, {max(free, Decimal(0)):.8g} is free"


class Desk:
    def __init__(self, sandbox: bool):
        from ..client import Sequence
        from ..plugins import policies, venues

        self.sandbox = sandbox
        self.mode = "sandbox" if sandbox else "live"
        self.client = Sequence(sandbox=sandbox)
        self.journal = Journal(sandbox)
        from ..policy import EdgePolicy

        self.policies = {**policies(), "edge": EdgePolicy()}     # edge: orders of deployed strategies
        self.venues = self.client.trading_venues()
        self._paper = next((v for v in venues().values() if v.sandbox_only), None)
        self.source = self._market_source()
        if sandbox and hasattr(self._paper, "paper_market"):
            # routing reads the books the paper venues' own trades left (liquidity taken is gone)
            self.source = self._paper.paper_market(self.source)
        self.sessions: dict = {}
        self.runtimes: dict[str, GraphRuntime] = {}
        self.runners: dict[str, asyncio.Task] = {}
        self.in_flight: set[str] = set()
        # children journaled whose place the venue has not answered yet -> the future their
        # cancels wait on (made when one does): a venue's "unknown order" to a cancel that
        # overtook our own place is no proof the order does not exist (it lands after)
        self.placing: dict[str, asyncio.Future | None] = {}
        # children whose native amend was asked and not confirmed (a timeout, or a crash found
        # by recover): the venue's next word on them says whether it took the new price/qty
        self.amending: set[str] = set()
        self.time_scale = float(os.environ.get("SEQUENCE_ENGINE_TIME_SCALE", "1"))
        self._poller: asyncio.Task | None = None
        self._funding: asyncio.Task | None = None
        self.streams: dict[str, list] = {}            # venue -> its UserStreamRunners (live)
        self._polled: dict[tuple, float] = {}          # (venue, the streams covering a book) -> its last poll
        self.listeners: set[asyncio.Queue] = set()
        self.watchers: set = set()                     # channel connections pushed their orders' changes
        self.settled: dict[str, asyncio.Event] = {}   # set when a graph's policy is done
        self.parent_ended: dict[str, asyncio.Event] = {}   # handed parents: filled, or ended by their strategy
        self.venue_balances: dict[str, dict[str, Decimal]] = {}   # live: the venues' own word
        self.balances_read: dict[str, float] = {}                 # live: when each was read (monotonic)
        self._holds: dict[str, tuple[tuple[str, str], Decimal]] = {}   # sandbox: open node -> what it holds
        self._held: dict[tuple[str, str], Decimal] = {}                # sandbox: (venue, asset) -> held in all
        self._resolved: dict[tuple, tuple[float, dict[str, Instrument]]] = {}   # instruments_for
        self._profiles: dict[tuple, tuple[float, list[float] | None]] = {}      # books -> learned volume curve
        from ..bundles import ActiveBundles
        from ..home import ensure_home

        # sor / assignment bundles promoted on target "sandbox" or "live" (docs/bundles.md)
        self.bundles = ActiveBundles(ensure_home(), self.mode)

    # -- sessions ----------------------------------------------------------------------------
    def session(self, venue: str):
        if venue not in self.sessions:
            v = self.venues[venue]
            if self.sandbox:
                if self._paper is None:
                    raise SequenceError("no paper venue plugin (sequence-venue-sim) is installed; sandbox cannot trade")
                self.sessions[venue] = self._paper.paper_session(v, self.source)
            else:
                from ..venues import live_session

                session = live_session(venue, v, self.client.credentials())
                if session is None:
                    raise SequenceError(f"the {venue} plugin cannot trade live yet (no execution client); use --sandbox")
                self.sessions[venue] = session
                self._start_stream(venue, session)
        return self.sessions[venue]

    def _start_stream(self, venue: str, session) -> None:
        """The venue's private order streams, where the adapter has them (docs: userstream)."""
        streams = session.user_streams()
        if not streams:
            return
        from ..userstream import UserStreamRunner

        async def connected() -> None:
            self._catch_up(venue)              # over REST on the next poll tick

        instruments = {i.venue_symbol: i for i in self.venues[venue].instruments()}
        self.streams[venue] = [UserStreamRunner(s, lambda: instruments, self.on_stream, connected).start() for s in streams]

    def sockets(self) -> list[dict]:
        """Each websocket the desk keeps (venue market-data feeds, private order streams) and
        its state, for ``engine status``: whether books and fills arrive pushed or polled."""
        runners = list(getattr(self.source, "runners", {}).values())
        runners += [r for streams in self.streams.values() for r in streams]
        return [{"name": r.name, "state": r.stats.state, "reconnects": r.stats.reconnects, "gaps": r.stats.gaps,
                 "error": r.stats.error,
                 # a feed's books in sync (a live socket whose books never sync is served by REST reads)
                 "books": [sum(b.synced for b in r.books.values()), len(r.books)] if hasattr(r, "books") else None}
                for r in runners]

    def on_stream(self, states: list[OrderState]) -> None:
        """Order updates pushed by a venue: applied like a poll answer (fills counted once)."""
        for state in states:
            node_id = node_id_from_client(state.client_order_id)
            rt = self.runtimes.get(parse_order_id(node_id)[0]) if node_id else None
            if rt is None or node_id not in rt.nodes:
                continue                       # another client's order, or a graph already closed
            venue = rt.nodes[node_id].venue
            try:
                node = self.apply(rt, node_id, state, rt.instruments[venue])
            except Exception:  # noqa: BLE001 - the poll reconciles this order; keep the stream
                log.exception("applying a %s stream update failed", venue)
                continue
            if state.filled_qty > node.filled_qty:
                # the venue says more filled than the fills it pushed (Coinbase's user channel
                # carries no fills): read them over REST on the next poll tick
                self._catch_up(venue)

    def _catch_up(self, venue: str) -> None:
        for key in self._polled:
            if key[0] == venue:
                self._polled[key] = 0.0

    def taker_rate(self, venue: str, inst: Instrument, qty: Decimal | None = None, book=None) -> Decimal | None:
        """The venue's taker fee as a fraction of notional at this book's price (curves included),
        for an order of *qty*: a fixed cost per order (a DEX swap's gas) weighs by its size.
        *book*: the venue's book when the caller holds it (else it is read)."""
        if book is None:
            found = self.source.books([inst], self.source.now_ns(), 1)
            book = found[0] if found else None
        ref = book.best_ask.price if book is not None and book.best_ask else Decimal(1)
        probe = qty if qty and qty > 0 else inst.lot_size * 100
        fee = self.venues[venue].fee(inst, ref, probe, "taker")
        return None if fee is None else fee / (ref * probe)

    def available(self, side: str, instruments: dict[str, Instrument]) -> dict[str, Decimal]:
        """Per venue: quote cash for buys, the held instrument for sells (perps: cash, or the
        perp margin wallet where the venue keeps one: execution.perp_margin; a sell: what the
        venue says one order can spend, where it can pay from two balances: execution.spendable). Sandbox reads the
        paper ledger; live reads what the venues last reported."""
        out = {}
        for venue, inst in instruments.items():
            asset = _spends(inst, side)
            if self.sandbox:
                out[venue] = self._free(venue, asset)
                continue
            held = self.venue_balances.get(venue, {})
            if inst.kind == "perp":
                asset = perp_margin(asset) if perp_margin(asset) in held else asset
            elif side == "sell":
                asset = spendable(asset) if spendable(asset) in held else asset
            out[venue] = held.get(asset, Decimal(0))
        return out

    def _hold(self, rt: GraphRuntime, node: NodeOrder) -> None:
        """Sandbox: keep held what *node* may still spend while it is open (sent or resting,
        not yet filled): the rest of a buy at its limit with the taker fee (a perp's margin at
        its leverage), the rest of a sell's holding. Sandbox balances are the ledger, which
        moves only on fills: without this, orders working at once could together spend more
        than a paper account holds. Called wherever a node's state changes (dispatch, apply),
        so admission reads a running total instead of walking every open order."""
        self._unhold(node.node_order_id)
        inst = rt.instruments.get(node.venue)
        if node.status in NODE_TERMINAL or node.remaining <= 0 or inst is None:
            return
        amount = self.cost(inst, node.side, node.remaining, node.limit_price)
        if amount is None:
            return
        key = (node.venue, _spends(inst, node.side))
        self._holds[node.node_order_id] = (key, amount)
        self._held[key] = self._held.get(key, Decimal(0)) + amount

    def cost(self, inst: Instrument, side: str, qty: Decimal, price: Decimal | None) -> Decimal | None:
        """What an order of *qty* at *price* (None: the touch) spends from the balance
        ``available`` reports for it: a buy's notional with the taker fee, a perp's margin at
        the venue's leverage, a sell's holding itself; None without a price to value it at."""
        if _spends(inst, side) != inst.quote:
            return qty
        price = price or self._touch(inst, side)
        if price is None:
            return None
        amount = qty * price + (self.venues[inst.venue].fee(inst, price, qty, "taker") or 0)
        return amount / self.leverage_for(inst.venue) if inst.kind == "perp" else amount

    def _unfunded(self, node: NodeOrder) -> str | None:
        """Sandbox: why the paper account cannot pay for *node* (what it holds is more than the
        account's balance less what the other open orders hold), else None."""
        hold = self._holds.get(node.node_order_id)
        if hold is None:
            return None
        (venue, asset), amount = hold
        return _short(venue, asset, amount, self._free(venue, asset) + amount, "order")   # what the others leave

    def _amend_unfunded(self, rt: GraphRuntime, node: NodeOrder, price: Decimal | None, qty: Decimal | None) -> str | None:
        """Why the account cannot pay for what *node* amended to would hold (checked before
        cancel-replace cancels the original), else None: in sandbox the paper account less
        the other open orders' holds; live the venue's free balance (last read) and what the
        original, once cancelled, releases. Live, a venue whose balances are unknown is not
        checked (the venue decides)."""
        inst = rt.instruments[node.venue]
        left = (qty if qty is not None else node.qty) - node.filled_qty
        amount = self.cost(inst, node.side, left, price if price is not None else node.limit_price)
        if amount is None:
            return None
        asset = _spends(inst, node.side)
        if self.sandbox:
            held = self._holds.get(node.node_order_id)
            return _short(node.venue, asset, amount, self._free(node.venue, asset) + (held[1] if held else 0), "amended order")
        if node.venue not in self.venue_balances:
            return None
        released = self.cost(inst, node.side, node.remaining, node.limit_price) or Decimal(0)
        free = self.available(node.side, {node.venue: inst})[node.venue] + released
        return _short(node.venue, asset, amount, free, "amended order", "")

    def _free(self, venue: str, asset: str) -> Decimal:
        """Sandbox: a paper balance less what open orders hold of it, as a venue shows free."""
        return self.journal.positions.get(venue, asset)[0] - self._held.get((venue, asset), Decimal(0))

    def _unhold(self, node_id: str) -> None:
        old = self._holds.pop(node_id, None)
        if old is not None:
            left = self._held[old[0]] - old[1]
            if left:
                self._held[old[0]] = left
            else:
                del self._held[old[0]]

    def _touch(self, inst: Instrument, side: str) -> Decimal | None:
        found = self.source.books([inst], self.source.now_ns(), 1)
        level = (found[0].best_ask if side == "buy" else found[0].best_bid) if found else None
        return level.price if level is not None else None

    def perp_leverage(self, instruments: dict[str, Instrument]) -> int:
        """The leverage a perp order's margin is checked at: the most that a venue which could
        take it sets (``[venues.<name>] leverage``, ExecutionSession.leverage), else
        DEFAULT_PERP_LEVERAGE (the venue checks its own figure when the order arrives)."""
        return max((x for venue in instruments if (x := self._set_leverage(venue))), default=DEFAULT_PERP_LEVERAGE)

    def leverage_for(self, venue: str) -> int:
        """The leverage *venue*'s perp orders are counted at (routing caps a share by it):
        ``[venues.<name>] leverage`` where the session sets one, else DEFAULT_PERP_LEVERAGE."""
        return self._set_leverage(venue) or DEFAULT_PERP_LEVERAGE

    def _market_source(self):
        """The configured market-data source; a live desk prices real orders on the venues'
        books as they are now, whatever `[market_data] source` names (a recorded or synthetic
        market is for sandbox and for reading: `quote --source`, `tca`, `intel`)."""
        from ..config import config_path
        from ..home import FileWatch

        self._market_watch = FileWatch(config_path(), absent=OSError)      # a stat at most every 0.1 s
        self._market_watch.changed()
        self._market_conf = _market_settings()
        source = self.client.source()
        if not self.sandbox and not source.live:
            log.info("live desk: [market_data] source '%s' is not live; pricing on the live source", source.name)
            source = self.client.source("live")
        return source

    def _check_market_config(self) -> None:
        """A `[market_data]` edited since the engine started would have quotes (read by the CLI
        from config.toml) and the engine's routing on two different markets: refuse orders
        until the engine restarts on the new one."""
        if self._market_watch.changed() and _market_settings() != self._market_conf:
            raise ConfigError(f"config.toml's [market_data] changed since the engine started (it trades on "
                              f"{self.source.label()}): run `sequence engine stop` to apply it (the next command "
                              "starts the engine again, resuming working orders)")

    def _set_leverage(self, venue: str) -> int | None:
        s = self.sessions.get(venue)
        if s is None and self.sandbox and self._paper is not None and venue in self.venues:
            s = self.session(venue)        # a paper session is local: its leverage is known before its first order
        return s.leverage.value if s is not None and s.leverage is not None and s.leverage.value else None

    def volume_profile(self, instruments: dict[str, Instrument]) -> list[float] | None:
        """The intraday volume curve learned for these books (learn_volume_profile), if any."""
        found = self._profiles.get(_books_key(instruments))
        return found[1] if found else None

    async def learn_volume_profile(self, instruments: dict[str, Instrument]) -> None:
        """Learn these books' intraday volume curve from the store's trades, on a thread (a
        read of two weeks of trades must not stall the event loop); kept PROFILE_TTL_S. A store
        that cannot tell (no data, part of a day, unreadable) leaves the policy its default."""
        from ..research.profile import hourly_volume_profile
        from ..store import Store

        key = _books_key(instruments)
        found = self._profiles.get(key)
        if found is not None and time.monotonic() - found[0] < PROFILE_TTL_S:
            return
        try:
            profile = await asyncio.to_thread(hourly_volume_profile, Store(), list(key))
        except Exception as exc:  # noqa: BLE001 - the policy's default curve stands
            log.warning("learning the volume profile of %s failed: %s", ", ".join(f"{v}:{s}" for v, s in key), exc)
            profile = None
        self._profiles[key] = (time.monotonic(), profile)

    # -- admission -----------------------------------------------------------------------------
    def instruments_for(self, request: OrderRequest) -> dict[str, Instrument]:
        """One book per venue: the requested quote if listed, else USD, USDT, USDC in order.
        Kept for RESOLVE_TTL_S per (symbol, venue): venues list instruments far less often
        than a busy desk admits orders (a symbol newly listed shows within that time)."""
        key = (request.symbol, request.venue)
        now = time.monotonic()
        hit = self._resolved.get(key)
        if hit is not None and now - hit[0] < RESOLVE_TTL_S:
            return dict(hit[1])
        found = self._instruments_for(request)
        if len(self._resolved) > 1024:
            self._resolved.clear()
        self._resolved[key] = (now, found)
        return dict(found)

    def _instruments_for(self, request: OrderRequest) -> dict[str, Instrument]:
        if request.venue is not None:
            names = [request.venue]
            self.client.trading_venues(names)   # unknown / unconnected venue -> clear error
        pool = [i for v in (self.venues if request.venue is None else {request.venue: self.venues[request.venue]}).values()
                for i in v.instruments()]
        try:
            found = resolve(request.symbol, pool)
        except UsageError as exc:
            raise _listed_elsewhere(request.symbol, request.venue) or exc from None
        events = {i.symbol for i in found if i.kind == "event_contract"}
        found = traded_outcome(found)
        wanted = request.symbol.rpartition(":")[0] if ":" in request.symbol else request.symbol
        quote = wanted.split("-")[1] if wanted.count("-") >= 1 and not events else None
        order = [quote] + [q for q in USD_FAMILY if q != quote] if quote else list(USD_FAMILY)
        by_venue: dict[str, Instrument] = {}
        for inst in sorted(found, key=lambda i: (order.index(i.quote) if i.quote in order else 99, i.symbol)):
            by_venue.setdefault(inst.venue, inst)
        if not by_venue:
            raise UsageError(f"no venue here lists '{request.symbol}'")
        return by_venue

    def validate(self, request: OrderRequest, seen_mid: Decimal | None = None) -> tuple[dict[str, Instrument], Decimal | None]:
        """The order's books and its arrival mid, or the error that refuses it. *seen_mid*: the
        mid a deployed strategy decided on (its edge's top); with a limit price, admission
        takes it as the arrival mid instead of reading the book (the latency path)."""
        if request.side not in ("buy", "sell"):
            raise UsageError(f"side must be buy or sell, got '{request.side}'")
        if request.urgency not in URGENCIES:
            raise UsageError(f"--urgency must be one of {', '.join(URGENCIES)}, got '{request.urgency}'")
        policy = check_policy_name(request.policy, self.policies)
        policy.validate(request)
        instruments = self.instruments_for(request)
        if request.venue:
            inst = instruments[request.venue]
            if (request.qty / inst.lot_size) % 1 != 0:
                raise InvalidOrder(f"quantity {request.qty:f} is not a multiple of {request.venue}'s lot size {inst.lot_size:f} for {inst.symbol}")
            if request.qty < inst.min_qty:
                raise InvalidOrder(f"quantity {request.qty:f} is under {request.venue}'s minimum {inst.min_qty:f} for {inst.symbol}")
            if request.limit_price is not None and (request.limit_price / inst.tick_size) % 1 != 0:
                raise InvalidOrder(f"limit price {request.limit_price:f} is off {request.venue}'s tick size {inst.tick_size:f} for {inst.symbol}")
        else:
            # routed: every venue's share is whole lots, so a quantity off the finest lot could
            # never fill in full; a price off every venue's tick (float noise: 0.30000000000000004)
            # is refused as with --venue, one on a coarser venue's tick rests at its nearest tick
            finest = min(instruments.values(), key=lambda i: (i.lot_size, i.venue))
            if request.qty < finest.lot_size:
                raise InvalidOrder(f"quantity {request.qty:f} is smaller than any venue's lot size for {request.symbol}")
            if (request.qty / finest.lot_size) % 1 != 0:
                raise InvalidOrder(f"quantity {request.qty:f} is not a multiple of any venue's lot size for {request.symbol} "
                                   f"(the finest: {finest.lot_size:f} on {finest.venue})")
            if request.limit_price is not None and all((request.limit_price / i.tick_size) % 1 for i in instruments.values()):
                finest = min(instruments.values(), key=lambda i: (i.tick_size, i.venue))
                raise InvalidOrder(f"limit price {request.limit_price:f} is off every venue's tick size for {request.symbol} "
                                   f"(the finest: {finest.tick_size:f} on {finest.venue})")
        if request.limit_price is not None and any(i.kind == "event_contract" for i in instruments.values()) and not (0 < request.limit_price < 1):
            raise InvalidOrder(f"event contracts trade between 0 and 1 (dollars per contract); got limit price {request.limit_price:f}")
        if seen_mid is not None and request.limit_price is not None:
            mid, ref = seen_mid, request.limit_price
        else:
            books = self.source.books(list(instruments.values()), self.source.now_ns(), 1)
            bids = [b.best_bid.price for b in books if b.best_bid]
            asks = [b.best_ask.price for b in books if b.best_ask]
            mid = (max(bids) + min(asks)) / 2 if bids and asks else None
            ref = request.limit_price or (min(asks) if request.side == "buy" and asks else max(bids) if bids else None)
        if ref is not None:
            self._check_minimums(request, instruments, ref)
            have = self.available(request.side, instruments)
            total = sum(have.values(), Decimal(0))
            perp = any(i.kind == "perp" for i in instruments.values())
            if request.side == "buy" or perp:
                leverage = self.perp_leverage(instruments) if perp else 1
                need = request.qty * ref / leverage
                if need > total:
                    at = f" as margin at {leverage}x" if perp else ""
                    raise InsufficientFunds(f"insufficient balance: {request.side} {request.qty} {request.symbol} needs about "
                                            f"{need:,.2f}{at} in cash; available {total:,.2f} across {', '.join(sorted(have))}")
            elif request.qty > total:
                raise InsufficientFunds(f"insufficient balance: selling {request.qty} {request.symbol} but only {total} held "
                                        f"across {', '.join(sorted(have))}")
        return instruments, mid

    @staticmethod
    def _check_minimums(request: OrderRequest, instruments: dict[str, Instrument], ref: Decimal) -> None:
        """The order clears a venue's minimum notional (with --venue), or some venue could take
        it whole (routed): a share is never larger than the order, so an order under every
        venue's minimum quantity or notional was journaled only to end EXPIRED."""
        notional = request.qty * ref
        if request.venue:
            minimum = max((i.min_notional for i in instruments.values()), default=Decimal(0))
            if notional < minimum:
                raise InvalidOrder(f"order notional {notional:.2f} is under the minimum {minimum} for {request.symbol}")
            return
        if not any((request.qty / i.lot_size) % 1 == 0 and request.qty >= i.min_qty and notional >= i.min_notional
                   for i in instruments.values()):
            each = ", ".join(f"{v} {i.min_qty:f} / {i.min_notional:f}" for v, i in sorted(instruments.items()))
            raise InvalidOrder(f"order of {request.qty:f} {request.symbol} (notional {notional:.2f}) is under every venue's "
                               f"minimum quantity / notional: {each}")

    async def refresh_balances(self, request: OrderRequest) -> None:
        """Live: ask each venue that could take the order for its balances, and let it prepare
        the instrument for its estimates (``ExecutionSession.prepare``); each timeout bounded."""
        for venue, inst in self.instruments_for(request).items():
            session = self.session(venue)
            try:
                await self._read_balances(venue)
            except SequenceError as exc:
                raise SequenceError(f"could not read {venue}'s balances to check the order: {exc}") from None
            try:
                await asyncio.wait_for(session.prepare(inst), SEND_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - advisory: the order goes on with the published schedule
                log.warning("%s: preparing %s for admission failed (%s); its estimates use the published schedule",
                            venue, inst.symbol, exc)

    async def _read_balances(self, venue: str) -> None:
        found = await asyncio.wait_for(self.session(venue).balances(), SEND_TIMEOUT_S)
        if found is not None:
            self.venue_balances[venue] = found
        self.balances_read[venue] = time.monotonic()

    async def fresh_balances(self, venues, max_age_s: float = BALANCES_MAX_AGE_S) -> None:
        """Live: re-read the balances of *venues* last read over *max_age_s* ago, or never (a
        graph resumed after a restart), so an order worked over time routes on what the venues
        hold now, not what they held at admission. A venue that cannot answer keeps its last
        figures (what it refuses then says why)."""
        if self.sandbox:
            return
        now = time.monotonic()
        for venue in venues:
            if now - self.balances_read.get(venue, float("-inf")) > max_age_s:
                try:
                    await self._read_balances(venue)
                except (SequenceError, asyncio.TimeoutError) as exc:
                    log.warning("re-reading %s's balances: %s; routing on the last figures", venue, exc)

    async def submit(self, request: OrderRequest) -> OrderGraph:
        """Admit a parent order; returns once its admission is durable."""
        return (await self.place(request, 0.0)).graph

    async def place(self, request: OrderRequest, wait_s: float) -> GraphRuntime:
        """Admit a parent order, wait up to *wait_s* (at most 30 s) for its policy to finish
        (long-running policies and parents handed to a deployed strategy do not wait), and
        return once what it wrote so far is durable. The runtime returned holds the
        graph, its nodes and its fills as they stand (its working copies: read them before
        awaiting anything else)."""
        if not self.sandbox:
            await self.refresh_balances(request)
        graph = self._admit(request)
        rt = self.runtimes[graph.graph_id]
        self._publish(graph.graph_id)       # its readers wait for the commit themselves
        wait = 0.0 if self.policies[request.policy].long_running or graph.handler else min(wait_s, 30.0)
        settled = self.settled.get(graph.graph_id)
        if wait and settled is not None:
            try:
                async with asyncio.timeout(wait):
                    await settled.wait()
            except (TimeoutError, asyncio.TimeoutError):
                pass   # still working: the answer shows it as such
        await self.journal.durable()        # the admission, and what settling wrote, are committed
        return rt

    def admit_now(self, request: OrderRequest, seen_mid: Decimal | None = None) -> tuple[OrderGraph, int]:
        """Admit and commit at once instead of at the next group commit: the latency path of
        a deployed strategy's order (engine/channel.py); the graph and when its admission was
        durable (ns), or 0 when the journal could not commit it yet (it retries: await
        ``journal.durable()``). Sandbox only: live admission first reads the venues'
        balances, which takes a network call (see submit)."""
        graph = self._admit(request, seen_mid, commit=True)
        journaled_ns = self.journal.committed_ns if self.journal.committed else 0
        self._publish(graph.graph_id)
        return graph, journaled_ns

    def _admit(self, request: OrderRequest, seen_mid: Decimal | None = None, commit: bool = False) -> OrderGraph:
        """Validate, journal and start a parent order; with *commit*, its rows are committed
        before its runner is built (the latency path ends at the commit)."""
        self._check_market_config()
        instruments, mid = self.validate(request, seen_mid)
        now = time.time_ns()
        if request.parent_id:
            self._check_child(request)
        graph = OrderGraph(new_graph_id(), self.mode, request, "ADMITTED", now, now, arrival_mid=mid)
        # a deployed strategy's own order goes where it says: no bundle routes it (and the
        # lookup, a stat and two hashes, was ~a quarter of its admission on the latency path)
        routing = Routing() if request.policy == "edge" else self.bundles.for_order(graph.graph_id)
        books = {v: i.symbol for v, i in instruments.items()}
        graph.handler, path = self._assign(request, instruments, mid, routing)
        events = [LifecycleEvent(now, graph.graph_id, None, "sor_admission", {
            "policy": request.policy, "venues": sorted(instruments), "books": books,
            "arrival_mid": str(mid) if mid is not None else None, "source": self.source.label(),
            "sor_bundle": routing.sor_bundle, "sor_stage": routing.sor_stage,
            "assignment_bundle": routing.assignment_bundle, "assignment_stage": routing.assignment_stage, **path})]
        if graph.handler:
            graph.status = "WORKING"
            events.append(LifecycleEvent(now, graph.graph_id, None, "parent_dispatch", {"handler": graph.handler, "books": books}))
        self.journal.save(graph, events=tuple(events))
        if commit:
            self.journal.commit()
        self._start(graph, instruments, routing)
        return graph

    # -- parent orders handed to a deployed strategy (the assignment bundle's edge threshold) --
    def _assign(self, request: OrderRequest, instruments: dict[str, Instrument], mid, routing) -> tuple[str, dict]:
        """The deployment edge a parent order is handed to ("" for none), and the admission
        record of why. Only router-decided orders qualify: default policy, no pinned venue,
        not itself a strategy's order."""
        asg = routing.assignment
        if asg is None or request.policy != "sor" or request.venue or request.origin or mid is None:
            return "", {}
        notional = float(request.qty * mid)          # USD-family quotes count at par
        path = {"notional_usd": round(notional, 2), "edge_threshold_usd": asg.edge_threshold / asg.scale}
        if not asg.uses_edge(notional):
            return "", {**path, "path": "sor"}
        handler = self._parent_handler(instruments)
        if not handler:
            return "", {**path, "path": "sor", "why": f"at or above the edge threshold, but no running {self.mode} "
                        f"deployment takes parent orders of {request.symbol} (its module must export on_parent)"}
        return handler, {**path, "path": "edge", "handler": handler}

    def _parent_handler(self, instruments: dict[str, Instrument]) -> str:
        """The first running edge (deployments by name) whose module takes parents and trades
        one of these books."""
        from ..deploy import registry
        from ..home import ensure_home

        home = ensure_home()
        wanted = {(v, i.symbol) for v, i in instruments.items()}
        for dep in registry.all_deployments(home, self.mode):
            if dep.state != "running" or not dep.takes_parents:
                continue
            for edge in dep.edges:
                if wanted & {tuple(b) for b in dep.books if b[0] in edge.venues}:
                    st = registry.status(home, self.mode, dep.name, edge.label)
                    if st is not None and st.state == "running":
                        return f"deploy:{dep.name}/{edge.label}"
        return ""

    def _children(self, parent_id: str) -> list[GraphRuntime]:
        return [rt for rt in self.runtimes.values() if rt.request.parent_id == parent_id]

    def _handed_parent(self, graph_id: str, origin: str, unknown=OrderNotFound) -> GraphRuntime:
        """The working parent *graph_id*, handed to *origin*; else the error that says why."""
        prt = self.runtimes.get(graph_id)
        parent = prt.graph if prt else self.journal.graph(graph_id)
        if parent is None or not parent.handler:
            raise unknown(f"unknown parent order '{graph_id}'")
        if parent.handler != origin:
            raise InvalidOrder(f"parent order {graph_id} is handed to {parent.handler}, not {origin or 'you'}")
        if prt is None or parent.status not in GRAPH_ACTIVE:
            raise InvalidOrder(f"parent order {graph_id} is already {parent.status}")
        return prt

    def _parent_event(self, graph_id: str) -> asyncio.Event:
        return self.parent_ended.setdefault(graph_id, asyncio.Event())

    def _check_child(self, request: OrderRequest) -> None:
        """An order working a parent: from the parent's handler, its side, one of its books,
        and no more than the parent has left once its other working children are counted."""
        prt = self._handed_parent(request.parent_id, request.origin, unknown=InvalidOrder)
        parent = prt.graph
        inst = prt.instruments.get(request.venue or "")
        if request.side != parent.request.side or inst is None or inst.symbol != request.symbol:
            raise InvalidOrder(f"a child of {parent.graph_id} must {parent.request.side} one of its books "
                               f"({', '.join(f'{v}:{i.symbol}' for v, i in sorted(prt.instruments.items()))})")
        left = parent.request.qty - parent.filled_qty - sum(c.graph.remaining for c in self._children(parent.graph_id))
        if request.qty > left:
            raise InvalidOrder(f"{request.qty} is more than parent order {parent.graph_id} has left to place ({left})")

    def _credit_parent(self, child: OrderGraph, fill: Fill) -> None:
        """A child's fill moves its parent (in the caller's transaction)."""
        prt = self.runtimes.get(child.request.parent_id)
        if prt is None or prt.graph.status not in GRAPH_ACTIVE:
            return
        g = prt.graph
        add_fill(g, fill)
        self.journal.save(g, events=(LifecycleEvent(fill.ts_ns, g.graph_id, fill.node_order_id, "child_fill", {
            "child": child.graph_id, "venue": fill.venue, "price": str(fill.price), "qty": str(fill.qty),
            "fee": str(fill.fee), "filled": str(g.filled_qty)}),))
        if g.filled_qty >= g.request.qty:
            self._parent_event(g.graph_id).set()
        self._publish(g.graph_id)

    def end_parent(self, graph_id: str, origin: str) -> OrderGraph:
        """The handling strategy is done with a parent; what is unfilled stays unfilled."""
        graph = self._handed_parent(graph_id, origin).graph
        if graph.filled_qty < graph.request.qty:
            graph.reason = f"ended by {origin} with {graph.remaining} unfilled"
        self._parent_event(graph_id).set()
        return graph

    async def _work_parent(self, rt: GraphRuntime) -> None:
        """A handed parent's 'policy': wait until its children fill it or its strategy ends it."""
        if rt.graph.filled_qty < rt.request.qty:
            await self._parent_event(rt.graph.graph_id).wait()

    def settled_event(self, graph_id: str) -> asyncio.Event:
        return self.settled.setdefault(graph_id, asyncio.Event())

    def _start(self, graph: OrderGraph, instruments: dict[str, Instrument], routing) -> None:
        self.settled_event(graph.graph_id)
        rt = GraphRuntime(self, graph, instruments, routing, nodes=[])
        self.runtimes[graph.graph_id] = rt
        self.runners[graph.graph_id] = asyncio.get_running_loop().create_task(self._run(rt))

    async def _run(self, rt: GraphRuntime) -> None:
        try:
            if rt.graph.status == "ADMITTED":
                rt.graph.status = "WORKING"   # written with the first child's dispatch
            if rt.graph.handler:
                await self._work_parent(rt)
            else:
                policy = self.policies[rt.request.policy]
                if policy.uses_volume_profile:
                    await self.learn_volume_profile(rt.instruments)
                await policy.run(rt)
            with self.journal.group():   # the policy's end and the terminal state in one write
                rt.graph.policy_done = True
                self.journal.save(rt.graph)
                self._finalize(rt)
        except asyncio.CancelledError:
            raise
        except SequenceError as exc:
            rt.graph.policy_done = True
            rt.graph.reason = str(exc)
            self.journal.save(rt.graph, events=(LifecycleEvent(time.time_ns(), rt.graph.graph_id, None, "policy_error", {"error": str(exc)}),))
        except Exception as exc:  # noqa: BLE001 - a policy bug fails its graph, not the engine
            log.exception("policy %s failed on %s", rt.request.policy, rt.graph.graph_id)
            rt.graph.policy_done = True
            rt.graph.reason = f"policy error: {type(exc).__name__}: {exc}"
            rt.graph.status = "FAILED"
            self.journal.save(rt.graph, events=(LifecycleEvent(time.time_ns(), rt.graph.graph_id, None, "terminal", {"status": "FAILED", "reason": rt.graph.reason}),))
        finally:
            self.runners.pop(rt.graph.graph_id, None)
            self.parent_ended.pop(rt.graph.graph_id, None)
            self._finalize(rt)
            event = self.settled.pop(rt.graph.graph_id, None)
            if event is not None:
                event.set()   # the policy is done: terminal, or resting orders left working

    def _finalize(self, rt: GraphRuntime) -> None:
        """A graph whose policy is done and which has no open child reaches its terminal state."""
        g = rt.graph
        if g.status not in GRAPH_ACTIVE or not g.policy_done or rt.busy or rt.open_nodes():
            return
        if g.filled_qty >= g.request.qty:
            g.status = "FILLED"
        elif g.reason == USER_CANCEL:     # a cancel that waited for the venue's confirmation
            g.status = "CANCELLED"
        elif g.filled_qty > 0:
            g.status = "PARTIALLY_FILLED"
        else:
            nodes = list(rt.nodes.values())
            g.status = "REJECTED" if nodes and all(n.status == "REJECTED" for n in nodes) else "EXPIRED"
            if not g.reason:
                g.reason = next((n.reason for n in reversed(nodes) if n.reason), "no liquidity within the limits")
        if g.filled_qty and g.status != "FILLED" and not g.reason:
            g.reason = "stopped with quantity left: " + (_under_every_minimum(g.request.qty - g.filled_qty, g.avg_price, rt.instruments)
                                                         or next((n.reason for n in reversed(rt.nodes.values()) if n.reason),
                                                                 "limits reached"))
        g.updated_ns = time.time_ns()
        self.journal.save(g, events=(LifecycleEvent(g.updated_ns, g.graph_id, None, "terminal", {
            "status": g.status, "filled": str(g.filled_qty), "avg_price": str(g.avg_price) if g.avg_price else None, "reason": g.reason}),))
        self.runtimes.pop(g.graph_id, None)
        for node_id in rt.nodes:            # a graph that ended holds nothing
            self._unhold(node_id)
        self._publish(g.graph_id, rt)

    # -- sending and applying venue states -------------------------------------------------------
    def dispatch(self, rt: GraphRuntime, node: NodeOrder) -> None:
        """Journal a child (PENDING_NEW) and its dispatch event; sent only once durable."""
        rt.nodes[node.node_order_id] = node
        self.placing[node.node_order_id] = None
        if self.sandbox:
            self._hold(rt, node)
        records = (node, rt.graph) if rt.graph.status == "WORKING" else (node,)
        self.journal.save(*records, events=(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "edge_dispatch", {
            "venue": node.venue, "book": node.symbol, "qty": str(node.qty), "limit": str(node.limit_price) if node.limit_price else None,
            "type": node.order_type, "client_order_id": node.client_order_id}),))

    async def send(self, rt: GraphRuntime, node: NodeOrder, journaled: bool = False) -> NodeOrder:
        inst = rt.instruments[node.venue]
        if not journaled:
            self.dispatch(rt, node)
        await self.journal.durable()      # journaled before it is sent: the one rule
        _fault("after_journal")
        self.in_flight.add(node.node_order_id)
        try:
            if rt.stopping:     # the order was cancelled as a whole while this child waited its turn
                return self.apply(rt, node.node_order_id, OrderState(node.client_order_id, None, "CANCELLED", Decimal(0),
                                                                     reason="cancelled before it was sent"), inst)
            if self.sandbox and (short := self._unfunded(node)):
                # the paper account refuses what it cannot pay for, as a venue does
                return self.apply(rt, node.node_order_id, OrderState(node.client_order_id, None, "REJECTED", Decimal(0),
                                                                     reason=short), inst)
            session = self.session(node.venue)
            try:
                async with asyncio.timeout(SEND_TIMEOUT_S):     # no task per send, unlike wait_for
                    state = await session.place(node, inst)
            except (TimeoutError, asyncio.TimeoutError, SequenceError) as exc:
                # The request may or may not have arrived: ask the venue before deciding.
                if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
                    exc = SequenceError(f"{node.venue} did not answer within {SEND_TIMEOUT_S:g}s")
                try:
                    state = await asyncio.wait_for(session.order_state(node.client_order_id, inst), SEND_TIMEOUT_S)
                except Exception as read_exc:  # noqa: BLE001 - no answer either way: not a verdict
                    # the order may be live at the venue: it stays open, unconfirmed, and the
                    # poll asks again until the venue says what it has (poll_once)
                    state = OrderState(node.client_order_id, None, "NEW", Decimal(0),
                                       reason=f"{UNCONFIRMED} {exc}; asking again ({type(read_exc).__name__})")
                if state is None:
                    state = OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason=f"{type(exc).__name__}: {exc}")
            _fault("after_send")
            return self.apply(rt, node.node_order_id, state, inst)
        finally:
            self.in_flight.discard(node.node_order_id)
            waiter = self.placing.pop(node.node_order_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)      # the place is answered (or given up to the poll)

    async def placed(self, node: NodeOrder) -> None:
        """Wait until *node*'s place has been answered (at once when it has): a cancel sent
        before it could overtake it at the venue, be told "unknown order", and leave the order
        resting once the place lands. A place's wait is bounded (SEND_TIMEOUT_S, then as long
        again for the read by client id that decides an unanswered one)."""
        if node.node_order_id not in self.placing:
            return
        waiter = self.placing[node.node_order_id]
        if waiter is None:
            waiter = self.placing[node.node_order_id] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(2 * SEND_TIMEOUT_S + 1):
                await asyncio.shield(waiter)      # one waiter's cancellation leaves the others theirs
        except (TimeoutError, asyncio.TimeoutError):
            log.warning("the place of %s is still unanswered; cancelling it anyway", node.node_order_id)

    def apply(self, rt: GraphRuntime, node_id: str, state: OrderState, inst: Instrument) -> NodeOrder:
        """Bring a node (and its graph and positions) up to the venue's state, exactly once."""
        with self.journal.group():
            return self._apply(rt, node_id, state, inst)

    def _apply(self, rt: GraphRuntime, node_id: str, state: OrderState, inst: Instrument) -> NodeOrder:
        node = rt.nodes[node_id]
        events = []
        if node_id in self.amending and state.status in ("NEW", "PARTIALLY_FILLED", "FILLED") \
                and (state.price is not None or state.qty is not None):     # a push of fills alone says nothing of it
            self._amended_at_venue(rt, node, state)
        if node.venue_order_id is None and state.venue_order_id is not None:   # the ack precedes its fills
            node.venue_order_id = state.venue_order_id
            if node.reason.startswith(UNCONFIRMED):
                node.reason = ""                       # the venue has answered after all
            self.journal.event(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "venue_ack",
                                              {"venue_order_id": state.venue_order_id, "status": state.status}, state.venue_ts_ns))
        for f in state.fills:
            fill = Fill(f.fill_id, node.node_order_id, node.graph_id, node.venue, node.symbol, node.side, f.price, f.qty,
                        f.fee, f.fee_asset, f.liquidity, time.time_ns(), f.venue_ts_ns, inst.outcome)
            if self.journal.record_fill(fill, node, rt.graph, inst):
                rt.fills.append(fill)
                if rt.request.parent_id:
                    self._credit_parent(rt.graph, fill)
        before = node.status
        if node.filled_qty >= node.qty:
            node.status = "FILLED"
        elif state.status in ("CANCELLED", "REJECTED", "EXPIRED"):
            node.status = state.status
        elif node.status not in NODE_TERMINAL:
            node.status = "PARTIALLY_FILLED" if node.filled_qty > 0 else "NEW"
        if state.reason:
            node.reason = state.reason
        node.updated_ns = time.time_ns()
        if self.sandbox:
            self._hold(rt, node)
        if node.status in NODE_TERMINAL and before not in NODE_TERMINAL:
            kind = "reject" if node.status == "REJECTED" else "terminal"
            events.append(LifecycleEvent(node.updated_ns, node.graph_id, node.node_order_id, kind,
                                         {"status": node.status, "filled": str(node.filled_qty), "reason": node.reason}))
        self.journal.save(node, rt.graph, events=tuple(events))
        self._publish(node.graph_id)
        return node

    def _amended_at_venue(self, rt: GraphRuntime, node: NodeOrder, state: OrderState) -> None:
        """An unconfirmed native amend of *node*: take the price and size the venue reports (it
        applied the amend, or not), before its fills are counted against the size. Without this
        a crash mid-amend left the journal at the old price and size for good, and an amended
        0.001 -> 0.002 that filled read FILLED 0.002 of 0.001."""
        self.amending.discard(node.node_order_id)
        price = state.price if state.price is not None else node.limit_price
        qty = state.qty if state.qty is not None else node.qty
        if (price, qty) == (node.limit_price, node.qty):
            return
        if qty != node.qty:
            rt.graph.request = msgspec.structs.replace(rt.graph.request, qty=rt.graph.request.qty + qty - node.qty)
        node.limit_price, node.qty = price, qty
        self.journal.event(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "amend",
                                          {"from": node.node_order_id, "price": str(price) if price is not None else None,
                                           "qty": str(qty), "mode": "native_atomic", "as_reported_by_venue": True}))

    @staticmethod
    def _last_amend(events: list[LifecycleEvent], node_id: str | None = None) -> LifecycleEvent | None:
        """The last amend event among a graph's *events* (of *node_id*'s, if given): an
        ``amend_requested`` there is an amend the engine never saw confirmed."""
        return next((e for e in reversed(events) if e.kind in ("amend_requested", "amend")
                     and (node_id is None or e.node_order_id == node_id)), None)

    async def _resume_replace(self, rt: GraphRuntime, events: list[LifecycleEvent]) -> None:
        """After a restart: an amend's cancel-replace the engine stopped inside (its intent the
        last amend event of the graph) whose original is cancelled and whose replacement never
        rested (not journaled, or never sent: REJECTED by the reconciliation) is finished now.
        It was left cancelled: an order resting at the user's price, gone without a cancel."""
        last = self._last_amend(events)
        if last is None or last.kind != "amend_requested" or last.detail.get("mode") != "cancel_replace" or rt.open_nodes():
            return
        old = rt.nodes.get(last.node_order_id)
        if old is None or old.status != "CANCELLED":
            return                                  # it filled, or the cancel never landed: nothing to replace
        d = last.detail
        left = (Decimal(d["qty"]) if d.get("qty") else old.qty) - old.filled_qty
        if left <= 0:
            return
        rt.graph.request = msgspec.structs.replace(rt.graph.request, qty=Decimal(d.get("graph_qty") or rt.graph.request.qty))
        await self.fresh_balances(rt.instruments)
        new = await self.send(rt, rt.next_version(old, left, Decimal(d["price"]) if d.get("price") else None))
        self.journal.event(LifecycleEvent(time.time_ns(), rt.graph.graph_id, new.node_order_id, "amend", {
            "from": old.node_order_id, "price": d.get("price"), "qty": d.get("qty"), "mode": "cancel_replace",
            "resumed_after_restart": True}))

    def _unconfirmed_amends(self, rt: GraphRuntime, events: list[LifecycleEvent]) -> None:
        """After a restart: the open children whose last native amend has no ``amend`` after it."""
        for node in rt.open_nodes():
            last = self._last_amend(events, node.node_order_id)
            if last is not None and last.kind == "amend_requested" and last.detail.get("mode") == "native_atomic":
                self.amending.add(node.node_order_id)

    async def cancel_node(self, rt: GraphRuntime, node: NodeOrder) -> NodeOrder:
        # our own place first: the venue's answer to a cancel that overtook it would be
        # "unknown order", and the order would land after, resting where nobody tracks it
        await self.placed(node)
        if node.status in NODE_TERMINAL:
            return node           # filled, refused or ended before the cancel: nothing to cancel
        self.journal.event(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "cancel_requested", {}))
        # the poll loop leaves it alone meanwhile: a read racing the cancel can see the venue
        # half-way through it (a DEX swap displaced by its replacement, not yet mined)
        ours = node.node_order_id not in self.in_flight
        self.in_flight.add(node.node_order_id)
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                state = await self.session(node.venue).cancel(node, rt.instruments[node.venue])
        finally:
            if ours:
                self.in_flight.discard(node.node_order_id)
        return self.apply(rt, node.node_order_id, state, rt.instruments[node.venue])

    async def refresh_node(self, rt: GraphRuntime, node: NodeOrder) -> NodeOrder:
        states = await self.session(node.venue).poll([(node, rt.instruments[node.venue])])
        return self.apply(rt, node.node_order_id, states[0], rt.instruments[node.venue]) if states else node

    # -- background work -----------------------------------------------------------------------
    async def start(self) -> None:
        if self.sandbox:
            from .. import ledger
            from ..config import load_config

            from ..portfolio import asset_price

            pool = [i for v in self.venues.values() for i in v.instruments()]
            ledger.fund_paper_accounts(self.journal.db, self.venues, load_config(),
                                       lambda venue, asset: asset_price(self.source, pool, venue, asset))
            self.journal.positions.forget()
        from ..orders import graph_ids_after

        graph_ids_after(self.journal.latest_graph_id())
        self.journal.start_checkpointer()
        await self.recover()
        self._poller = asyncio.get_running_loop().create_task(self._poll_loop())
        if not self.sandbox:                 # paper perps have no funding (docs/decisions.md)
            self._funding = asyncio.get_running_loop().create_task(self._funding_loop())

    async def stop(self) -> None:
        for task in list(self.runners.values()) + [t for t in (self._poller, self._funding) if t]:
            task.cancel()
        for streams in self.streams.values():
            for stream in streams:
                await stream.stop()
        for session in self.sessions.values():
            await session.close()
        stop_feeds = getattr(self.source, "stop", None)     # the live source's websockets
        if stop_feeds:
            await stop_feeds()
        self.journal.close()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            try:
                await self.poll_once()
            except Exception:  # noqa: BLE001 - keep polling; the error is logged
                log.exception("poll failed")

    async def poll_once(self) -> None:
        due: dict[tuple, bool] = {}        # decided once per tick: every graph on a due book is read
        for graph_id, rt in list(self.runtimes.items()):
            resting = [n for n in rt.open_nodes() if n.status in ("NEW", "PARTIALLY_FILLED") and n.node_order_id not in self.in_flight]
            by_venue: dict[str, list[NodeOrder]] = {}
            for n in resting:
                by_venue.setdefault(n.venue, []).append(n)
            for venue, nodes in by_venue.items():
                key = self._poll_key(venue, rt.instruments[venue])
                if key not in due:
                    due[key] = self._poll_due(key)
                if not due[key]:
                    continue
                session = self.session(venue)
                states = await session.poll([(n, rt.instruments[venue]) for n in nodes])
                by_cid = {s.client_order_id: s for s in states}
                for n in nodes:
                    if n.client_order_id in by_cid:
                        self.apply(rt, n.node_order_id, by_cid[n.client_order_id], rt.instruments[venue])
                    elif n.venue_order_id is None and n.reason.startswith(UNCONFIRMED):
                        # a place nobody answered: the venue now answering "unknown" is the verdict
                        if await session.order_state(n.client_order_id, rt.instruments[venue]) is None:
                            self.apply(rt, n.node_order_id, OrderState(n.client_order_id, None, "REJECTED", Decimal(0),
                                       reason=f"{venue} never received the order"), rt.instruments[venue])
            if graph_id not in self.runners:
                self._finalize(rt)

    async def _funding_loop(self) -> None:
        while True:
            try:
                await self.poll_funding()
            except Exception:  # noqa: BLE001 - read again next time; the error is logged
                log.exception("reading funding payments failed")
            await asyncio.sleep(FUNDING_POLL_S)

    async def poll_funding(self) -> int:
        """Keep the funding the venues booked on the perps the ledger holds (or held within
        FUNDING_TAIL_S): each payment once, moving the perp's realized P&L and the cash it
        was paid in. How many were new."""
        from ..journal import position_key

        new = 0
        for venue, perps in self.journal.funding_due(time.time_ns() - FUNDING_TAIL_S * 10**9).items():
            since = self.journal.funding_since(venue, perps)
            if venue not in self.venues or since is None:
                continue
            try:
                payments = await asyncio.wait_for(self.session(venue).funding_payments(since), FUNDING_TIMEOUT_S)
            except (SequenceError, asyncio.TimeoutError) as exc:
                log.warning("%s funding payments: %s", venue, exc or "no answer in time")
                continue
            by_symbol = {i.venue_symbol: position_key(i) for i in self.venues[venue].instruments() if i.kind == "perp"}
            kept = self.journal.record_funding(venue, [(p, by_symbol[p.venue_symbol]) for p in payments or ()
                                                       if p.venue_symbol in by_symbol])
            if kept:
                log.info("%s: %d funding payment(s) recorded, %s in all", venue, len(kept), sum(p.amount for p in kept))
            new += len(kept)
        return new

    def _poll_key(self, venue: str, inst: Instrument) -> tuple:
        """A book's orders are polled by the streams that push them (Binance: spot and USD-M
        each have one): (venue, indexes of the venue's streams covering *inst*)."""
        return (venue, tuple(n for n, r in enumerate(self.streams.get(venue, ())) if r.stream.covers(inst)))

    def _poll_due(self, key: tuple) -> bool:
        """Every tick; only every STREAM_POLL_S while every stream covering the book is live."""
        streams, now = self.streams.get(key[0], []), time.monotonic()
        if key[1] and all(streams[n].live for n in key[1]) and now - self._polled.get(key, 0.0) < STREAM_POLL_S:
            return False
        self._polled[key] = now
        return True

    async def recover(self) -> None:
        """After a restart: reconcile every unfinished graph with the venues, then resume it."""
        for graph in self.journal.graphs(statuses=GRAPH_ACTIVE, limit=100_000):
            try:
                instruments = self.instruments_for(graph.request)
            except SequenceError as exc:
                graph.status, graph.reason = "FAILED", f"cannot resume after restart: {exc}"
                self.journal.save(graph)
                continue
            rt = GraphRuntime(self, graph, instruments, self.bundles.for_order(graph.graph_id))
            self.runtimes[graph.graph_id] = rt
            events = self.journal.events(graph.graph_id)     # read once: both amend checks scan them
            self._unconfirmed_amends(rt, events)
            for node in rt.open_nodes():
                inst = instruments.get(node.venue)
                state = await self.session(node.venue).order_state(node.client_order_id, inst) if inst else None
                if state is None:
                    reason = ("never reached the venue (the engine stopped before sending it)" if node.status == "PENDING_NEW"
                              else "the venue no longer knows this order")
                    state = OrderState(node.client_order_id, None, "REJECTED" if node.status == "PENDING_NEW" else "EXPIRED",
                                       Decimal(0), reason=reason)
                self.apply(rt, node.node_order_id, state, inst or next(iter(instruments.values())))
            self.journal.event(LifecycleEvent(time.time_ns(), graph.graph_id, None, "recovered", {"filled": str(graph.filled_qty)}))
            await self._resume_replace(rt, events)
            if graph.policy_done:
                self._finalize(rt)
            else:
                await self.fresh_balances(instruments)        # what admission read died with the engine
                self.runners[graph.graph_id] = asyncio.get_running_loop().create_task(self._run(rt))

    # -- order management ------------------------------------------------------------------------
    def _node_runtime(self, any_id: str) -> tuple[GraphRuntime | None, OrderGraph, NodeOrder | None]:
        graph_id, node_id = parse_order_id(any_id)
        graph = self.journal.graph(graph_id)
        if graph is None:
            raise OrderNotFound(f"unknown order '{any_id}'")
        node = None
        if node_id:
            node = self.journal.node(node_id)
            if node is None:
                raise OrderNotFound(f"unknown node order '{node_id}'")
        rt = self.runtimes.get(graph_id)
        if rt is not None and node is not None:
            node = rt.nodes.get(node.node_order_id, node)   # the working copy: changes must land on it
        return rt, graph, node

    def _successor(self, rt: GraphRuntime, node: NodeOrder) -> NodeOrder:
        """What an amend that ran first left working of *node*: its replacement (the same node,
        a later seq), else *node*."""
        later = [n for n in rt.nodes.values() if n.node == node.node and n.seq > node.seq and n.status not in NODE_TERMINAL]
        return max(later, key=lambda n: n.seq) if later else node

    async def _serialized(self, any_id: str, operation, *args):
        """Run a cancel or amend of *any_id* after those of its graph asked before it (one at a
        time, in the order asked): two at once cancelled one order twice, sent one replacement
        id twice, or left the replacement an amend sent working past a cancel."""
        rt, _, node = self._node_runtime(any_id)
        if rt is None:
            return await operation(any_id, False, *args)      # says why not
        # a named child still working now: one replaced meanwhile means its replacement
        follow = node is not None and node.status not in NODE_TERMINAL
        async with rt.ops:
            return await operation(any_id, follow, *args)

    async def cancel(self, any_id: str) -> dict:
        return await self._serialized(any_id, self._cancel)

    async def _cancel(self, any_id: str, follow: bool = False) -> dict:
        rt, graph, node = self._node_runtime(any_id)
        if rt is not None and node is not None and follow:
            node = self._successor(rt, node)
        if rt is None or graph.status not in GRAPH_ACTIVE:
            raise InvalidOrder(f"order {any_id} has finished ({graph.status}, {graph.filled_qty.normalize():f} of "
                               f"{graph.request.qty.normalize():f} filled); nothing to cancel")
        targets = [n for n in rt.open_nodes() if node is None or n.node_order_id == node.node_order_id]
        if node is not None and not targets:
            raise InvalidOrder(f"node order {node.node_order_id} is already {node.status}; nothing to cancel")
        if node is None:   # the whole graph: stop its policy first so it sends nothing new
            rt.stopping = True
            rt.graph.reason = USER_CANCEL     # if its policy ends meanwhile, it ends CANCELLED
            for n in list(rt.nodes.values()):
                # a place on its way is not interrupted (a live venue may have it already)
                await self.placed(n)
            task = self.runners.pop(graph.graph_id, None)
            if task:
                task.cancel()
            rt.graph.policy_done = True
            targets = rt.open_nodes()
        done = [await self.cancel_node(rt, n) for n in targets]
        pending = [n.node_order_id for n in done if n.status not in NODE_TERMINAL]
        if node is None:
            rt.graph.reason = USER_CANCEL
            rt.graph.updated_ns = time.time_ns()
            if pending:
                # the venue has not confirmed every cancel (a DEX replacement transaction still
                # pending, a cancel the venue queues): polling carries on, so a late fill is
                # still recorded, and _finalize ends the graph CANCELLED once they close
                self.journal.save(rt.graph, events=(LifecycleEvent(rt.graph.updated_ns, graph.graph_id, None, "cancel_pending",
                                                                  {"nodes": pending}),))
                self._publish(graph.graph_id)
            else:
                # CANCELLED, or FILLED when the venue filled the rest before the cancel landed
                self._finalize(rt)
            for child in self._children(graph.graph_id):   # a handed parent's working children go with it
                try:
                    await self.cancel(child.graph.graph_id)
                except SequenceError as exc:
                    log.warning("cancelling child %s of %s: %s", child.graph.graph_id, graph.graph_id, exc)
        return {"graph_id": graph.graph_id, "cancelled": [n.node_order_id for n in done if n.status == "CANCELLED"],
                "filled_before_cancel": [n.node_order_id for n in done if n.status == "FILLED"], "pending": pending}

    async def amend(self, any_id: str, price: Decimal | None, qty: Decimal | None, by: Decimal | None = None) -> dict:
        return await self._serialized(any_id, self._amend, price, qty, by)

    async def _amend(self, any_id: str, follow: bool, price: Decimal | None, qty: Decimal | None,
                     by: Decimal | None = None) -> dict:
        rt, graph, node = self._node_runtime(any_id)
        if rt is not None and node is not None and follow:
            node = self._successor(rt, node)
        if rt is None:
            raise InvalidOrder(f"order {any_id} is {graph.status}; only working orders can be amended")
        if node is None:
            open_nodes = rt.open_nodes()
            if not open_nodes:
                raise InvalidOrder(f"{graph.graph_id} has no working child order to amend right now (it is {rt.graph.status})")
            if len(open_nodes) != 1:
                raise UsageError(f"{graph.graph_id} has {len(open_nodes)} working child orders; name one: "
                                 + ", ".join(n.node_order_id for n in open_nodes))
            node = open_nodes[0]
        if node.status in NODE_TERMINAL:
            raise InvalidOrder(f"node order {node.node_order_id} is already {node.status}")
        inst = rt.instruments[node.venue]
        if by is not None:
            if node.remaining - by <= 0:
                raise InvalidOrder(f"decreasing {node.node_order_id} by {by} would leave {node.remaining - by} (must stay above 0)")
            qty = node.qty - by
        if price is not None and (price / inst.tick_size) % 1 != 0:
            raise InvalidOrder(f"price {price} is off {node.venue}'s tick size {inst.tick_size}")
        if qty is not None and (qty <= node.filled_qty or (qty / inst.lot_size) % 1 != 0):
            raise InvalidOrder(f"new quantity {qty:f} must exceed the filled {node.filled_qty:f} and be a multiple of {inst.lot_size:f}")
        left, at = (qty if qty is not None else node.qty) - node.filled_qty, price if price is not None else node.limit_price
        if under_minimum(left, inst, at):
            raise InvalidOrder(f"{node.venue} would refuse {left} at {at}: under its minimum order (quantity {inst.min_qty}, "
                               f"notional {inst.min_notional} {inst.quote}); {node.node_order_id} is unchanged")
        if not self.sandbox and self.session(node.venue).native_amend(node, price, qty):
            return await self._amend_native(rt, node, inst, price, qty)
        await self.fresh_balances([node.venue])
        if short := self._amend_unfunded(rt, node, price, qty):
            raise InvalidOrder(f"{short}; {node.node_order_id} is unchanged")
        delta = (qty - node.qty) if qty is not None else Decimal(0)
        # the intent first: an engine stopped between the cancel and the replacement resumes it
        # (recover, _resume_replace) instead of leaving the order cancelled
        self.journal.event(LifecycleEvent(time.time_ns(), graph.graph_id, node.node_order_id, "amend_requested", {
            "price": str(price) if price is not None else None, "qty": str(qty) if qty is not None else None,
            "mode": "cancel_replace", "graph_qty": str(rt.graph.request.qty + delta)}))
        await self.journal.durable()
        if delta:
            rt.graph.request = msgspec.structs.replace(rt.graph.request, qty=rt.graph.request.qty + delta)
        new = await rt.replace_now(node, price, qty)
        unsent = new.node_order_id == node.node_order_id      # no replacement was sent
        ended = unsent and new.status in NODE_TERMINAL        # filled, refused, expired before the cancel
        pending = unsent and not ended                        # the cancel is not confirmed yet
        if not unsent:
            self.journal.event(LifecycleEvent(time.time_ns(), graph.graph_id, new.node_order_id, "amend",
                                              {"from": node.node_order_id, "price": str(price) if price else None,
                                               "qty": str(qty) if qty else None, "mode": "cancel_replace"}))
        if (unsent or new.status == "REJECTED") and delta:
            # the order never grew: what was asked for is what was working
            rt.graph.request = msgspec.structs.replace(rt.graph.request, qty=rt.graph.request.qty - delta)
            self.journal.save(rt.graph)
        if ended:
            raise InvalidOrder(f"{node.node_order_id} is {new.status} ({new.reason or 'the venue answered first'}); "
                               "nothing to amend")
        if pending or new.status == "REJECTED":
            raise InvalidOrder(
                f"{node.venue} has not confirmed the cancel of {node.node_order_id} yet (it may still fill), so no "
                "replacement was sent: `sequence orders` shows when the cancel lands" if pending else
                f"{node.venue} refused the replacement {new.node_order_id} ({new.reason or 'no reason given'}); "
                f"cancel-replace had cancelled {node.node_order_id} first, so this order no longer rests")
        return {"mode": "cancel_replace", "from": node.node_order_id, "node": new}

    async def _amend_native(self, rt: GraphRuntime, node: NodeOrder, inst: Instrument,
                            price: Decimal | None, qty: Decimal | None) -> dict:
        """The venue changes the order in place (same node id); the intent is journaled first,
        so a crash between the two leaves an amend the next poll reconciles from the venue."""
        detail = {"price": str(price) if price else None, "qty": str(qty) if qty else None, "mode": "native_atomic"}
        self.journal.event(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "amend_requested", detail))
        await self.journal.durable()
        self.amending.add(node.node_order_id)          # until confirmed: the venue's next word decides
        result = await asyncio.wait_for(self.session(node.venue).amend(node, inst, price, qty), SEND_TIMEOUT_S)
        self.amending.discard(node.node_order_id)
        with self.journal.group():      # buffered rows: a commit the disk refuses keeps them and retries
            if qty is not None and qty != node.qty:
                rt.graph.request = msgspec.structs.replace(rt.graph.request, qty=rt.graph.request.qty + qty - node.qty)
            node.limit_price = result.state.price or (price if price is not None else node.limit_price)
            node.qty = result.state.qty or (qty if qty is not None else node.qty)
            self._apply(rt, node.node_order_id, result.state, inst)
            self.journal.event(LifecycleEvent(time.time_ns(), node.graph_id, node.node_order_id, "amend",
                                              {"from": node.node_order_id, **detail}))
        await self.journal.durable()
        return {"mode": result.mode, "from": node.node_order_id, "node": node}

    async def redeem(self, symbol: str, venue: str) -> dict:
        """Claim a resolved event contract: cash in, position marked redeemed."""
        self.client.trading_venues([venue])
        market = symbol.rpartition(":")[0] if symbol.upper().endswith((":YES", ":NO")) else symbol
        try:
            found = [i for i in resolve(market, self.venues[venue].instruments()) if i.kind == "event_contract"]
        except UsageError as exc:
            raise _listed_elsewhere(market, venue) or exc from None
        if not found:
            raise UsageError(f"'{symbol}' is not an event contract on {venue}; redeem is for prediction markets")
        settlement = await self.session(venue).settle(found)
        if settlement is None:
            raise InvalidOrder(f"{found[0].symbol} has not resolved yet on {venue}; nothing to redeem")
        try:
            paid, rows = self._record_redemption(venue, found, settlement)
        except (SequenceError, sqlite3.Error) as exc:
            # the venue side is done and idempotent (a second settle pays nothing more); the
            # ledger is not: say so, and how it catches up
            raise SequenceError(f"{venue} settled {found[0].symbol} ({settlement.winning_outcome} won), but the journal "
                                f"could not record the redemption ({exc}); run the same redeem again once it can: "
                                "the venue pays out once and the ledger catches up") from None
        self.journal.positions.forget()      # written with SQL of its own above
        await self.journal.durable()
        return {"venue": venue, "symbol": found[0].symbol, "winning_outcome": settlement.winning_outcome, "method": settlement.method,
                "reference": settlement.reference, "paid": str(paid), "positions": rows}

    def _record_redemption(self, venue: str, found: list[Instrument], settlement) -> tuple[Decimal, list[dict]]:
        """Mark the settled positions redeemed and credit their payout, committed at once."""
        from .. import ledger
        from ..journal import position_key

        paid, rows = Decimal(0), []
        with self.journal.tx() as db:      # (which writes the buffered positions first)
            held = {p.instrument: p for p in ledger.positions(db) if p.venue == venue}
            for inst in found:
                key = position_key(inst)
                p = held.get(key)
                if p is None or p.qty == 0 or p.status == "redeemed":
                    continue
                won = inst.outcome in (None, settlement.winning_outcome)
                payout = p.qty * settlement.payout_per_contract if won else Decimal(0)
                pnl = payout - p.cost
                db.execute("UPDATE positions SET qty='0', cost='0', realized=?, status='redeemed', updated_ns=? WHERE venue=? AND instrument=?",
                           (str(p.realized + pnl), time.time_ns(), venue, key))
                if payout:
                    cash = held.get(inst.quote)
                    base = cash.qty if cash else Decimal(0)
                    db.execute("""INSERT INTO positions (venue, instrument, kind, qty, cost, updated_ns) VALUES (?,?,?,?,?,?)
                                  ON CONFLICT (venue, instrument) DO UPDATE SET qty=excluded.qty, cost=excluded.cost, updated_ns=excluded.updated_ns""",
                               (venue, inst.quote, ledger.cash_kind(inst.quote) or "crypto", str(base + payout), str(base + payout), time.time_ns()))
                    held[inst.quote] = ledger.Position(venue, inst.quote, "fiat", base + payout, base + payout, Decimal(0), Decimal(0), "open")
                paid += payout
                rows.append({"instrument": key, "outcome": inst.outcome, "qty": str(p.qty), "payout": str(payout), "realized_pnl": str(pnl)})
        return paid, rows

    def _publish(self, graph_id: str, rt: GraphRuntime | None = None) -> None:
        """A graph changed: wake the event stream's long-polls, and tell the channel
        connections watching orders (deployed strategies' edges) with its runtime (*rt*
        when the caller has just retired it)."""
        for q in list(self.listeners):
            if not q.full():
                q.put_nowait(graph_id)
        if self.watchers:
            rt = rt or self.runtimes.get(graph_id)
            for watcher in list(self.watchers):
                watcher.changed(graph_id, rt)
