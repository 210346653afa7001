"""OKX: the instruments this plugin declares, the symbol map, and swap contract sizes.

Ticks, lots and minimums follow the venue's instrument endpoint
(https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments); the sandbox trades
exactly these. OKX's own ids are unique across kinds (``BTC-USDT`` spot, ``BTC-USDT-SWAP``
perpetual), so they are the venue symbols as they are.

USDT-margined perpetuals (``instType=SWAP``, ``ctType`` linear, ``settleCcy`` USDT) are
traded in contracts: ``sz``, ``lotSz``, ``minSz``, book sizes, ``fillSz``/``accFillSz`` and
position ``pos`` are numbers of contracts, each worth ``ctVal`` of the base (``ctValCcy``).
The engine works in base units, so a perp's lot here is ``ctVal × lotSz`` and its minimum
``ctVal × minSz``; :func:`contracts` and :func:`base` convert exactly at the adapter's edge.
Specs (recorded answer ``http_get_instruments_swap.json``, NautilusTrader's fixtures):
BTC-USDT-SWAP ctVal 0.01 BTC, tickSz 0.1, lotSz = minSz = 0.01 contracts; ETH-USDT-SWAP ctVal
0.1 ETH, tickSz 0.01, lotSz = minSz = 0.01. SOL-USDT-SWAP (not in the recording; ctVal 1 SOL,
tickSz 0.01, lotSz = minSz = 0.01) as public copies of the same endpoint give it.
OKX sets no minimum notional on swaps.
"""

from decimal import Decimal

from sequence_core.errors import InvalidOrder
from sequence_core.market import SymbolMap, perp, plain, spot

V = "okx"

#: ``ctVal`` of each declared USDT swap: base units per contract
CONTRACT_VALUE = {"BTC-USDT-SWAP": Decimal("0.01"), "ETH-USDT-SWAP": Decimal("0.1"), "SOL-USDT-SWAP": Decimal("1")}


def swap(base: str, inst_id: str, tick: str, ct_val: str, lot_sz: str, min_sz: str, quote: str = "USDT"):
    """A linear swap as a base-unit perp: lot and minimum are ``ctVal`` × the contract counts."""
    ct = Decimal(ct_val)
    return perp(V, base, quote, inst_id, plain(tick), plain(str(ct * Decimal(lot_sz))), "0", plain(str(ct * Decimal(min_sz))))


INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTC-USDT", "0.1", "0.00000001", "0", "0.00001"),
    spot(V, "ETH", "USDT", "ETH-USDT", "0.01", "0.000001", "0", "0.0001"),
    spot(V, "SOL", "USDT", "SOL-USDT", "0.01", "0.000001", "0", "0.001"),
    spot(V, "XRP", "USDT", "XRP-USDT", "0.0001", "0.000001", "0", "0.1"),
    spot(V, "BTC", "USDC", "BTC-USDC", "0.1", "0.00000001", "0", "0.00001"),
    swap("BTC", "BTC-USDT-SWAP", "0.1", "0.01", "0.01", "0.01"),
    swap("ETH", "ETH-USDT-SWAP", "0.01", "0.1", "0.01", "0.01"),
    swap("SOL", "SOL-USDT-SWAP", "0.01", "1", "0.01", "0.01"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def contract_value(inst) -> Decimal:
    ct = CONTRACT_VALUE.get(inst.venue_symbol)
    if ct is None:
        raise InvalidOrder(f"okx: no contract value known for {inst.venue_symbol}; this adapter declares "
                           f"{', '.join(CONTRACT_VALUE)}")
    return ct


def contracts(inst, qty: Decimal) -> Decimal:
    """A base quantity as OKX's ``sz``: contracts for a swap (refused unless a whole number of
    lots at or above the minimum), the quantity itself for spot."""
    if inst.kind != "perp":
        return qty
    ct = contract_value(inst)
    if qty < inst.min_qty:
        raise InvalidOrder(f"okx: {qty:f} {inst.base} is under the {inst.venue_symbol} minimum of {inst.min_qty} "
                           f"{inst.base} ({inst.min_qty / ct:f} contracts of {ct} {inst.base})")
    if (qty / inst.lot_size) % 1:
        raise InvalidOrder(f"okx: {qty:f} {inst.base} is not a whole number of {inst.venue_symbol} lots: the step is "
                           f"{inst.lot_size} {inst.base} ({inst.lot_size / ct:f} contracts of {ct} {inst.base})")
    return Decimal(plain(qty / ct))          # 50, not 5E+1


def base(inst, sz) -> Decimal:
    """OKX's size (contracts for a swap) in base units, exactly; spot sizes (or an instrument
    this adapter does not declare, None) as they are."""
    sz = Decimal(sz or "0")
    return Decimal(plain(sz * contract_value(inst))) if inst is not None and inst.kind == "perp" else sz


def from_instruments(data: list) -> list:
    """Instruments from ``GET /api/v5/public/instruments``. SPOT rows: ``tickSz``, ``lotSz``,
    ``minSz`` (OKX has no minimum notional for spot). SWAP rows: linear USDT-settled ones as
    base-unit perps (``ctVal`` × ``lotSz``/``minSz``); inverse and other settlements are left
    out. ``state`` live or not."""
    import msgspec

    out = []
    for d in data:
        if d.get("instType") == "SWAP":
            if d.get("ctType") != "linear" or d.get("settleCcy") != "USDT":
                continue
            inst = swap(d["ctValCcy"], d["instId"], d["tickSz"], d["ctVal"], d["lotSz"], d["minSz"], d["settleCcy"])
        else:
            inst = spot(V, d["baseCcy"], d["quoteCcy"], d["instId"], plain(d["tickSz"]), plain(d["lotSz"]), "0", plain(d["minSz"]))
        out.append(msgspec.structs.replace(inst, status="trading" if d.get("state") == "live" else "halted"))
    return out
