"""Level 2 — Trade: buy, sell, orders, cancel, amend, decrease, fills; and the engine group."""

from __future__ import annotations

import click

from sequence_core.market import outcome_symbol

from .output import emit, line, table
from .see import _client, qty


def _fmt(value) -> str | None:
    return None if value is None else (f"{value:,.8f}".rstrip("0").rstrip(".") if value < 1000 else f"{value:,.2f}")


def _fees(fills) -> str:
    """Fees by the asset they were charged in ("0.91 USDT, 0.00001 BTC"): a graph's total adds
    them up whatever the asset."""
    by: dict[str, object] = {}
    for f in fills:
        by[f.fee_asset] = by.get(f.fee_asset, 0) + f.fee
    return ", ".join(f"{_fmt(v)} {a}".rstrip() for a, v in by.items() if v)


MAX_ROUNDS_SHOWN = 5        # a working policy's decisions (a TWAP's slices) are trace's to list


def _render_order(d) -> None:
    g = d.graph
    r = g.request
    where = f"venue {r.venue}" if r.venue else "SOR"
    line(f"{g.graph_id}  {g.status}  {r.side.upper()} {r.qty} {r.symbol}  ({g.mode}, policy {r.policy}, {where})")
    if g.filled_qty:
        line(f"filled {qty(g.filled_qty)} of {qty(r.qty)} at avg {_fmt(g.avg_price)}; fees {_fees(d.fills) or _fmt(g.fees)}")
    if g.handler:
        line(f"handed to {g.handler}: at or above the assignment bundle's edge threshold, a deployed strategy works it")
    if g.status in ("ADMITTED", "WORKING"):
        line("working; follow it with `sequence orders` and `sequence fills`")
    if g.reason and g.status != "FILLED":
        line(f"reason: {g.reason}")
    if d.fills:
        table(["VENUE", "BOOK", "NODE ORDER", "SIDE", "QTY", "PRICE", "FEE", "LIQUIDITY"],
              [(f.venue, outcome_symbol(f.symbol, f.outcome), f.node_order_id, f.side.upper(), qty(f.qty), _fmt(f.price), _fmt(f.fee), f.liquidity)
               for f in sorted(d.fills, key=lambda f: (f.ts_ns, f.fill_id))],
              right=["QTY", "PRICE", "FEE"])
    # every routing round (a re-route after a miss or a rejected venue is one more): the first
    # alone showed a round-1 venue while the fill came from round 2
    for n, decision in enumerate(d.routing[:MAX_ROUNDS_SHOWN]):
        line("routing:" if len(d.routing) == 1 else f"routing, round {n + 1} of {len(d.routing)}:")
        for leg in decision["legs"]:
            if leg["qty"] != "0" or n == 0:
                line(f"  {leg['venue']:<12} {leg['qty']:>12}  {leg['reason']}")
    if len(d.routing) > MAX_ROUNDS_SHOWN:
        line(f"(and {len(d.routing) - MAX_ROUNDS_SHOWN} more routing decisions: `sequence trace {g.graph_id}` shows them)")


