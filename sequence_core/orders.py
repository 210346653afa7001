"""Order domain: requests, graphs, node orders, fills, lifecycle events.

A parent order is an :class:`OrderGraph` (``graph_<id>``); each child sent to a venue is a
:class:`NodeOrder` with id ``<graph_id>:node_<n>:<seq>`` (seq increments on every
replace). Client order ids sent to venues derive from the node order id, so a retry or a
restart is recognised by the venue and never double-sends.
"""

from __future__ import annotations

import math
import re
import time
from decimal import Decimal, InvalidOperation

import msgspec

from .errors import UsageError

URGENCIES = ("low", "medium", "high")
GRAPH_ACTIVE = ("ADMITTED", "WORKING")
GRAPH_TERMINAL = ("FILLED", "PARTIALLY_FILLED", "CANCELLED", "REJECTED", "FAILED", "EXPIRED")
NODE_TERMINAL = ("FILLED", "CANCELLED", "REJECTED", "EXPIRED")
NODE_ID = re.compile(r"^(graph_[0-9a-z]+):node_(\d+):(\d+)$")
GRAPH_ID = re.compile(r"^graph_[0-9a-z]+$")
_HORIZON = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class OrderRequest(msgspec.Struct, frozen=True):
    symbol: str
    side: str                           # buy | sell
    qty: Decimal
    venue: str | None = None            # pinned venue; None = SOR
    limit_price: Decimal | None = None  # None = market
    urgency: str = "medium"
    max_slippage_bps: int | None = None
    policy: str = "sor"
    horizon_s: float | None = None
    order_type: str | None = None       # edge orders: limit | post_only | ioc | market
    origin: str = ""                    # "deploy:<name>/<edge>" for orders of a deployed strategy
    parent_id: str = ""                 # edge orders working a parent handed to the strategy: its graph id


class RouteLeg(msgspec.Struct, frozen=True):
    """One venue's share of a routing decision, with the reason it got it."""

    venue: str
    book: str
    qty: Decimal
    limit_price: Decimal | None
    expected_avg: Decimal | None
    fee_rate: Decimal | None
    reason: str


class OrderGraph(msgspec.Struct):
    graph_id: str
    mode: str                           # live | sandbox
    request: OrderRequest
    status: str                         # ADMITTED | WORKING, then FILLED | PARTIALLY_FILLED | CANCELLED | REJECTED | EXPIRED | FAILED
    created_ns: int
    updated_ns: int
    filled_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    arrival_mid: Decimal | None = None
    reason: str = ""
    policy_done: bool = False           # the policy coroutine finished (not resumed on restart)
    handler: str = ""                   # "deploy:<name>/<edge>": a parent order handed to a deployed strategy

    @property
    def avg_price(self) -> Decimal | None:
        return self.notional / self.filled_qty if self.filled_qty else None

    @property
    def remaining(self) -> Decimal:
        return self.request.qty - self.filled_qty


class NodeOrder(msgspec.Struct):
    node_order_id: str
    graph_id: str
    node: int
    seq: int
    venue: str
    symbol: str                         # the venue's real book (canonical)
    side: str
    qty: Decimal
    limit_price: Decimal | None
    order_type: str                     # market | limit | ioc | post_only
    status: str                         # PENDING_NEW | NEW | PARTIALLY_FILLED | FILLED | CANCELLED | REJECTED | EXPIRED
    created_ns: int
    updated_ns: int
    filled_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    venue_order_id: str | None = None
    reason: str = ""
    outcome: str | None = None          # YES | NO for an event contract (one book carries both)

    @property
    def client_order_id(self) -> str:
        # from the fields, not by parsing node_order_id: read several times per order on
        # the engine's hot path
        return _client_id(self.graph_id, self.node, self.seq)

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty


class Fill(msgspec.Struct, frozen=True):
    fill_id: str                        # venue's trade id (unique per venue)
    node_order_id: str
    graph_id: str
    venue: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: str                      # maker | taker
    ts_ns: int                          # when we learned of it
    venue_ts_ns: int | None = None      # the venue's own timestamp
    outcome: str | None = None          # YES | NO for an event contract (one book carries both)


def add_fill(record: "OrderGraph | NodeOrder", fill: Fill) -> None:
    """Move a graph's or node's filled quantity, notional, fees and update time by *fill*."""
    record.filled_qty += fill.qty
    record.notional += fill.qty * fill.price
    record.fees += fill.fee
    record.updated_ns = fill.ts_ns


class LifecycleEvent(msgspec.Struct, frozen=True):
    ts_ns: int
    graph_id: str
    node_order_id: str | None
    kind: str       # sor_admission | edge_dispatch | venue_ack | first_fill | fill | terminal | cancel_requested | amend | reject | reroute | ...
    detail: dict = {}
    venue_ts_ns: int | None = None


