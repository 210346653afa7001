"""Crypto.com Exchange: the instruments this plugin declares, and the symbol map.

Spot books are ``BASE_QUOTE`` (``BTC_USD``, ``BTC_USDT``; ``inst_type`` CCY_PAIR), perpetuals
``BASEQUOTE-PERP`` (PERPETUAL_SWAP). Ticks and lots follow ``public/get-instruments``
(``price_tick_size``, ``qty_tick_size`` "Minimum trading quantity / tick size", ``tradable``);
the endpoint publishes no minimum notional, so none is declared (the exchange refuses a
too-small order itself: 415 BELOW_MIN_ORDER_SIZE). The sandbox trades exactly these.

Perpetuals are linear and USD-settled, sized in the base coin (``contract_size`` "1", "1 BTC
(1 USD per index point)": https://help.crypto.com/en/articles/5101948-adausd-perpetual-contract-
specifications for the family's spec sheet), so they are declared as base-unit perps with no
conversion. BTCUSD-PERP (tick 0.1, lot 0.0001) and ETHUSD-PERP (tick 0.01, lot 0.0001) are the
``public/get-instruments`` rows CCXT records for them (ccxt ``ts/src/test/static/markets/
cryptocom.json``: ``price_tick_size``, ``qty_tick_size``, ``contract_size`` "1"). SOLUSD-PERP
is not in any recorded answer found: tick 0.01 and lot 0.01 are declared as the coarser
plausible steps (any multiple of them is a multiple of a finer real step), to be checked
against ``public/get-instruments``.
"""

from sequence_core.market import SymbolMap, perp, plain, spot

V = "cryptocom"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC_USD", "0.01", "0.00001", "0", "0.00001"),
    spot(V, "ETH", "USD", "ETH_USD", "0.01", "0.0001", "0", "0.0001"),
    spot(V, "BTC", "USDT", "BTC_USDT", "0.01", "0.00001", "0", "0.00001"),
    perp(V, "BTC", "USD", "BTCUSD-PERP", "0.1", "0.0001", "0", "0.0001"),
    perp(V, "ETH", "USD", "ETHUSD-PERP", "0.01", "0.0001", "0", "0.0001"),
    perp(V, "SOL", "USD", "SOLUSD-PERP", "0.01", "0.01", "0", "0.01"),
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