def _order_command(side: str):
    # Negative numbers must reach the quantity validation ("must be greater than zero")
    # instead of being taken for unknown options.
    @click.command(name=side, context_settings={"ignore_unknown_options": True})
    @click.argument("symbol")
    @click.argument("quantity", metavar="QTY")
    @click.option("--venue", help="Pin to a single venue; omit for SOR.")
    @click.option("--limit-price", help="Price for a limit order; omit for market.")
    @click.option("--urgency", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True,
                  help="SOR aggression (default slippage caps 10 / 50 / 200 bps).")
    @click.option("--max-slippage", metavar="BPS", help="Hard cap on slippage in bps vs the NBBO touch (0-65535).")
    @click.option("--policy", default="sor", show_default=True, help="sor, twap, vwap, iceberg, passive, aggressive or a plugin's.")
    @click.option("--horizon", metavar="DURATION", help="Execution horizon for working policies (30s, 5m, 1h).")
    def command(symbol, quantity, venue, limit_price, urgency, max_slippage, policy, horizon):
        try:
            detail = _client().order(side, symbol, quantity, venue, limit_price, urgency, max_slippage, policy, horizon)
        except KeyboardInterrupt:
            # the engine may have admitted it already: the order is not withdrawn by Ctrl-C
            from sequence_core.errors import SequenceError

            raise SequenceError("interrupted while the engine worked on the order; if it was admitted it keeps "
                                "working: `sequence orders` shows it, `sequence cancel <id>` stops it") from None
        emit(detail, _render_order)
        g = detail.graph
        if g.status in ("REJECTED", "FAILED"):
            # a refused order is an error (exit 1, spec: "auth, validation, network, API"); the
            # result above still says what was journaled
            from sequence_core.errors import InvalidOrder

            raise InvalidOrder(f"order {g.graph_id} {g.status}: {g.reason or 'no reason given'}")

    # set on the click command: a docstring assigned after the decorators never reached --help
    command.help = (f"{side.capitalize()} QTY of SYMBOL: SOR across venues by default, or --venue, --policy.\n\n"
                       "Validated (tick, lot, min notional, balance, slippage cap) before anything is journaled. "
                       "Prints the graph id and, for orders that complete within a few seconds, the fills; "
                       "working policies (twap, vwap, iceberg, passive) return after admission.")
    return command


buy = _order_command("buy")
sell = _order_command("sell")


def _render_orders(views) -> None:
    if not views:
        line("No orders.")
        return
    rows = []
    for v in views:
        g = v.graph
        rows.append((g.graph_id, g.request.symbol, g.request.side.upper(), g.status.upper(), qty(g.request.qty), qty(g.filled_qty),
                     _fmt(g.avg_price), g.request.policy, g.request.venue or "SOR"))
        for n in v.nodes:
            rows.append(("  " + n.node_order_id, outcome_symbol(n.symbol, n.outcome), n.side.upper(), n.status.upper(), qty(n.qty), qty(n.filled_qty),
                         _fmt(n.notional / n.filled_qty) if n.filled_qty else None, n.order_type, n.venue))
    table(["ID", "SYMBOL", "SIDE", "STATUS", "QTY", "FILLED", "AVG", "POLICY/TYPE", "VENUE"], rows,
          right=["QTY", "FILLED", "AVG"])


@click.command()
@click.option("--symbol", help="Only orders in this symbol (USD matches the USD family).")
def orders(symbol):
    """List orders (graphs and their node orders). Status and side are UPPERCASE."""
    emit(_client().orders(symbol), _render_orders)


@click.command()
@click.argument("order_id", metavar="ID")
def cancel(order_id):
    """Cancel a graph_... (every active node) or one graph_...:node_N:SEQ node order."""
    result = _client().cancel(order_id)
    emit(result, lambda r: line(f"{r.graph_id}: cancelled {len(r.cancelled)} node order(s)"
                                + (f"; already filled before the cancel: {', '.join(r.filled_before_cancel)}" if r.filled_before_cancel else "")
                                + (f"; waiting for the venue to confirm: {', '.join(r.pending)} (a fill meanwhile is still "
                                   "recorded; `sequence orders` shows the outcome)" if r.pending else "")))


@click.command()
@click.argument("order_id", metavar="ID")
@click.option("--price", help="New limit price.")
@click.option("--qty", "new_qty", help="New total quantity of the node order.")
def amend(order_id, price, new_qty):
    """Venue-agnostic amend of a resting order. At least one of --price / --qty.

    Mode reporting: cancel_replace (queue position lost) or native_atomic (queue kept).
    """
    result = _client().amend(order_id, price, new_qty)
    emit(result, lambda r: line(f"amended {r.from_} -> {r.node.node_order_id}  mode: {r.mode}  "
                                f"qty {r.node.qty} @ {r.node.limit_price}  status {r.node.status}"))


@click.command()
@click.argument("order_id", metavar="ID")
@click.option("--by", "by", required=True, help="Quantity to remove from the resting order.")
def decrease(order_id, by):
    """Shrink a resting order without touching its price. Errors if nothing would remain."""
    result = _client().decrease(order_id, by)
    emit(result, lambda r: line(f"decreased {r.from_} -> {r.node.node_order_id}  mode: {r.mode}  now {r.node.qty} @ {r.node.limit_price}"))


