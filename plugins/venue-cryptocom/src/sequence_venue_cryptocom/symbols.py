"""Crypto.com Exchange: the instruments this plugin declares, and the symbol map.

Spot books are ``BASE_QUOTE`` (``BTC_USD``, ``BTC_USDT``; ``inst_type`` CCY_PAIR), perpetuals
``BASEQUOTE-PERP`` (PERPETUAL_SWAP). Ticks and lots follow ``public/get-instruments``
(``price_tick_size``, ``qty_tick_size`` "Minimum trading quantity / tick size", ``tradable``);
the endpoint publishes no minimum notional, so none is declared (the exchange refuses a
too-small order itself: 415 BELOW_MIN_ORDER_SIZE). The sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "cryptocom"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC_USD", "0.01", "0.00001", "0", "0.00001"),
    spot(V, "ETH", "USD", "ETH_USD", "0.01", "0.0001", "0", "0.0001"),
    spot(V, "BTC", "USDT", "BTC_USDT", "0.01", "0.00001", "0", "0.00001"),
    perp(V, "BTC", "USD", "BTCUSD-PERP", "0.1", "0.0001", "0", "0.0001"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def from_instruments(data: list) -> list:
    """Spot instruments (``inst_type`` CCY_PAIR) from ``public/get-instruments`` ``result.data``."""
    import msgspec

    out = []
    for d in data:
        if d.get("inst_type") != "CCY_PAIR":
            continue
        lot = plain(d["qty_tick_size"])
        inst = spot(V, d["base_ccy"], d["quote_ccy"], d["symbol"], plain(d["price_tick_size"]), lot, "0", lot)
        out.append(msgspec.structs.replace(inst, status="trading" if d.get("tradable") else "halted"))
    return out
