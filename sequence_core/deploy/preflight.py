"""`sequence preflight`: the readiness checklist of a project before it is deployed.

Each check passes or fails with its reason (docs/deployments.md):
- **module**: the project's wasm is built and loads under this host's ABI;
- **venues**: the venues it would trade are usable in this mode (sandbox: paper accounts on
  every installed venue; live: connected with credentials) and the market-data source has a
  two-sided book for every (symbol, venue) it would trade;
- **risk**: the ``[risk]`` section sets at least one of max_position, max_notional,
  max_order_rate, each above 0 (and capital, if set, not negative): a limit no order can
  meet fails with why; and the kill switch is off;
- **capital**: the quote cash on those venues covers ``[risk] capital`` (if declared);
- **conflicts**: no other running deployment of this mode trades an overlapping (symbol,
  venue); a deployment of the same name is reported with what deploy does to it (other
  content: replaced, vN+1; the same: unchanged).
"""

from __future__ import annotations

import json

from decimal import Decimal
from pathlib import Path

import msgspec

from ..errors import SequenceError, UsageError
from . import registry


class Check(msgspec.Struct):
    name: str
    ok: bool
    detail: str


class Plan(msgspec.Struct):
    """What a deployment of the project would run, edge by edge."""
    name: str
    mode: str
    symbols: list[str]
    venues: list[str]
    books: list[tuple[str, str]]          # (venue, symbol) pairs traded
    edges: list[registry.Edge]


def plan(project, mode: str) -> Plan:
    """The books a deployment trades: each symbol on each of the project's venues (all the
    mode's venues when it names none) that lists it; one edge, ``edge-1``, hosts them all."""
    from ..client import Sequence
    from ..market import resolve

    cfg = project.config.strategy
    client = Sequence(sandbox=mode == "sandbox")
    venues = client.trading_venues(list(cfg.venues) or None)
    books = []
    for sym in cfg.symbols:
        for vname in sorted(venues):
            listed = list(venues[vname].instruments())
            try:
                found = [i for i in resolve(sym, listed) if i.venue == vname]
            except SequenceError:
                found = []
            exact = [i for i in found if i.symbol == sym] or found[:1]
            books += [(vname, i.symbol) for i in exact]
    used = sorted({v for v, _ in books})
    from .mesh import transports

    if project.config.mesh.transport not in transports():
        raise UsageError(f"[mesh] transport '{project.config.mesh.transport}' is not installed; installed: "
                         f"{', '.join(sorted(transports()))}")
    return Plan(project.name, mode, list(cfg.symbols), used, books, _edges(project.config.edges, used))


def _edges(sections, used: list[str]) -> list[registry.Edge]:
    """The edges of ``[[edges]]`` (one ``edge-1`` with every venue when there is none): each
    venue that trades on exactly one edge, every edge trading something."""
    if not sections:
        return [registry.Edge("edge-1", used)]
    edges, seen = [], {}
    for e in sections:
        if not registry.NAME.match(e.label) or e.label in {x.label for x in edges}:
            raise UsageError(f"[[edges]] label '{e.label}' must be unique, start with a letter and use only "
                             "letters, digits, '-' or '_'")
        for v in e.venues:
            if v in seen:
                raise UsageError(f"[[edges]] venue {v} is on both '{seen[v]}' and '{e.label}'; a venue belongs to one edge")
            seen[v] = e.label
        mine = sorted(v for v in e.venues if v in used)
        if not mine:
            raise UsageError(f"[[edges]] '{e.label}' has no venue that trades the strategy's symbols "
                             f"({', '.join(e.venues) or 'none given'}; trading venues: {', '.join(used)})")
        edges.append(registry.Edge(e.label, mine))
    orphans = [v for v in used if v not in seen]
    if orphans:
        raise UsageError(f"[[edges]] no edge hosts {', '.join(orphans)}; add them to an edge or to no [strategy] venues")
    return edges


def run(home: Path, project, mode: str, wasm, params: dict | None = None,
        bundle: str | None = None) -> tuple[list[Check], Plan | None]:
    """*wasm*: the module's path, or a loaded StrategyModule (a bundle's payload, run with the
    bundle's *params*)."""
    from ..sim.host import ABI_VERSION, StrategyModule

    checks: list[Check] = []
    try:
        module = wasm if isinstance(wasm, StrategyModule) else StrategyModule(wasm, project.name)
        checks.append(Check("module", True, f"{module.path.name}: {len(module.bytes):,} bytes, ABI v{ABI_VERSION}, "
                                            f"sha256 {module.sha256()[:12]}"))
    except SequenceError as exc:
        checks.append(Check("module", False, str(exc)))
        module = None
    p = None
    try:
        p = plan(project, mode)
        missing = [s for s in p.symbols if not any(b[1] == s or b[1].startswith(s) for b in p.books)]
        if not p.books:
            checks.append(Check("venues", False, f"no venue here lists {', '.join(p.symbols)}"))
        else:
            from ..client import Sequence

            client = Sequence(sandbox=mode == "sandbox")
            src = client.source()
            insts = [i for v in client.trading_venues(p.venues).values() for i in v.instruments()
                     if (i.venue, i.symbol) in set(p.books)]
            books = {(b.venue, b.symbol): b for b in src.books(insts, src.now_ns(), 1)}
            dead = [f"{v}:{s}" for v, s in p.books if not (books.get((v, s)) and books[(v, s)].best_bid
                                                           and books[(v, s)].best_ask)]
            if dead or missing:
                alive = sorted({v for v, s in p.books if f"{v}:{s}" not in dead})
                hint = [f"to trade where there is one, set venues = {json.dumps(alive)} under [strategy] in Sequence.toml"] \
                    if dead and alive else []
                checks.append(Check("venues", False, "; ".join(
                    ([f"no two-sided book from {src.label()} for {', '.join(dead)}"] if dead else [])
                    + ([f"not listed on any venue: {', '.join(missing)}"] if missing else []) + hint)))
            else:
                checks.append(Check("venues", True, f"{len(p.books)} book(s) live on {', '.join(p.venues)} "
                                                    f"({mode}, market data: {src.label()})"))
    except SequenceError as exc:
        checks.append(Check("venues", False, str(exc)))
    risk = project.config.risk
    limits = {k: getattr(risk, k) for k in ("max_position", "max_notional", "max_order_rate")
              if getattr(risk, k) is not None}
    never = _unmeetable(risk)
    if risk.kill_switch:
        checks.append(Check("risk", False, "[risk] kill_switch = true: the strategy could place no order"))
    elif never:
        checks.append(Check("risk", False, "; ".join(never) + " in [risk] of Sequence.toml"))
    elif not limits:
        checks.append(Check("risk", False, "no risk limits: set max_position, max_notional and max_order_rate "
                                           "in [risk] of Sequence.toml"))
    else:
        checks.append(Check("risk", True, ", ".join(f"{k} {v:g}" for k, v in limits.items())))
    checks.append(_capital(project, mode, p))
    wanted = content(project, module, p, params, bundle) if module is not None and p is not None else None
    checks.append(_conflicts(home, mode, project.name, wanted, p))
    return checks, p