def _render_redeem(r) -> None:
    how = {"auto_settlement": "settled automatically by the venue", "relayer_redeem": "redeemed through the relayer",
           "paper_resolution": "resolved by the sandbox"}.get(r["method"], r["method"])
    line(f"{r['symbol']} on {r['venue']}: {r['winning_outcome']} won ({how}); paid {r['paid']}")
    if not r["positions"]:
        line("No open position in this market: nothing to redeem.")
    for p in r["positions"]:
        line(f"  {p['instrument']}: {p['qty']} contracts -> {p['payout']} (realized P&L {p['realized_pnl']})")


@click.command()
@click.argument("slug")
@click.option("--venue", required=True, help="The prediction-market venue (kalshi, polymarket, ...).")
def redeem(slug, venue):
    """Claim winnings from a resolved prediction market. Kalshi auto-settles; Polymarket redeems via its relayer."""
    emit(_client().redeem(slug, venue), _render_redeem)


def _render_fills(rows) -> None:
    if not rows:
        line("No fills.")
        return
    from datetime import datetime, timezone

    table(["TIME", "VENUE", "SYMBOL", "SIDE", "QTY", "PRICE", "FEE", "LIQUIDITY", "NODE ORDER"],
          [(datetime.fromtimestamp(f.ts_ns / 1e9, timezone.utc).strftime("%H:%M:%S.%f")[:-3], f.venue, outcome_symbol(f.symbol, f.outcome), f.side.upper(),
            qty(f.qty), _fmt(f.price), _fmt(f.fee), f.liquidity, f.node_order_id) for f in rows],
          right=["QTY", "PRICE", "FEE"])


@click.command()
@click.option("--symbol", help="Only fills in this symbol.")
def fills(symbol):
    """Fill history with venue, price, quantity, fee."""
    emit(_client().fills(symbol), _render_fills)


@click.group()
def engine():
    """Start, stop or inspect the local engine (the CLI also starts it on demand)."""


@engine.command()
def start():
    """Start the engine in the background (no-op if it runs)."""
    from sequence_core.engine_client import start_engine

    info, started = start_engine()
    emit({"pid": info.pid, "port": info.port, "started": started},
         lambda d: line(f"engine {'started' if d['started'] else 'already running'}: pid {d['pid']}, 127.0.0.1:{d['port']}"))


@engine.command()
def stop():
    """Stop the engine; working orders resume when it starts again."""
    from sequence_core.engine_client import stop_engine

    info = stop_engine()
    emit({"stopped": info is not None}, lambda d: line("engine stopped" if d["stopped"] else "engine was not running"))


@engine.command()
def status():
    """Engine state: pid, port, uptime, working graphs per mode."""
    from sequence_core.engine_client import call, engine_info

    info = engine_info()
    if info is None:
        emit({"running": False}, lambda d: line("engine not running (it starts on demand)"))
        return
    data = {"running": True, "port": info.port, **call(info, "GET", "/v1/status")}

    def text(d):
        line(f"engine {d['version']} running: pid {d['pid']}, 127.0.0.1:{d['port']}, up {d['uptime_s']}s")
        for mode, desk in d["desks"].items():
            line(f"  {mode}: {desk['working_graphs']} working graph(s), source {desk['source']}, venues {', '.join(desk['venues']) or '—'}")
            for sock in desk.get("sockets", []):
                note = f" ({sock['error']})" if sock["error"] and sock["state"] != "live" else ""
                books = f", {sock['books'][0]}/{sock['books'][1]} book(s) in sync" if sock.get("books") else ""
                line(f"    {sock['name']}: {sock['state']}, {sock['reconnects']} reconnect(s){books}{note}")
            journal = desk.get("journal") or {}
            if not journal.get("committing", True):
                line(f"  {mode}: the journal cannot commit ({journal['error']}; {journal['failed_commits']} attempt(s) in a row): "
                     "its orders wait until it can")
        for mode, why in (d.get("unavailable") or {}).items():
            line(f"  {mode}: cannot start: {why}")
    emit(data, text)
