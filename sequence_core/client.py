"""The Python SDK: the connect, see, trade, backtest, tca, intel and plugins commands are
each one of these calls plus rendering (docs/user-guide.md, "SDK", lists them; engine,
deploy, status, logs, research, bundle, data and the rest have no method here).

    from sequence_core.client import Sequence
    seq = Sequence(sandbox=True)
    seq.venues()

Sandbox is on when asked for (``sandbox=True``, the CLI's ``--sandbox``) or when the
active key is a ``seq_test_`` key. ``order()`` and the other engine calls, and
``channel()``, start the engine as a detached process that outlives the script: stop it
with ``sequence engine stop`` or ``sequence_core.engine_client.stop_engine()``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal

import msgspec

from . import config as cfg
from .credentials import CredentialStore, PassphraseSource
from .errors import CredentialError
from .plugins import PluginFailure, PluginInfo, get_plugins, get_venue, venues
from .orders import Fill, LifecycleEvent, NodeOrder, OrderGraph
from .venues import Heartbeat, Venue

HEARTBEAT_TIMEOUT_S = 5.0
STALE_AFTER_S = 300


class LoginResult(msgspec.Struct, frozen=True):
    mode: str            # live | sandbox
    config_path: str


class ConnectResult(msgspec.Struct, frozen=True):
    venue: str
    fields: list[str]    # names only, never values
    replaced: bool
    credentials_path: str


class DisconnectResult(msgspec.Struct, frozen=True):
    venue: str
    removed: bool


class VenueStatus(msgspec.Struct, frozen=True):
    venue: str
    mode: str                        # live | paper
    source: str                      # file | env | sandbox
    state: str                       # ok | stale | down | unchecked
    last_ok_ns: int | None
    age_s: float | None              # seconds since the last successful check
    latency_ms: float | None
    detail: str


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


class OrderView(msgspec.Struct):
    graph: "OrderGraph"
    nodes: list["NodeOrder"]


class OrderDetail(msgspec.Struct):
    graph: "OrderGraph"
    nodes: list["NodeOrder"]
    fills: list["Fill"]
    routing: list[dict]
    events: list["LifecycleEvent"]


class Placed(msgspec.Struct):
    """An order placed over the engine channel: the graph, its node orders and fills as the
    engine held them when it answered (``order_detail`` adds routing and events)."""

    graph: "OrderGraph"
    nodes: list["NodeOrder"]
    fills: list["Fill"]


class CancelResult(msgspec.Struct):
    graph_id: str
    cancelled: list[str]
    filled_before_cancel: list[str]
    pending: list[str] = []         # cancel asked, not yet confirmed by the venue: still watched


class AmendView(msgspec.Struct):
    mode: str
    node: "NodeOrder"
    from_: str = msgspec.field(name="from")


class FeeRow(msgspec.Struct, frozen=True):
    venue: str
    book: str
    maker: Decimal | None        # fraction of notional; None = no fee data (do not route)
    taker: Decimal | None
    model: str | None
    source: str | None
    notes: str = ""
    curve: str = ""              # the fee formula for curve models (rates are then coefficients)


class PluginListing(msgspec.Struct, frozen=True):
    plugins: list[PluginInfo]
    failures: list[PluginFailure]


class Sequence:
    def __init__(self, sandbox: bool = False, passphrase: PassphraseSource | None = None):
        self._sandbox_flag = sandbox
        self._passphrase = passphrase

    # -- mode --------------------------------------------------------------------------
    @property
    def sandbox(self) -> bool:
        return self._sandbox_flag or cfg.is_sandbox_key(cfg.api_key())

    def credentials(self) -> CredentialStore:
        return CredentialStore(self._passphrase)

    # -- Level 0 -----------------------------------------------------------------------
    def login(self, key: str) -> LoginResult:
        key = cfg.validate_api_key(key)
        cfg.update_config(lambda c: c.setdefault("auth", {}).__setitem__("api_key", key))
        return LoginResult("sandbox" if cfg.is_sandbox_key(key) else "live", str(cfg.config_path()))

    def connect(self, venue: str, values: Mapping[str, str]) -> ConnectResult:
        v = get_venue(venue)
        if v.sandbox_only:
            raise CredentialError(f"{venue} is a sandbox venue and needs no credentials")
        clean = v.validate_credentials(values)
        store = self.credentials()
        replaced = store.get(venue) is not None
        store.put(venue, clean)
        return ConnectResult(venue, sorted(clean), replaced, str(store.path))

    def disconnect(self, venue: str) -> DisconnectResult:
        get_venue(venue)
        return DisconnectResult(venue, self.credentials().delete(venue))

    def venues(self) -> list[VenueStatus]:
        """Connected venues (and, in sandbox, the paper venues) with a fresh heartbeat."""
        registered = venues()
        store = self.credentials()
        targets = []   # (venue object, mode, source, credentials)
        for name, venue in sorted(registered.items()):
            if venue.sandbox_only:
                continue
            found = store.get(name, [f.name for f in venue.credential_fields])
            if found:
                targets.append((venue, "live", found[1], found[0]))
        if self.sandbox:
            for venue in (v for v in registered.values() if v.sandbox_only):
                targets.append((venue, "paper", "sandbox", {}))
        config = cfg.load_config()
        checks = [(v, creds, cfg.venue_settings(v.name, config)) for v, _, _, creds in targets]
        beats = _check_all(checks)
        return _record_heartbeats([(v.name, mode, source, beat) for (v, mode, source, _), beat in zip(targets, beats)])

    # -- market data ----------------------------------------------------------------------
    def source(self, name: str | None = None):
        """The active market-data source: ``name``, else config's ``[market_data] source``,
        else ``synthetic`` in sandbox and ``live`` otherwise."""
        from .errors import UsageError

        config = cfg.load_config()
        settings = config.get("market_data", {})
        chosen = name or settings.get("source") or ("synthetic" if self.sandbox else "live")
        registry = get_plugins().registry("register_market_data_sources")
        if chosen not in registry:
            available = ", ".join(sorted(registry)) or "none installed"
            if chosen == "live":
                raise UsageError(f"no live market-data source is installed yet (available: {available}); "
                                 "use --sandbox for the synthetic market, or set [market_data] source in config.toml")
            raise UsageError(f"unknown market-data source '{chosen}'; available: {available}")
        src = registry[chosen]
        configure = getattr(src, "configure", None)
        return configure(dict(settings.get(chosen, {}))) if configure else src

    def trading_venues(self, names: list[str] | str | None = None) -> dict:
        """Venues this mode can trade: every installed real venue in sandbox (paper accounts),
        the connected ones live. ``names`` filters (a str is one venue), refusing unknown or
        unconnected venues."""
        from .errors import UsageError

        names = _listed(names)
        registered = {n: v for n, v in venues().items() if not v.sandbox_only}
        if self.sandbox:
            usable = registered
        else:
            store = self.credentials()
            usable = {n: v for n, v in registered.items()
                      if store.get(n, [f.name for f in v.credential_fields])}
        if not names:
            return usable
        for name in names:
            if name not in registered:
                raise UsageError(f"unknown venue '{name}'; supported venues: {', '.join(sorted(registered))}")
            if name not in usable:
                raise UsageError(f"venue '{name}' is not connected; run `sequence connect {name}` or use --sandbox")
        return {n: usable[n] for n in names}

    def instruments(self, venue_names: list[str] | str | None = None) -> list:
        out = []
        for venue in self.trading_venues(venue_names).values():
            out.extend(venue.instruments())
        return sorted(out, key=lambda i: (i.symbol, i.venue, i.outcome or ""))

    def symbols(self, venue_names: list[str] | str | None = None) -> list:
        return self.instruments(venue_names)

    def quote(self, symbol: str, source: str | None = None):
        from .errors import UsageError
        from .quotes import quote

        chosen = self.trading_venues()
        if not any(v.instruments() for v in chosen.values()):
            if self.sandbox:
                raise UsageError("no installed venue plugin lists any instrument; install venue plugins (see `sequence plugins`)")
            raise UsageError("no venue to quote from: connect a venue (`sequence connect <venue>`) or use --sandbox")
        return quote(symbol, self._tradable(symbol, chosen), self.source(source))

    def _tradable(self, symbol: str, chosen: dict, pinned: str | None = None) -> list:
        """What *symbol* trades on the *chosen* venues (a bare ticker: YES, as when trading), or
        the UsageError saying why nothing: an unknown symbol (with suggestions), or one that
        only venues not chosen list (in the words the engine refuses such an order with)."""
        from .errors import UsageError
        from .market import resolve, traded_outcome

        tradable = [i for v in chosen.values() for i in v.instruments()]
        everything = [i for v in venues().values() if not v.sandbox_only for i in v.instruments()]
        listed = resolve(symbol, everything)   # unknown symbol -> suggestions
        if not any(i in tradable for i in listed):
            where = ", ".join(sorted({i.venue for i in listed}))
            if pinned:
                raise UsageError(f"{pinned} does not list '{symbol}'; it trades on {where}")
            raise UsageError(f"no connected venue lists '{symbol}' (listed on: {where}); connect one or use --sandbox")
        return traded_outcome([i for i in listed if i in tradable])

    def fees(self, symbol: str, venue_names: list[str] | str | None = None):
        from .market import outcome_symbol, resolve

        registered = {n: v for n, v in venues().items() if not v.sandbox_only}
        chosen = self.trading_venues(venue_names) if venue_names else registered
        found = resolve(symbol, [i for v in chosen.values() for i in v.instruments()])
        unread = self._read_market_fees(chosen, found)
        rows = []
        for inst in found:
            schedule = chosen[inst.venue].fee_schedule_for(inst)
            tier = schedule.tier0_for(inst.kind) if schedule else None
            notes = schedule.notes if schedule else ""
            if inst.venue in unread:
                notes = f"this market's own fee terms could not be read ({unread[inst.venue]}): the general schedule is shown. {notes}"
            rows.append(FeeRow(inst.venue, outcome_symbol(inst.symbol, inst.outcome),
                               tier.maker if tier else None, tier.taker if tier else None,
                               schedule.model if schedule else None, schedule.source if schedule else None,
                               notes, schedule.curve if schedule else ""))
        return rows

    def _read_market_fees(self, chosen: dict, instruments) -> dict[str, str]:
        """Live: the market fee terms of venues whose fees differ by market, read from the
        venue (sandbox never reads a venue: its paper venues charge the published schedule)."""
        if self.sandbox:
            return {}
        from .venues import read_market_fees

        return read_market_fees(chosen, instruments, self.credentials())

    def positions(self, venue_names: list[str] | str | None = None, kinds: set[str] | str | None = None,
                  include_closed: bool = False, source: str | None = None):
        """Holdings with NAV. ``venue_names`` and ``kinds`` filter; a str is one name (or
        comma-separated kinds); an unknown kind or venue is a UsageError."""
        from . import ledger
        from .market import parse_kinds
        from .portfolio import merge_reported, reported_positions, value

        kinds = parse_kinds(_listed(kinds) or [])
        chosen = self.trading_venues(venue_names)
        db = ledger.connect(self.sandbox)
        try:
            if self.sandbox:
                from .portfolio import asset_price

                src = self.source(source)
                pool = [i for v in self.trading_venues().values() for i in v.instruments()]
                ledger.fund_paper_accounts(db, self.trading_venues(), cfg.load_config(),
                                           lambda venue, asset: asset_price(src, pool, venue, asset))
            rows = [p for p in ledger.positions(db) if p.venue in chosen]
        finally:
            db.close()
        unknown_basis, notes = set(), []
        if not self.sandbox:          # live: each venue's own cash, spot, perps and event contracts
            rows, unknown_basis, notes = merge_reported(rows, reported_positions(chosen, self.credentials()))
        rows = [p for p in rows if not kinds or p.kind in kinds]
        instruments = [i for v in venues().values() if not v.sandbox_only for i in v.instruments()]
        # the summary counts closed rows too (hidden or not, their realized P&L and fees are the
        # account's: a redeemed win read "Realized P&L $0.00" without --include-closed)
        result = value(rows, instruments, self.source(source), "sandbox" if self.sandbox else "live", unknown_basis, notes)
        conf = cfg.load_config()
        labels = {name: v.label(cfg.venue_settings(name, conf)) for name, v in chosen.items()}
        return msgspec.structs.replace(result, rows=[msgspec.structs.replace(r, label=labels.get(r.venue, r.venue))
                                                     for r in result.rows if include_closed or r.status in ("open", "resolved")])

    def preview(self, symbol: str, side: str, qty, limit_price=None, venue: str | None = None, source: str | None = None):
        """Size-aware estimate per venue at an exact quantity (and optional limit price), both
        checked as ``order()`` checks them. Amounts come rounded to 12 decimal places."""
        from .orders import parse_decimal
        from .preview import preview_books

        qty = parse_decimal("quantity", qty)
        limit = parse_decimal("limit price", limit_price) if limit_price is not None else None
        chosen = self.trading_venues(venue or None)
        found = self._tradable(symbol, chosen, venue)
        src = self.source(source)
        books = src.books(found, src.now_ns(), depth=50)
        self._read_market_fees(chosen, found)      # where it fails, the general schedule estimates
        return preview_books(symbol, side, qty, limit, books, {(i.venue, i.symbol): i for i in found}, chosen, src.label())

    # -- Level 2: trading through the engine ------------------------------------------------
    def _engine(self):
        from .engine_client import EngineConnection

        if getattr(self, "_conn", None) is None:
            self._conn = EngineConnection("sandbox" if self.sandbox else "live")
        return self._conn

    def order(self, side: str, symbol: str, qty, venue: str | None = None, limit_price=None, urgency: str = "medium",
              max_slippage_bps=None, policy: str = "sor", horizon: str | float | None = None, wait_s: float = 5.0):
        """Submit a parent order; validated locally, then by the engine before it journals.
        ``horizon`` is a duration ("30s", "5m", "1h") or a number of seconds (> 0). Starts the
        engine (a detached process) if it is not running; it keeps running after the script
        exits: stop it with ``sequence engine stop`` (``sequence --sandbox engine stop``)."""
        request = order_request(side, symbol, qty, venue, limit_price, urgency, max_slippage_bps, policy, horizon)
        return msgspec.convert(self._engine().request("POST", "/orders", {"request": request, "wait_s": wait_s}), OrderDetail)

    def channel(self) -> "OrderChannel":
        """For programs that place many orders: one persistent connection to the engine
        (the engine channel: msgpack frames on a unix socket, requests pipelined), used as
        ``async with seq.channel() as ch: placed = await ch.order("buy", "BTC-USD", "0.01")``.
        Starts the engine if it is not running; it keeps running after the script exits
        (``sequence engine stop``)."""
        return OrderChannel("sandbox" if self.sandbox else "live")

    def orders(self, symbol: str | None = None):
        path = "/orders" + (f"?symbol={_q(symbol)}" if symbol else "")
        return msgspec.convert(self._engine().request("GET", path), list[OrderView])

    def order_detail(self, graph_id: str):
        return msgspec.convert(self._engine().request("GET", f"/orders/{_q(graph_id)}"), OrderDetail)

    def cancel(self, order_id: str):
        from .orders import parse_order_id

        parse_order_id(order_id)
        return msgspec.convert(self._engine().request("POST", "/cancel", {"id": order_id}), CancelResult)

    def amend(self, order_id: str, price=None, qty=None):
        from .errors import UsageError
        from .orders import parse_decimal, parse_order_id

        parse_order_id(order_id)
        if price is None and qty is None:
            raise UsageError("amend needs at least one of --price or --qty")
        body = {"id": order_id, "price": str(parse_decimal("price", price)) if price is not None else None,
                "qty": str(parse_decimal("quantity", qty)) if qty is not None else None}
        return msgspec.convert(self._engine().request("POST", "/amend", body), AmendView)

    def decrease(self, order_id: str, by):
        from .orders import parse_decimal, parse_order_id

        parse_order_id(order_id)
        body = {"id": order_id, "by": str(parse_decimal("--by", by))}
        return msgspec.convert(self._engine().request("POST", "/amend", body), AmendView)

    def redeem(self, symbol: str, venue: str) -> dict:
        """Claim winnings of a resolved prediction market (Kalshi settles automatically)."""
        return self._engine().request("POST", "/redeem", {"symbol": symbol, "venue": venue})

    def fills(self, symbol: str | None = None):
        from .orders import Fill

        path = "/fills" + (f"?symbol={_q(symbol)}" if symbol else "")
        return msgspec.convert(self._engine().request("GET", path), list[Fill])

    # -- Level 5: monitor ------------------------------------------------------------------------
    def tca(self, name: str | None = None, symbol: str | None = None, source: str | None = None):
        """Transaction cost analysis of the desk's fills (docs/tca.md), from the journal."""
        import numpy as np

        from .errors import UsageError
        from .journal import Journal
        from .market import in_books, outcome_symbol, symbol_books
        from .tca import TcaReport, analyse, fee_in_quote, routed_qty

        journal = Journal(self.sandbox)
        try:
            fills = journal.fills(limit=10_000_000)
            graphs = {g.graph_id: g for g in journal.graphs(limit=10_000_000)}
            routed = routed_qty(journal.nodes())
        finally:
            journal.close()
        if name is not None:
            # one strategy: the orders its edges placed (origin "deploy:<name>/<edge>"), deployed
            # now or since undeployed (the journal keeps them)
            graphs = {k: g for k, g in graphs.items() if g.request.origin.startswith(f"deploy:{name}/")}
            if not graphs and not self._deployed(name):
                raise UsageError(f"no {'sandbox' if self.sandbox else 'live'} deployment named '{name}' has orders in the "
                                 "journal; `sequence status` lists the deployments, `sequence tca` analyses the whole desk")
            fills = [f for f in fills if f.graph_id in graphs]
        pool = [i for v in venues().values() if not v.sandbox_only for i in v.instruments()]
        # the parent orders analysed: every admitted one (an order that never filled counts in
        # the fill rate), of the symbol's books when one is named: a parent trading them or
        # filled in them is in the report as a whole, with all its fills (in any book)
        parents = {k: g for k, g in graphs.items() if g.status != "REJECTED"}
        if symbol:
            books = symbol_books(symbol, pool)
            ours = [f for f in fills if in_books(books, f.venue, f.symbol, f.outcome)]
            # (a symbol no installed venue lists any more trades no books)
            traded = {s: symbol_books(s, pool, traded=True, strict=False) for s in {g.request.symbol for g in parents.values()}}
            parents = {k: g for k, g in parents.items() if traded[g.request.symbol] & books}
            parents.update((f.graph_id, graphs[f.graph_id]) for f in ours if f.graph_id in graphs)
            fills = [f for f in fills if f.graph_id in parents] + [f for f in ours if f.graph_id not in graphs]
        parents.update((f.graph_id, graphs[f.graph_id]) for f in fills if f.graph_id in graphs)
        src = self.source(source)
        by_book = {}                   # an event contract's YES and NO are two books of one symbol
        for i in pool:
            by_book.setdefault(f"{i.venue}|{outcome_symbol(i.symbol, i.outcome)}", i)
            by_book.setdefault(f"{i.venue}|{i.symbol}", i)          # fills journaled without their outcome

        def mid(book, times):
            inst = by_book[book]
            out = []
            for t in times:
                b = src.books([inst], int(t), 1)
                out.append(float((b[0].best_bid.price + b[0].best_ask.price) / 2) if b and b[0].best_bid and b[0].best_ask else np.nan)
            return np.array(out)

        arrays = {"ts_ns": [f.venue_ts_ns or f.ts_ns for f in fills], "price": [float(f.price) for f in fills],
                  "qty": [float(f.qty) for f in fills],
                  "fee": [fee_in_quote(f.fee, f.fee_asset, f.price, by_book.get(f"{f.venue}|{outcome_symbol(f.symbol, f.outcome)}"))
                          for f in fills],
                  "side": [1 if f.side == "buy" else -1 for f in fills], "venue": [f.venue for f in fills],
                  "book": [f"{f.venue}|{outcome_symbol(f.symbol, f.outcome)}" for f in fills],
                  "policy": [graphs[f.graph_id].request.policy if f.graph_id in graphs else "?" for f in fills],
                  "graph": [f.graph_id for f in fills]}
        info = {g.graph_id: (float(g.arrival_mid) if g.arrival_mid else None, float(g.request.qty), g.request.policy)
                for g in parents.values()}
        rows = analyse(arrays, info, mid, src.now_ns(), routed=routed)
        return TcaReport("sandbox" if self.sandbox else "live", src.label(), symbol, len(parents) if fills else 0, rows,
                         strategy=name)

    def _deployed(self, name: str) -> bool:
        from .deploy import registry
        from .home import ensure_home

        return any(d.name == name for d in registry.all_deployments(ensure_home(), "sandbox" if self.sandbox else "live"))

    def intel(self, symbol: str, window_s: int | None = None, source: str | None = None):
        """Market-structure snapshot of ``symbol`` from the store (docs/intel.md)."""
        from .errors import SequenceError
        from .intel import DEFAULT_WINDOW_S, snapshot
        from .store import Store

        pool = [i for v in venues().values() if not v.sandbox_only for i in v.instruments()]
        try:
            src = self.source(source)
        except SequenceError:
            if source:
                raise             # the source asked for by name must exist
            src = None            # no current source (live without adapters): the last recorded spread
        return snapshot(symbol, Store(), pool, src, window_s or DEFAULT_WINDOW_S)

    def backtest(self, strategy, symbols, start, end, **options):
        """Backtest on the sim-engine: *strategy* is a path to a .wasm module, a loaded
        :class:`~sequence_core.sim.host.StrategyModule`, or a Python
        :class:`~sequence_core.sim.pystrategy.Strategy` (research). *symbols* is a list, or a
        str naming one symbol; *start*/*end* are YYYY-MM-DD strings or ``datetime.date``.
        *options* are :class:`~sequence_core.sim.engine.BacktestConfig` fields (capital, venues
        (a list, or a str naming one venue), seed, queue_model, latency_model, fee_model,
        partial_fills, params, ...), checked as ``sequence backtest`` checks its flags: a bad
        value is a UsageError. Returns the :class:`~sequence_core.sim.engine.Outcome` (result,
        fills, orders, P&L series)."""
        from pathlib import Path

        from .home import ensure_home
        from .sim.engine import backtest_config, run_backtest
        from .sim.host import StrategyModule
        from .store import Store

        if "venues" in options:
            options["venues"] = _listed(options["venues"])
        config = backtest_config(symbols=_listed(symbols), start=start, end=end, **options)
        if isinstance(strategy, (str, Path)):
            strategy = StrategyModule(Path(strategy))
        return run_backtest(Store(), config, strategy, cache_root=ensure_home() / "cache" / "books")

    def plugins(self) -> PluginListing:
        plugins = get_plugins()
        plugins.fill_registries()  # call every registry hook: its failures and name clashes are reported too
        return PluginListing(plugins.infos(), list(plugins.failures))


