"""Binance: the instruments this plugin declares, and the symbol map.

Ticks, lots and minimums follow the venue's instrument endpoints (see venue.py); the
sandbox trades exactly these.

USD-M perpetuals share the spot name (``BTCUSDT``) on another host (fapi.binance.com);
``_PERP`` keeps venue symbols unique here and ``fapi_symbol`` strips it before a request.
A USD-M contract is one unit of the base asset ("contract unit", the USDⓈ-M contract
specifications, https://www.binance.com/en/support/faq/360033161972), so quantities are base
units on both sides of the adapter: nothing to convert.
Perp filters (``GET /fapi/v1/exchangeInfo``, https://developers.binance.com/docs/derivatives/
usds-margined-futures/market-data/rest-api/Exchange-Information): PRICE_FILTER.tickSize,
LOT_SIZE.stepSize and minQty, MIN_NOTIONAL.notional (an order's price x quantity, the mark
price for a market order; reduce-only orders are exempt). Declared values: BTCUSDT tick 0.10,
step and minimum 0.001, ETHUSDT tick 0.01, step and minimum 0.001 (both as recorded in
shared/data/responses/binance/python-http/http_futures_market_exchange_info.json); minimum
notional 100 USDT for BTCUSDT and 20 for ETHUSDT, as Binance's -4164 refusals quote them in
2024-2025 (github.com/TheFourGreatErrors/alpha-rptr/issues/77, terryso/nof1-tracker/issues/28;
the 2022 recording still says 10). SOLUSDT: tick 0.001, step and minimum 1 SOL, notional 5,
from a 2023 SOLUSDT exchangeInfo entry kept as a test fixture in a public repository (not a
Binance page: the least certain of the three). Binance changes filters without notice;
``from_futures_exchange_info`` reads the live ones.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "binance"
PERP_SUFFIX = "_PERP"

INSTRUMENTS = (
    spot(V, "BTC", "USDT", "BTCUSDT", "0.01", "0.00001", "5"),
    spot(V, "ETH", "USDT", "ETHUSDT", "0.01", "0.0001", "5"),
    spot(V, "SOL", "USDT", "SOLUSDT", "0.01", "0.001", "5"),
    spot(V, "XRP", "USDT", "XRPUSDT", "0.0001", "0.1", "5"),
    spot(V, "BTC", "USDC", "BTCUSDC", "0.01", "0.00001", "5"),
    spot(V, "ETH", "USDC", "ETHUSDC", "0.01", "0.0001", "5"),
    perp(V, "BTC", "USDT", "BTCUSDT_PERP", "0.1", "0.001", "100", "0.001"),
    perp(V, "ETH", "USDT", "ETHUSDT_PERP", "0.01", "0.001", "20", "0.001"),
    perp(V, "SOL", "USDT", "SOLUSDT_PERP", "0.001", "1", "5", "1"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def fapi_symbol(inst) -> str:
    """The USD-M symbol Binance knows (``BTCUSDT``) for one of our perps (``BTCUSDT_PERP``)."""
    return inst.venue_symbol.removesuffix(PERP_SUFFIX)


def from_exchange_info(body: dict) -> list:
    """Spot instruments from ``GET /api/v3/exchangeInfo``: PRICE_FILTER.tickSize, LOT_SIZE.stepSize
    and minQty, NOTIONAL (or the older MIN_NOTIONAL) minNotional; status TRADING or halted."""
    import msgspec

    out = []
    for s in body.get("symbols", []):
        f = {x["filterType"]: x for x in s.get("filters", [])}
        notional = f.get("NOTIONAL", f.get("MIN_NOTIONAL", {})).get("minNotional", "0")
        inst = spot(V, s["baseAsset"], s["quoteAsset"], s["symbol"], plain(f["PRICE_FILTER"]["tickSize"]),
                    plain(f["LOT_SIZE"]["stepSize"]), plain(notional), plain(f["LOT_SIZE"].get("minQty", "0")))
        out.append(msgspec.structs.replace(inst, status="trading" if s.get("status") == "TRADING" else "halted"))
    return out


def from_futures_exchange_info(body: dict) -> list:
    """USD-M perpetuals from ``GET /fapi/v1/exchangeInfo`` (``contractType`` PERPETUAL; dated
    contracts are left out): PRICE_FILTER.tickSize, LOT_SIZE.stepSize and minQty,
    MIN_NOTIONAL.notional; ``status`` TRADING or halted. Venue symbols carry ``_PERP``."""
    import msgspec

    out = []
    for s in body.get("symbols", []):
        if s.get("contractType") != "PERPETUAL":
            continue
        f = {x["filterType"]: x for x in s.get("filters", [])}
        inst = perp(V, s["baseAsset"], s["quoteAsset"], s["symbol"] + PERP_SUFFIX, plain(f["PRICE_FILTER"]["tickSize"]),
                    plain(f["LOT_SIZE"]["stepSize"]), plain(f.get("MIN_NOTIONAL", {}).get("notional", "0")),
                    plain(f["LOT_SIZE"].get("minQty", "0")))
        out.append(msgspec.structs.replace(inst, status="trading" if s.get("status") == "TRADING" else "halted"))
    return out