def _unmeetable(risk) -> list[str]:
    """Why [risk] limits can never be met (each order would be refused by them, or the limit
    means nothing), else []: every limit must be a number above 0, capital 0 or more."""
    import math

    why = []
    for key, unit in (("max_position", "the strategy could hold nothing"),
                      ("max_notional", "every order would be over it"),
                      ("max_order_rate", "no order could be sent")):
        value = getattr(risk, key)
        if value is not None and (math.isnan(value) or value <= 0):
            why.append(f"{key} = {value:g} must be above 0 ({unit})")
    if risk.capital is not None and (math.isnan(risk.capital) or risk.capital < 0):
        why.append(f"capital = {risk.capital:g} must be 0 or more")
    return why


def _capital(project, mode: str, p: Plan | None) -> Check:
    need = project.config.risk.capital
    if need is None:
        return Check("capital", True, "no capital declared ([risk] capital); nothing to compare")
    if p is None or not p.books:
        return Check("capital", False, "no venue to hold it")
    from ..client import Sequence

    quotes = {s.split("-")[1] for s in p.symbols if s.count("-") >= 1}
    try:
        rows = Sequence(sandbox=mode == "sandbox").positions(p.venues).rows
    except SequenceError as exc:
        return Check("capital", False, f"balances unavailable: {exc}")
    each = {v: Decimal(0) for v in p.venues}
    for r in rows:
        if r.instrument in quotes and r.venue in each:
            each[r.venue] += r.value_usd
    have = sum(each.values(), Decimal(0))
    ok = have >= Decimal(str(need))
    # per venue too: a strategy that trades one of them can only spend what that one holds
    return Check("capital", ok, f"{'' if ok else 'only '}{have:,.2f} in {', '.join(sorted(quotes))} "
                                f"({', '.join(f'{v} {q:,.2f}' for v, q in each.items())}); [risk] capital needs {need:,.2f}")


def content(project, module, p: Plan, params: dict | None = None, bundle: str | None = None) -> dict:
    """What a deployment of *project* runs (what `deploy` compares to tell ``unchanged`` from
    ``replaced``, and preflight's conflicts check reports): module, symbols, venues, params,
    risk, edges, books, bundle, whether it takes parents, mesh transport."""
    return dict(module_sha256=module.sha256(), symbols=list(project.config.strategy.symbols), venues=p.venues,
                params=project.fixed_params() if params is None else params,
                risk=registry.Risk(**msgspec.structs.asdict(project.config.risk)), edges=p.edges,
                books=[tuple(b) for b in p.books], bundle=bundle, takes_parents="on_parent" in module.exports,
                mesh_transport=project.config.mesh.transport)


def same_content(dep: registry.Deployment, wanted: dict) -> bool:
    return all(getattr(dep, k) == v for k, v in wanted.items())


def overlaps(home: Path, mode: str, name: str, books) -> list[str]:
    """The other running deployments of *mode* that trade one of *books*, with those books."""
    mine = set(map(tuple, books))
    out = []
    for dep in registry.all_deployments(home, mode):
        overlap = sorted(mine & set(map(tuple, dep.books)))
        if dep.name != name and overlap and dep.state == "running":
            out.append(f"'{dep.name}' trades {', '.join(f'{s}@{v}' for v, s in overlap)}")
    return out


def _conflicts(home: Path, mode: str, name: str, wanted: dict | None, p: Plan | None) -> Check:
    blocking = overlaps(home, mode, name, p.books if p else [])
    if blocking:
        return Check("conflicts", False, "; ".join(blocking))
    try:
        old = registry.load(home, mode, name)
    except UsageError:
        old = None
    if old is not None and wanted is not None:
        state = "" if old.state == "running" else f", {old.state}"
        if not same_content(old, wanted):
            changed = ", ".join(k.replace("module_sha256", "module") for k, v in wanted.items() if getattr(old, k) != v)
            return Check("conflicts", True, f"'{name}' v{old.version}{state} has other content ({changed}); "
                                            f"deploy replaces it with v{old.version + 1}")
        return Check("conflicts", True, f"'{name}' v{old.version}{state} has this content; deploy keeps it (unchanged)")
    return Check("conflicts", True, "no other deployment trades these books")
