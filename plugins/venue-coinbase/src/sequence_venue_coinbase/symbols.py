"""Coinbase Advanced Trade: the instruments this plugin declares, and the symbol map.

Product ids are ``BASE-QUOTE`` (``BTC-USD``), so canonical names equal them. ``BTC-USDC`` is an
alias of the one ``BTC-USD`` book (``alias_to`` in the products answer), so only the USD books
are declared: a canonical USD symbol names exactly one Coinbase book.
Ticks, lots and minimums follow ``GET /api/v3/brokerage/market/products`` (the shared sample
http_products.json): ``price_increment`` (tick), ``base_increment`` (lot), ``quote_min_size``
(min notional), ``base_min_size`` (min size); the sandbox trades exactly these.
"""

from sequence_core.market import SymbolMap, plain, spot

V = "coinbase"

INSTRUMENTS = (
    spot(V, "BTC", "USD", "BTC-USD", "0.01", "0.00000001", "1", "0.00000001"),
    spot(V, "ETH", "USD", "ETH-USD", "0.01", "0.00000001", "1", "0.00000001"),
    spot(V, "SOL", "USD", "SOL-USD", "0.01", "0.00000001", "1", "0.00000001"),
    spot(V, "XRP", "USD", "XRP-USD", "0.0001", "0.000001", "1", "0.000001"),
)

SYMBOLS = SymbolMap(INSTRUMENTS)


def tradeable(p: dict) -> bool:
    """``status`` "online" and none of the flags that stop new orders."""
    return (p.get("status") == "online" and not p.get("trading_disabled") and not p.get("is_disabled")
            and not p.get("cancel_only") and not p.get("view_only"))


def from_products(products: list) -> list:
    """Spot instruments from a ``products`` list (futures are left out)."""
    import msgspec

    out = []
    for p in products:
        if p.get("product_type", "SPOT") != "SPOT":
            continue
        tick = p.get("price_increment") or p["quote_increment"]
        inst = spot(V, p["base_currency_id"], p["quote_currency_id"], p["product_id"], plain(tick), plain(p["base_increment"]),
                    plain(p.get("quote_min_size") or "0"), plain(p.get("base_min_size") or "0"))
        out.append(msgspec.structs.replace(inst, status="trading" if tradeable(p) else "halted"))
    return out
