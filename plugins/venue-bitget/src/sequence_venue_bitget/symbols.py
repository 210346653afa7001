"""Bitget: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoints; the sandbox trades exactly
these. USDT-M perpetuals (v2 ``productType=USDT-FUTURES``) share the spot name (``BTCUSDT``),
so they carry ``_UMCBL`` here (Bitget's own v1 name for a USDT-M perpetual) to keep venue
symbols unique; ``where()`` strips it and names the product type for every request.

Perp specs from ``GET /api/v2/mix/market/contracts?productType=USDT-FUTURES``
(https://www.bitget.com/api-doc/contract/market/Get-All-Symbols-Contracts), as recorded
2025-06-27 (``requestTime`` 1751040116004): BTCUSDT ``pricePlace`` 1, ``priceEndStep`` 1,
``sizeMultiplier`` 0.0001, ``minTradeNum`` 0.0001; ETHUSDT 2 / 1 / 0.01 / 0.01; SOLUSDT 3 / 1 /
0.1 / 0.1; ``minTradeUSDT`` 5 for all three. Sizes are in the base coin (the place-order doc:
"size: Amount (base coin)"), so no contract conversion is needed.
"""

from decimal import Decimal

from sequence_core.market import SymbolMap, perp, plain, spot

V = "bitget"
PERP_SUFFIX = "_UMCBL"
PRODUCT_TYPE = "USDT-FUTURES"
MARGIN_COIN = "USDT"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.000001", "1"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.0001", "1"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.001", "0.001", "1"),
    perp(V, "BTC", "USDT", "BTCUSDT" + PERP_SUFFIX, "0.1", "0.0001", "5", "0.0001"),
    perp(V, "ETH", "USDT", "ETHUSDT" + PERP_SUFFIX, "0.01", "0.01", "5", "0.01"),
    perp(V, "SOL", "USDT", "SOLUSDT" + PERP_SUFFIX, "0.001", "0.1", "5", "0.1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def where(inst) -> tuple[str | None, str]:
    """(productType, Bitget symbol): ``None`` for spot, ``USDT-FUTURES`` for a perp."""
    if inst.kind == "perp":
        return PRODUCT_TYPE, inst.venue_symbol.removesuffix(PERP_SUFFIX)
    return None, inst.venue_symbol


def ours(symbol: str, inst_type: str | None) -> str:
    """Our venue symbol for a Bitget symbol seen under ``instType`` (websocket) or productType."""
    return symbol + PERP_SUFFIX if inst_type and inst_type.upper() == PRODUCT_TYPE else symbol


def from_symbols(rows: list) -> list:
    """Spot instruments from ``GET /api/v2/spot/public/symbols``: tick 10^-``pricePrecision``,
    lot 10^-``quantityPrecision``, ``minTradeAmount`` (base), ``minTradeUSDT`` (notional);
    ``status`` online or not."""
    import msgspec

    out = []
    for r in rows:
        tick, lot = f"{Decimal(1).scaleb(-int(r['pricePrecision'])):f}", f"{Decimal(1).scaleb(-int(r['quantityPrecision'])):f}"
        inst = spot(V, r["baseCoin"], r["quoteCoin"], r["symbol"], tick, lot, plain(r.get("minTradeUSDT") or "0"),
                    plain(r.get("minTradeAmount") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if r.get("status") == "online" else "halted"))
    return out


def from_contracts(rows: list) -> list:
    """USDT-M perpetuals from ``GET /api/v2/mix/market/contracts``: tick ``priceEndStep`` x
    10^-``pricePlace``, lot ``sizeMultiplier``, ``minTradeNum`` (base), ``minTradeUSDT``
    (notional); ``symbolStatus`` normal or not. Delivery contracts are left out."""
    import msgspec

    out = []
    for r in rows:
        if r.get("symbolType", "perpetual") != "perpetual":
            continue
        tick = f"{(Decimal(r.get('priceEndStep') or '1') * Decimal(1).scaleb(-int(r['pricePlace']))).normalize():f}"
        inst = perp(V, r["baseCoin"], r["quoteCoin"], r["symbol"] + PERP_SUFFIX, tick, plain(r["sizeMultiplier"]),
                    plain(r.get("minTradeUSDT") or "0"), plain(r.get("minTradeNum") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if r.get("symbolStatus") == "normal" else "halted"))
    return out
