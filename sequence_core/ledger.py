"""Balances and positions per venue, in SQLite (WAL), exact decimals stored as text.

Live and sandbox never mix: the sandbox ledger lives in ``<home>/sandbox/journal.db``, the
live one in ``<home>/journal.db``. A paper account is funded on first use with the
documented default — 100,000 of the venue's funding asset, plus 1 BTC and 10 ETH where the
venue lists them, so every example of the spec runs as written — or what
``[sandbox.funding]`` in config.toml says::

    [sandbox.funding]
    default = "10000"                 # every venue, in its funding asset
    kalshi = "500"                    # one venue, in its funding asset
    binance = { USDT = "5000", BTC = "0.1" }   # explicit assets
"""

from __future__ import annotations

import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import msgspec

from .errors import ConfigError
from .home import ensure_home

DEFAULT_FUNDING = Decimal("100000")
DEFAULT_HOLDINGS = {"BTC": Decimal("1"), "ETH": Decimal("10")}
FIAT = ("USD", "EUR", "GBP")
STABLE = ("USDT", "USDC", "PUSD", "USDE", "DAI")

SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    venue      TEXT NOT NULL,
    instrument TEXT NOT NULL,          -- asset (cash, spot holdings) or contract symbol
    kind       TEXT NOT NULL,          -- fiat | crypto | perp | event_contract
    qty        TEXT NOT NULL,          -- signed decimal
    cost       TEXT NOT NULL,          -- cost basis of the open qty, in USD
    realized   TEXT NOT NULL DEFAULT '0',
    fees       TEXT NOT NULL DEFAULT '0',
    status     TEXT NOT NULL DEFAULT 'open',   -- open | resolved | closed | redeemed
    updated_ns INTEGER NOT NULL,
    PRIMARY KEY (venue, instrument)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Position(msgspec.Struct, frozen=True):
    venue: str
    instrument: str
    kind: str
    qty: Decimal
    cost: Decimal
    realized: Decimal
    fees: Decimal
    status: str

    @property
    def entry(self) -> Decimal:
        return self.cost / self.qty if self.qty else Decimal(0)


def cash_kind(asset: str) -> str | None:
    """fiat for fiat currencies, crypto for stablecoins, None for anything else."""
    if asset in FIAT:
        return "fiat"
    if asset in STABLE:
        return "crypto"
    return None


def ledger_path(sandbox: bool) -> Path:
    home = ensure_home()
    if sandbox:
        (home / "sandbox").mkdir(mode=0o700, exist_ok=True)
        return home / "sandbox" / "journal.db"
    return home / "journal.db"


def connect(sandbox: bool) -> sqlite3.Connection:
    path = ledger_path(sandbox)
    try:
        # the journal's multi-row INSERTs are one statement per table and row count (journal.py)
        db = sqlite3.connect(path, timeout=10, isolation_level=None, cached_statements=512)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"ledger {path} is unusable ({exc}); move it aside to start a fresh one") from None
    path.chmod(0o600)
    return db


def funding_for(venue: str, funding_asset: str, bases: set[str], config: dict) -> dict[str, Decimal]:
    """A paper account's starting balances: ``[sandbox.funding] <venue>``, else its ``default``
    (a bare amount is of *funding_asset*), else DEFAULT_FUNDING plus DEFAULT_HOLDINGS of *bases*.
    A bad entry is a ConfigError naming the entry it came from (config.funding_amounts)."""
    from .config import funding_amounts

    table = config.get("sandbox", {}).get("funding", {})
    name = venue if venue in table else "default"
    if name not in table:
        return {funding_asset: DEFAULT_FUNDING, **{a: q for a, q in DEFAULT_HOLDINGS.items() if a in bases}}
    return {asset or funding_asset: amount for asset, amount in funding_amounts(table[name], name).items()}


def fund_paper_accounts(db: sqlite3.Connection, venues: dict, config: dict, price_of=None) -> None:
    """Give each paper venue (name -> Venue) its starting balances, once.

    Holdings other than cash are booked at ``price_of(venue, asset)`` (the market when
    funded), so they start with zero unrealized P&L rather than a free gain.
    """
    now = time.time_ns()
    db.execute("BEGIN IMMEDIATE")
    try:
        funded = {r[0] for r in db.execute("SELECT key FROM meta WHERE key LIKE 'funded:%'")}
        for venue, v in sorted(venues.items()):
            if f"funded:{venue}" in funded:
                continue
            bases = {i.base for i in v.instruments() if i.kind == "crypto"}
            for cash, amount in funding_for(venue, v.funding_asset(), bases, config).items():
                kind = cash_kind(cash) or "crypto"
                price = Decimal(1) if cash_kind(cash) else (price_of(venue, cash) if price_of else None)
                cost = amount * price if price is not None else Decimal(0)
                db.execute("INSERT OR IGNORE INTO positions (venue, instrument, kind, qty, cost, updated_ns) VALUES (?,?,?,?,?,?)",
                           (venue, cash, kind, str(amount), str(cost), now))
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"funded:{venue}", str(now)))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def positions(db: sqlite3.Connection) -> list[Position]:
    rows = db.execute("SELECT venue, instrument, kind, qty, cost, realized, fees, status FROM positions ORDER BY venue, instrument")
    return [Position(v, i, k, Decimal(q), Decimal(c), Decimal(r), Decimal(f), s) for v, i, k, q, c, r, f, s in rows]
