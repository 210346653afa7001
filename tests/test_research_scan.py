"""`research scan`: the predicate language (parser suite, malformed input) and scanning."""

from __future__ import annotations

import json

import pytest
from simtools import make_market

FIELDS = {"venues": "set", "adv_usd": "number", "symbol": "text", "sharpe": "number"}


@pytest.mark.parametrize("text, field, op, value", [
    ("adv_usd > 1_000_000", "adv_usd", ">", 1_000_000.0),
    ("adv_usd>=2.5e6", "adv_usd", ">=", 2_500_000.0),
    ("sharpe < -0.5", "sharpe", "<", -0.5),
    ("venues ⊇ {binance,coinbase}", "venues", "⊇", ("binance", "coinbase")),
    ("venues contains {okx}", "venues", "contains", ("okx",)),
    ("venues ⊆ { binance , okx }", "venues", "⊆", ("binance", "okx")),
    ("symbol == BTC-USDT", "symbol", "==", "BTC-USDT"),
    ('symbol != "ETH-USD"', "symbol", "!=", "ETH-USD"),
])
def test_parses(text, field, op, value):
    from sequence_core.research.predicate import parse

    p = parse(text, FIELDS)
    assert (p.field, p.op, p.value) == (field, op, value)


@pytest.mark.parametrize("text, message", [
    ("", "at column 1: expected a field name, found the end"),
    ("adv > 1", "at column 1: unknown field 'adv'; fields: adv_usd, sharpe, symbol, venues"),
    ("adv_usd 1", "at column 9: expected an operator"),
    ("adv_usd >", "at column 10: expected a value"),
    ("adv_usd >> 1", "at column 10: expected a value"),
    ("adv_usd > 1__000", "expected a number with single '_' between digits"),
    ("adv_usd > 1_000_", "expected a number with single '_' between digits"),
    ("adv_usd > 10 and sharpe > 1", "at column 14: expected the end of the clause (repeat --where for AND)"),
    ("venues ⊇ {binance,", "at column 19: expected a set member (a word), found the end"),
    ("venues ⊇ {binance okx}", "expected ',' or '}' to close the set opened at column 10"),
    ('symbol == "BTC', "the quoted text is never closed"),
    ("venues > 3", "'>' compares numbers; 'venues' is a set"),
    ("adv_usd ⊇ {a}", "'⊇' compares sets; 'adv_usd' is a number"),
    ("adv_usd == big", "'adv_usd' is a number; 'big' is not"),
])
def test_malformed_expressions_say_where_and_what(text, message):
    from sequence_core.errors import UsageError
    from sequence_core.research.predicate import parse

    with pytest.raises(UsageError) as err:
        parse(text, FIELDS)
    assert message in str(err.value), str(err.value)


def test_predicates_evaluate():
    from sequence_core.research.predicate import parse

    row = {"venues": ["binance", "okx"], "adv_usd": 2e6, "symbol": "BTC-USDT", "sharpe": None}
    assert parse("venues ⊇ {binance,okx}", FIELDS).test(row)
    assert not parse("venues ⊇ {binance,coinbase}", FIELDS).test(row)
    assert parse("venues ⊆ {binance,okx,kraken}", FIELDS).test(row)
    assert parse("adv_usd >= 2_000_000", FIELDS).test(row) and not parse("adv_usd > 2_000_000", FIELDS).test(row)
    assert not parse("sharpe > -100", FIELDS).test(row)          # a missing figure never matches


def test_scan_filters_ranks_and_shows_evidence(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=20_000, symbol="BTC-USD")
    make_market(store, steps=20_000, symbol="BTC-USD", venue="acme", part="b")
    make_market(store, steps=3_000, symbol="ETH-USD", seed=9)
    proc = sequence("research", "scan", "--where", "venues ⊇ {sim}", "--where", "trades > 100", "--rank-by", "trades",
                    "--output", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["symbol"] for r in rows] == ["BTC-USD", "ETH-USD"]          # ranked by trades, highest first
    assert rows[0]["fields"]["venues"] == ["acme", "sim"] and rows[0]["rank_value"] > rows[1]["rank_value"]
    both = json.loads(sequence("research", "scan", "--where", "venues ⊇ {sim,acme}", "--output", "json").stdout)
    assert [r["symbol"] for r in both] == ["BTC-USD"]
    top = json.loads(sequence("research", "scan", "--rank-by", "trades", "--top", "1", "--output", "json").stdout)
    assert len(top) == 1
    text = sequence("research", "scan", "--rank-by", "adv_usd", "--evidence")
    assert "ADV_USD" in text.stdout and "VOLATILITY_BPS" in text.stdout and "acme,sim" in text.stdout
    bad = sequence("research", "scan", "--rank-by", "venues")
    assert bad.returncode == 1 and "--rank-by 'venues' is not a numeric field" in bad.stderr


def test_a_third_party_scanner_adds_fields(home):
    """Scanners are plugins: one registered from outside adds a field the language accepts."""
    from sequence_core.hookspecs import hookimpl
    from sequence_core.home import ensure_home
    from sequence_core.plugins import get_plugins
    from sequence_core.research.scan import scan
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=2_000)

    class Lucky:
        name = "lucky"
        fields = {"lucky_number": ("number", "a number of our own")}

        def scan(self, store, days):
            return {"BTC-USD": {"lucky_number": 7.0}}

    class Plugin:
        @hookimpl
        def register_scanners(self, register):
            register(Lucky())

    get_plugins().register(Plugin(), "lucky-scanner")
    rows = scan(store, ["lucky_number == 7"], "lucky_number", None)
    assert [(r.symbol, r.rank_value) for r in rows] == [("BTC-USD", 7.0)]
