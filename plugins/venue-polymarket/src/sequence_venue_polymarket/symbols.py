"""Polymarket: the instruments this plugin declares, markets resolved from slugs, the symbol map.

A market is a slug; each outcome is one CLOB token (its ``venue_symbol``; the token id also
resolves as an alias). ``slug:YES`` / ``slug:NO`` name the outcomes; for a binary market whose
outcomes are named otherwise (Up/Down, team names) the first outcome is YES and the second NO,
and the title says which is which. Gamma ``GET /markets?slug=`` (https://docs.polymarket.com/
api-reference/markets/get-markets) gives ``conditionId``, ``clobTokenIds`` and ``outcomes``
(both JSON text), ``orderPriceMinTickSize``, ``orderMinSize``, ``negRisk``, ``closed``,
``acceptingOrders``. Polymarket Protocol V2 (https://docs.polymarket.com/protocol-v2-migration,
/migrate/polymarket-v2/api-integrations) adds the market's ``version``: ``"v1"`` (CTF) trades the
``clobTokenIds``, ``"v2"`` the ``positionIds`` (a plain array of decimal strings), chosen by
``version`` "even when both fields are present" (many v1 markets carry ``positionIds`` that have
no book). A market without ``version`` (Gamma before Protocol V2) is read as v1; any other
version is not tradable here. Resolved markets are cached in ``$SEQUENCE_HOME/polymarket/markets.json``;
``[venues.polymarket] markets = ["slug", ...]`` lists the markets to resolve and trade.
The declared markets below serve the sandbox (the first YES token id is the one Polymarket's
API docs use in their examples); live trading reads ticks, neg-risk and fees from the CLOB.
Collateral is pUSD (1:1 USDC-backed); books are named in USDC, the USD family's member.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from sequence_core.market import SymbolMap, event, plain

V = "polymarket"
QUOTE = "USDC"
IDS = {"v1": "clobTokenIds", "v2": "positionIds"}      # Gamma ``version`` -> the outcome ids to trade


class Market(msgspec.Struct, frozen=True):
    slug: str
    condition_id: str
    title: str
    tokens: dict[str, str]              # YES / NO -> token id
    labels: dict[str, str] = {}         # YES / NO -> the venue's outcome name
    tick: str = "0.01"
    min_size: str = "5"
    neg_risk: bool = False
    closed: bool = False
    accepting_orders: bool = True
    version: str = "v1"                 # Gamma's protocol version: v1 CTF tokens, v2 positions


def market(venue, slug, title, yes_token, no_token, tick="0.01", min_size="5"):
    """A binary market: one CLOB token per outcome; the token id resolves too."""
    return (event(venue, slug, "YES", yes_token, QUOTE, tick, "0.01", title, (yes_token,), min_size),
            event(venue, slug, "NO", no_token, QUOTE, tick, "0.01", title, (no_token,), min_size))


INSTRUMENTS = (
    *market(V, "fed-decision-in-october", "Fed decision in October: rate cut?",
            "21742633143463906290569050155826241533067272736897614950488156847949938836455",
            "48331043336612883890938759509493159234755048973500640148014422747788308965732"),
    *market(V, "will-bitcoin-reach-150k-in-2026", "Will Bitcoin reach $150,000 in 2026?",
            "71321045679252212594626385532706912750332728571942532289631379312455583992563",
            "52114319501245915516055106046884209969926127482827954674443846427813813222426"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def _listed(value) -> list:
    """Gamma sends clobTokenIds/outcomes as JSON text (sometimes as a real list)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []


def from_gamma(m: dict) -> Market | None:
    """A Gamma market as a binary Market (None: not two CLOB outcomes, so not tradable here)."""
    version = str(m.get("version") or "v1").lower()
    if version not in IDS:
        return None                                     # a protocol this adapter does not know
    tokens, names = _listed(m.get(IDS[version])), _listed(m.get("outcomes"))
    if len(tokens) != 2 or not all(str(x).isdigit() for x in tokens) or len(names) != 2 or not m.get("slug") \
            or not m.get("conditionId"):
        return None
    tick = plain(str(m["orderPriceMinTickSize"])) if m.get("orderPriceMinTickSize") else "0.01"
    size = plain(str(m["orderMinSize"])) if m.get("orderMinSize") else "5"
    return Market(m["slug"], m["conditionId"], m.get("question") or m["slug"], {"YES": str(tokens[0]), "NO": str(tokens[1])},
                  {"YES": str(names[0]), "NO": str(names[1])}, tick, size, bool(m.get("negRisk")), bool(m.get("closed")),
                  m.get("acceptingOrders") is not False, version)


def instruments_of(mk: Market) -> tuple:
    title = mk.title
    if mk.labels and {v.upper() for v in mk.labels.values()} != {"YES", "NO"}:
        title += f" (YES = {mk.labels['YES']}, NO = {mk.labels['NO']})"
    return market(V, mk.slug, title, mk.tokens["YES"], mk.tokens["NO"], mk.tick, mk.min_size)


# -- the resolved-market cache ---------------------------------------------------------------------
def cache_path() -> Path:
    from sequence_core.home import home_path

    return home_path() / "polymarket" / "markets.json"


def load_cache(path: Path | None = None) -> dict[str, Market]:
    path = path or cache_path()
    try:
        raw = json.loads(path.read_text())
        return {slug: msgspec.convert(m, Market) for slug, m in raw.items()}
    except (OSError, ValueError, msgspec.ValidationError):
        return {}


def save_market(mk: Market, path: Path | None = None) -> None:
    """Add one market to the cache (rewritten whole: it is small; a torn write loses only the cache)."""
    path = path or cache_path()
    known = load_cache(path)
    known[mk.slug] = mk
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(known))
        tmp.replace(path)
    except OSError:
        pass


def declared_market(slug: str) -> Market | None:
    """A declared (sandbox) market as a Market, for the token ids it already knows."""
    found = {i.outcome: i for i in INSTRUMENTS if i.symbol == slug}
    if set(found) != {"YES", "NO"}:
        return None
    return Market(slug, "", found["YES"].title, {o: i.venue_symbol for o, i in found.items()})