def _listed(value):
    """A list of names from a list (or set, tuple) or a str naming one; None stays None."""
    return [value] if isinstance(value, str) else (None if value is None else list(value))


UNCHECKED = Heartbeat("unchecked", detail="the venue plugin has no heartbeat check yet")


def _has_heartbeat(venue) -> bool:
    return type(venue).heartbeat is not Venue.heartbeat


async def _check_one(venue, creds, settings) -> Heartbeat:
    import asyncio

    start = time.perf_counter()
    try:
        beat = await asyncio.wait_for(venue.heartbeat(creds, settings), HEARTBEAT_TIMEOUT_S)
    except TimeoutError:
        return Heartbeat("down", detail=f"no answer within {HEARTBEAT_TIMEOUT_S:.0f}s")
    except Exception as exc:  # noqa: BLE001 - a venue failure is a state, not a crash
        return Heartbeat("down", detail=str(exc) or type(exc).__name__)
    if beat is None:
        return UNCHECKED
    if beat.latency_ms is None:
        beat = msgspec.structs.replace(beat, latency_ms=round((time.perf_counter() - start) * 1000, 1))
    return beat


def _check_all(items) -> list[Heartbeat]:
    """Run every venue's heartbeat concurrently; asyncio is imported only if one has a check."""
    live = [i for i, (v, _, _) in enumerate(items) if _has_heartbeat(v)]
    beats = [UNCHECKED] * len(items)
    if live:
        import asyncio

        async def gather():
            return await asyncio.gather(*(_check_one(*items[i]) for i in live))

        for i, beat in zip(live, asyncio.run(gather())):
            beats[i] = beat
    return beats


