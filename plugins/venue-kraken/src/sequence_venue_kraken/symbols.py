"""Kraken: the instruments this plugin declares, the symbol map, and Kraken's three names.

A Kraken spot pair has three names and the adapter needs all of them:
- WebSocket v2 symbol ``BTC/USD`` (https://docs.kraken.com/exchange/api-reference/spot-websocket :
  "Symbol format v1 XBT/USD, v2 BTC/USD"): the instrument's ``venue_symbol`` here, since it is
  the name the live book arrives under and the one Kraken's own UI shows;
- REST ``altname`` ``XBTUSD``, what ``pair=`` takes on AddOrder, Depth, Ticker and what order
  ``descr.pair`` says (https://docs.kraken.com/api/docs/rest-api/add-order : "Asset pair id or
  altname"); Kraken keeps the ISO-4217-style XBT (bitcoin) and XDG (dogecoin) there;
- REST key ``XXBTZUSD``, the key of AssetPairs/Depth/Ticker answers (read positionally here).
Ticks, lots and minimums follow AssetPairs (``tick_size``, ``lot_decimals``, ``ordermin``,
``costmin``, ``status``); the sandbox trades exactly these. AssetPairs answers for the
``international`` execution venue unless its ``execution_venue`` filter asks for Bitnomial's
(field and filter added 27 and 30 April 2026, https://docs.kraken.com/exchange/changelog), so the
pairs read here are Kraken's own; its ``fees``/``fees_maker`` are empty since 8 September 2026
(fees.py).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.market import SymbolMap, perp, plain, spot

V = "kraken"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC/USD", "0.1", "0.00000001", "0.5", "0.00005"),
    spot(V, "ETH", "USD", "ETH/USD", "0.01", "0.00000001", "0.5", "0.002"),
    spot(V, "SOL", "USD", "SOL/USD", "0.01", "0.00000001", "0.5", "0.02"),
    spot(V, "XRP", "USD", "XRP/USD", "0.00001", "0.00000001", "0.5", "2"),
    spot(V, "BTC", "USDT", "BTC/USDT", "0.1", "0.00000001", "0.5", "0.00005"),
    perp(V, "BTC", "USD", "PF_XBTUSD", "1", "0.0001", "0", "0.0001"),
    perp(V, "ETH", "USD", "PF_ETHUSD", "0.1", "0.001", "0", "0.001"),
    perp(V, "SOL", "USD", "PF_SOLUSD", "0.01", "0.01", "0", "0.01"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)

# Kraken's legacy asset codes (REST balances, AssetPairs base/quote, v1 names) -> common codes
LEGACY = {"XBT": "BTC", "XXBT": "BTC", "XDG": "DOGE", "XXDG": "DOGE", "XETH": "ETH", "XXRP": "XRP", "XLTC": "LTC",
          "XXLM": "XLM", "XXMR": "XMR", "XZEC": "ZEC", "XETC": "ETC", "XMLN": "MLN", "XREP": "REP",
          "ZUSD": "USD", "ZEUR": "EUR", "ZGBP": "GBP", "ZJPY": "JPY", "ZCAD": "CAD", "ZAUD": "AUD"}
TO_LEGACY = {"BTC": "XBT", "DOGE": "XDG"}                 # the only two REST altnames that differ


def asset(code: str) -> str:
    """A Kraken asset code as the common one (``XXBT`` -> ``BTC``, ``ZUSD`` -> ``USD``)."""
    return LEGACY.get(code, code)


def rest_pair(venue_symbol: str) -> str:
    """The REST altname of a v2 symbol: ``BTC/USD`` -> ``XBTUSD``, ``ETH/USD`` -> ``ETHUSD``."""
    base, _, quote = venue_symbol.partition("/")
    return TO_LEGACY.get(base, base) + TO_LEGACY.get(quote, quote)


def precision(inst) -> tuple[int, int]:
    """(price decimals, qty decimals) as Kraken formats the pair (``pair_decimals`` and
    ``lot_decimals`` in AssetPairs, ``price_precision``/``qty_precision`` on the v2
    instrument channel), read off the declared tick and lot."""
    return max(0, -inst.tick_size.as_tuple().exponent), max(0, -inst.lot_size.as_tuple().exponent)


def from_asset_pairs(result: dict) -> list:
    """Crypto spot pairs from ``GET /0/public/AssetPairs`` (the ``result`` object). Tokenized
    equities (``aclass_base`` tokenized_asset) are left out: their orders need ``asset_class``."""
    import msgspec

    out = []
    for d in result.values():
        if d.get("aclass_base", "currency") != "currency" or "wsname" not in d:
            continue
        base, _, quote = d["wsname"].partition("/")
        base, quote = asset(base), asset(quote)
        lot = Decimal(1).scaleb(-int(d["lot_decimals"]))
        inst = spot(V, base, quote, f"{base}/{quote}", plain(d["tick_size"]), format(lot, "f"),
                    plain(d.get("costmin") or "0"), plain(d.get("ordermin") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if d.get("status", "online") == "online" else "halted"))
    return out


def from_futures_instruments(rows: list) -> list:
    """Linear perps from Kraken Futures ``GET /derivatives/api/v3/instruments`` (``instruments``):
    ``flexible_futures`` rows without ``lastTradingTime`` (perpetual; dated ones have it), base
    ``base`` (XBT read as BTC), quote ``quote``; inverse (``futures_inverse``, sized in USD
    contracts) and index rows are left out. ``tradeable`` false is halted."""
    import msgspec

    out = []
    for r in rows:
        if r.get("type") != "flexible_futures" or r.get("lastTradingTime") or "base" not in r:
            continue
        lot = Decimal(1).scaleb(-int(r.get("contractValueTradePrecision") or 0))
        inst = perp(V, asset(r["base"]), asset(r.get("quote") or "USD"), r["symbol"], plain(str(r["tickSize"])),
                    plain(lot), "0", plain(lot))
        out.append(msgspec.structs.replace(inst, status="trading" if r.get("tradeable", True) else "halted"))
    return out