_last_graph_id = 0
TIMED_GRAPH_ID_LEN = 19                 # "graph_" + 13 hex digits (new_graph_id)


def new_graph_id() -> str:
    """``graph_`` + 13 hex digits of (ms since 1970 << 8 | a counter): unique within the
    engine (the only process that makes graphs) and increasing, so the journal's indexes on
    graph and node ids grow at their right edge: random ids touched a random page of five
    indexes per order and doubled the commit's cost (issue 4). Ids before this were 12
    random hex digits; both forms are valid, and they can never be equal."""
    global _last_graph_id
    _last_graph_id = max((time.time_ns() // 1_000_000) << 8, _last_graph_id + 1)
    return f"graph_{_last_graph_id:013x}"


def graph_ids_after(graph_id: str | None) -> None:
    """Never issue an id at or below *graph_id* (the journal's latest at start-up), so a
    clock set back across an engine restart cannot reuse one."""
    global _last_graph_id
    if graph_id and len(graph_id) == TIMED_GRAPH_ID_LEN:
        _last_graph_id = max(_last_graph_id, int(graph_id[6:], 16))


def node_order_id(graph_id: str, node: int, seq: int) -> str:
    return f"{graph_id}:node_{node}:{seq}"


def client_order_id(node_id: str) -> str:
    """A venue-safe client id that maps one-to-one to a node order id.

    Venues limit client ids to ~32-36 characters of [A-Za-z0-9_-]: 'sq' + graph hex +
    'n' + node + 's' + seq fits all of them and is reversible.
    """
    m = NODE_ID.match(node_id)
    if not m:
        raise UsageError(f"not a node order id: '{node_id}'")
    return _client_id(m.group(1), m.group(2), m.group(3))


def _client_id(graph_id: str, node, seq) -> str:
    return f"sq{graph_id[6:]}n{node}s{seq}"


def node_id_from_client(cid: str) -> str | None:
    m = re.match(r"^sq([0-9a-z]+)n(\d+)s(\d+)$", cid)
    return node_order_id("graph_" + m.group(1), int(m.group(2)), int(m.group(3))) if m else None


# -- validation of user input (before anything is journaled) ---------------------------------
MAX_INTEGER_DIGITS = 12       # quantities and prices under 1e12


def parse_decimal(name: str, value: str | Decimal | float | int, positive: bool = True) -> Decimal:
    try:
        d = Decimal(str(value).replace("_", ""))
    except InvalidOperation:
        raise UsageError(f"{name} must be a number, got '{value}'") from None
    if not d.is_finite():
        raise UsageError(f"{name} must be a finite number, got '{value}'")
    # more significant digits than Decimal's context (28) would be rounded by the first
    # arithmetic on it: 0.99999999999999999999999999999 would become 1
    from decimal import getcontext

    digits = "".join(map(str, d.as_tuple().digits)).strip("0")
    if len(digits) > getcontext().prec:
        raise UsageError(f"{name} has {len(digits)} significant digits, more than the {getcontext().prec} "
                         f"a decimal can hold exactly, got '{value}'")
    if d.adjusted() >= MAX_INTEGER_DIGITS:
        # a quantity or price past any market's (1e25 made the lot check's quotient overflow
        # the decimal context: an internal error instead of this)
        raise UsageError(f"{name} {value} is too large: at most {MAX_INTEGER_DIGITS} digits before the point")
    if positive and d <= 0:
        raise UsageError(f"{name} must be greater than zero, got {value}")
    return d


def parse_horizon(value: str | int | float | Decimal | None) -> float | None:
    """Seconds from a duration ("30s", "5m", "1h") or a number of seconds (the SDK's 300)."""
    if value is None:
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if math.isfinite(value) and value > 0:
            return float(value)
    elif isinstance(value, str) and (m := _HORIZON.match(value.strip())) and float(m.group(1)) > 0:
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise UsageError(f"--horizon must be a duration like 30s, 5m or 1h (the SDK also takes a number of seconds), got '{value}'")


def parse_slippage(value: int | str | None) -> int | None:
    if value is None:
        return None
    try:
        bps = int(str(value))
    except ValueError:
        raise UsageError(f"--max-slippage must be a whole number of bps (0-65535), got '{value}'") from None
    if not 0 <= bps <= 65535:
        raise UsageError(f"--max-slippage must be between 0 and 65535 bps (u16), got {bps}")
    return bps


def parse_order_id(value: str) -> tuple[str, str | None]:
    """(graph_id, node_order_id or None) from a graph id or a node order id."""
    v = value.strip()
    if GRAPH_ID.match(v):
        return v, None
    m = NODE_ID.match(v)
    if m:
        return m.group(1), v
    raise UsageError(f"not an order id: '{value}' (expected graph_<id> or graph_<id>:node_<n>:<seq>)")