def _record_heartbeats(rows) -> list[VenueStatus]:
    """Merge this check with the last successful one kept in <home>/heartbeats.json."""
    from .home import atomic_write, ensure_home, locked

    path = ensure_home() / "heartbeats.json"
    now = time.time_ns()
    out = []
    with locked(path):
        try:
            last_ok: dict[str, int] = msgspec.json.decode(path.read_bytes(), type=dict[str, int]) if path.exists() else {}
        except msgspec.DecodeError:
            last_ok = {}  # a damaged cache only loses history, never blocks the command
        before = dict(last_ok)
        for name, mode, source, beat in rows:
            key = f"{mode}:{name}"
            if beat.state == "ok":
                last_ok[key] = beat.checked_at_ns or now
            state = beat.state
            ok_ns = last_ok.get(key)
            age = (now - ok_ns) / 1e9 if ok_ns else None
            if state == "down" and age is not None and age < STALE_AFTER_S:
                state = "stale"   # failing now, but it answered recently
            out.append(VenueStatus(name, mode, source, state, ok_ns, age, beat.latency_ms, beat.detail))
        if last_ok != before:       # nothing answered: nothing to remember (and no fsync)
            atomic_write(path, msgspec.json.encode(last_ok))
    return out


def order_request(side: str, symbol: str, qty, venue: str | None = None, limit_price=None, urgency: str = "medium",
                  max_slippage_bps=None, policy: str = "sor", horizon: str | None = None):
    """The engine's OrderRequest from user-facing values (parsed and checked here first)."""
    from .orders import OrderRequest, parse_decimal, parse_horizon, parse_slippage

    return OrderRequest(
        symbol=symbol, side=side, qty=parse_decimal("quantity", qty),
        venue=venue, limit_price=parse_decimal("limit price", limit_price) if limit_price is not None else None,
        urgency=urgency, max_slippage_bps=parse_slippage(max_slippage_bps), policy=policy,
        horizon_s=parse_horizon(horizon))


class OrderChannel:
    """``Sequence.channel()``: orders over one persistent engine connection, concurrently
    (``asyncio.gather`` many ``order`` calls); each is answered like ``Sequence.order``."""

    def __init__(self, mode: str):
        from .engine.channel import ChannelClient

        self.client = ChannelClient(mode)

    async def __aenter__(self) -> "OrderChannel":
        import asyncio

        from .engine_client import start_engine

        info, _ = await asyncio.to_thread(start_engine)
        await self.client.connect(info)
        return self

    async def __aexit__(self, *exc) -> None:
        self.client.close()

    async def order(self, side: str, symbol: str, qty, venue: str | None = None, limit_price=None,
                    urgency: str = "medium", max_slippage_bps=None, policy: str = "sor", horizon: str | None = None,
                    wait_s: float = 5.0) -> Placed:
        request = order_request(side, symbol, qty, venue, limit_price, urgency, max_slippage_bps, policy, horizon)
        reply = await self.client.submit(request, wait_s)
        return Placed(reply.graph, reply.nodes, reply.fills)
