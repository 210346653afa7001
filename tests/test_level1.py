"""Level 1 — quote, symbols, fees, positions — through the real CLI, on the test venues
(acme: USD/USDT books + an event contract, with fees; zeta: USDC + a perp, no fee data)."""

import json
from decimal import Decimal

import pytest


@pytest.fixture
def seq(test_world):
    return test_world


def test_quote_merges_usd_family_and_names_each_book(seq):
    r = seq("--sandbox", "quote", "BTC-USD", "--output", "json")
    assert r.returncode == 0, r.stderr
    q = json.loads(r.stdout)
    assert q["source"] == "synthetic (seed 42)"
    books = {(v["venue"], v["book"]) for v in q["venues"]}
    assert {("acme", "BTC-USD"), ("acme", "BTC-USDT"), ("zeta", "BTC-USDC")} <= books
    assert ("zeta", "BTC-USDC-PERP") not in books          # a spot query never shows perps
    bids = [Decimal(v["bid"]) for v in q["venues"]]
    asks = [Decimal(v["ask"]) for v in q["venues"]]
    assert Decimal(q["nbbo"]["bid"]) == max(bids) and Decimal(q["nbbo"]["ask"]) == min(asks)
    for v in q["venues"]:
        assert Decimal(v["bid"]) < Decimal(v["ask"]) and Decimal(v["bid_size"]) > 0 and v["age_ms"] >= 0


def test_quote_text_has_the_spec_shape(seq):
    r = seq("quote", "BTC-USD", "--sandbox")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "source: synthetic" in lines[0]
    assert lines[1].split() == ["NBBO", "BID", "ASK", "SPREAD"]
    best = next(l for l in lines if l.startswith("best"))
    assert best.split()[-1] == "bps" and "," in best      # 91,0xx.xx bps
    header = next(l for l in lines if l.startswith("VENUE"))
    assert header.split() == ["VENUE", "BID", "ASK", "BID_SZ", "ASK_SZ", "AGE", "BOOK"]
    assert any(l.startswith("acme") and "ms" in l for l in lines)


def test_exact_quote_currency_is_not_merged(seq):
    q = json.loads(seq("--sandbox", "quote", "BTC-USDT", "--output", "json").stdout)
    assert [(v["venue"], v["book"]) for v in q["venues"]] == [("acme", "BTC-USDT")]


def test_event_contract_outcomes_mirror(seq):
    yes = json.loads(seq("--sandbox", "quote", "KXTEST-26DEC31-T1:YES", "--output", "json").stdout)
    no = json.loads(seq("--sandbox", "quote", "KXTEST-26DEC31-T1:NO", "--output", "json").stdout)
    y, n = yes["venues"][0], no["venues"][0]
    for v in (y, n):
        assert Decimal(0) < Decimal(v["bid"]) < Decimal(v["ask"]) < Decimal(1)
    # YES mid + NO mid is 1 up to spread and tick rounding
    total = (Decimal(y["bid"]) + Decimal(y["ask"]) + Decimal(n["bid"]) + Decimal(n["ask"])) / 2
    assert abs(total - 1) <= Decimal("0.03")


def test_two_calls_see_a_consistent_market(seq):
    a = json.loads(seq("--sandbox", "quote", "ETH-USD", "--output", "json").stdout)
    b = json.loads(seq("--sandbox", "quote", "ETH-USD", "--output", "json").stdout)
    ma = (Decimal(a["nbbo"]["bid"]) + Decimal(a["nbbo"]["ask"])) / 2
    mb = (Decimal(b["nbbo"]["bid"]) + Decimal(b["nbbo"]["ask"])) / 2
    assert abs(ma - mb) / ma < Decimal("0.002")            # seconds apart: same market, not a new draw


def test_unknown_symbol_suggests_close_matches(seq):
    r = seq("--sandbox", "quote", "BTC-USX")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: unknown symbol 'BTC-USX'") and "BTC-USD" in r.stderr


def test_symbol_no_connected_venue_lists(seq):
    seq("connect", "zeta", input='{"api_key": "z"}')
    r = seq("quote", "ETH-USD")
    assert r.returncode == 1 and "no connected venue lists 'ETH-USD'" in r.stderr and "acme" in r.stderr


def test_live_quote_from_a_venue_without_a_feed_is_clear(seq):
    seq("connect", "zeta", input='{"api_key": "z"}')
    r = seq("quote", "BTC-USD")
    assert r.returncode == 1 and "the live source has no book" in r.stderr and "zeta: its plugin has no market-data feed" in r.stderr


def test_nothing_connected_live(seq):
    r = seq("quote", "BTC-USD")
    assert r.returncode == 1 and "no venue to quote from" in r.stderr


def test_symbols_json_fit_for_jq(seq):
    rows = json.loads(seq("--sandbox", "symbols", "--output", "json").stdout)
    btc = next(r for r in rows if r["venue"] == "acme" and r["symbol"] == "BTC-USD")
    assert btc == {**btc, "venue_symbol": "BTCUSD", "kind": "crypto", "tick_size": "0.01", "lot_size": "0.0001", "min_notional": "1"}
    assert {r["kind"] for r in rows} >= {"crypto", "perp", "event_contract"}


def test_symbols_venue_filter(seq):
    rows = json.loads(seq("--sandbox", "symbols", "--venue", "zeta", "--output", "json").stdout)
    assert rows and {r["venue"] for r in rows} == {"zeta"}


def test_fees_table_with_dash_for_unknown(seq):
    r = seq("fees", "BTC-USD")
    assert r.returncode == 0, r.stderr
    acme = next(l for l in r.stdout.splitlines() if l.startswith("acme") and "BTC-USD " in l + " ")
    assert "10.00 bps" in acme and "20.00 bps" in acme
    zeta = next(l for l in r.stdout.splitlines() if l.startswith("zeta"))
    assert zeta.split()[2] == "—" and zeta.split()[3] == "—"


def test_fees_venue_filter_json(seq):
    rows = json.loads(seq("--sandbox", "fees", "BTC-USD", "--venues", "acme", "--output", "json").stdout)
    assert {r["venue"] for r in rows} == {"acme"} and rows[0]["maker"] == "0.001"


def test_fees_unknown_venue_in_filter(seq):
    r = seq("--sandbox", "fees", "BTC-USD", "--venues", "acme,nope")
    assert r.returncode == 1 and "unknown venue 'nope'" in r.stderr


def test_positions_sandbox_paper_funding_and_summary(seq):
    r = seq("--sandbox", "positions")
    assert r.returncode == 0, r.stderr
    rows = {(l.split()[0], l.split()[1]): l for l in r.stdout.splitlines() if l.split() and l.split()[0] in ("USD", "USDC", "USDT")}
    assert ("USD", "acme") in rows and ("USDC", "zeta") in rows
    assert "fiat" in rows[("USD", "acme")] and "crypto" in rows[("USDC", "zeta")]
    assert any(l.startswith("BTC") and "crypto" in l for l in r.stdout.splitlines())
    assert any(l.startswith("NAV") and "$" in l for l in r.stdout.splitlines())
    data = json.loads(seq("--sandbox", "positions", "--output", "json").stdout)
    held = {(r["venue"], r["instrument"]): Decimal(r["qty"]) for r in data["rows"]}
    # documented default: 100,000 of the venue's cash asset, 1 BTC and 10 ETH where listed
    assert held[("acme", "USD")] == 100_000 and held[("acme", "BTC")] == 1 and held[("acme", "ETH")] == 10
    assert held[("zeta", "USDC")] == 100_000 and held[("zeta", "BTC")] == 1 and ("zeta", "ETH") not in held
    cash = sum(Decimal(r["qty"]) for r in data["rows"] if r["instrument"] in ("USD", "USDC", "USDT"))
    assert Decimal(data["summary"]["cash"]) == cash
    marked = sum(Decimal(r["value_usd"]) for r in data["rows"])
    assert Decimal(data["summary"]["nav"]) == marked > cash


def test_positions_funding_is_configurable(seq, home):
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "config.toml").write_text('[sandbox.funding]\ndefault = "500"\nzeta = { USDC = "250", BTC = "0.5" }\n')
    data = json.loads(seq("--sandbox", "positions", "--venue", "zeta,acme", "--output", "json").stdout)
    held = {(r["venue"], r["instrument"]): Decimal(r["qty"]) for r in data["rows"]}
    assert held == {("acme", "USD"): 500, ("zeta", "USDC"): 250, ("zeta", "BTC"): Decimal("0.5")}   # config wins
    btc = next(r for r in data["rows"] if r["instrument"] == "BTC")
    assert Decimal(btc["mark"]) > 1000                       # marked from the source
    assert Decimal(data["summary"]["nav"]) > Decimal(data["summary"]["cash"])


def test_positions_kind_filter_and_bad_kind(seq):
    data = json.loads(seq("--sandbox", "positions", "--kind", "fiat", "--output", "json").stdout)
    assert data["rows"] and {r["kind"] for r in data["rows"]} == {"fiat"}
    r = seq("--sandbox", "positions", "--kind", "stocks")
    assert r.returncode == 1 and "unknown kind 'stocks'" in r.stderr and "event_contract" in r.stderr


def test_positions_unconnected_venue_filter_live(seq):
    r = seq("positions", "--venue", "acme")
    assert r.returncode == 1 and "venue 'acme' is not connected" in r.stderr


def test_positions_legacy_warns(seq):
    r = seq("--sandbox", "positions", "--legacy")
    assert r.returncode == 0 and "deprecated" in r.stderr and r.stdout.split()[:3] == ["SYMBOL", "QTY", "VALUE"]


def test_sandbox_and_live_ledgers_are_separate(seq, home):
    seq("--sandbox", "positions")
    assert (home / "sandbox" / "journal.db").exists()
    assert not (home / "journal.db").exists()


def test_preview_walks_depth_and_applies_fees(home, third_party, monkeypatch):
    monkeypatch.syspath_prepend(str(third_party))
    from sequence_core.client import Sequence

    seq = Sequence(sandbox=True)
    small = seq.preview("BTC-USD", "buy", "0.001", venue="acme")
    row = next(r for r in small.rows if r.book == "BTC-USD")
    assert row.complete and row.fee == row.notional * Decimal("0.002")     # taker at tier 0
    assert row.total_cost == row.notional + row.fee and row.slippage_bps == 0
    big = seq.preview("BTC-USD", "buy", "5", venue="acme")
    deep = next(r for r in big.rows if r.book == "BTC-USD")
    assert deep.worst_price > deep.avg_price > row.avg_price > 0 and deep.slippage_bps > 0
    capped = seq.preview("BTC-USD", "buy", "5", limit_price=str(row.avg_price), venue="acme")
    assert not next(r for r in capped.rows if r.book == "BTC-USD").complete
    nofee = seq.preview("BTC-USD", "sell", "0.01", venue="zeta")
    assert nofee.rows[0].fee is None and nofee.rows[0].total_cost is None   # no data: never "free"


def test_funded_holdings_start_at_market_with_no_free_pnl(seq):
    data = json.loads(seq("--sandbox", "positions", "--output", "json").stdout)
    btc = next(r for r in data["rows"] if r["venue"] == "acme" and r["instrument"] == "BTC")
    assert Decimal(btc["entry"]) > 1000                                  # booked at the market
    assert abs(Decimal(btc["unrealized_pnl"])) < Decimal(btc["entry"]) * Decimal("0.01")


def test_no_crossed_nbbo_within_one_venue(seq):
    for _ in range(5):
        q = json.loads(seq("--sandbox", "quote", "BTC-USD", "--output", "json").stdout)
        acme = [v for v in q["venues"] if v["venue"] == "acme"]
        assert max(Decimal(v["bid"]) for v in acme) < min(Decimal(v["ask"]) for v in acme)


def test_bare_event_ticker_quotes_the_yes_book_only(seq):
    q = json.loads(seq("--sandbox", "quote", "KXTEST-26DEC31-T1", "--output", "json").stdout)
    assert [v["book"] for v in q["venues"]] == ["KXTEST-26DEC31-T1:YES"]
    assert Decimal(q["nbbo"]["spread_bps"]) > 0


def test_replay_quote_age_is_never_negative_under_the_recordings_clock_skew(sequence):
    """The capture's exchange clock reads ~1.2 s later than its receive clock at its end: the
    age of a replayed book is measured on the recording's receive clock, not across both."""
    from conftest import require_shared_data

    capture = require_shared_data() / "market" / "binance-multi-2024-08-08" / "spot_btcusdt_20240808.gz"
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "binance,replay"
    assert sequence("data", "ingest", str(capture)).returncode == 0
    r = sequence("--sandbox", "quote", "BTC-USDT", "--source", "replay", "--output", "json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)["venues"]
    assert 0 <= row["age_ms"] < 1000


def test_positions_show_amounts_that_round_to_zero_as_zero(capsys):
    """A mark a hair under entry (or fees of a fraction of a cent) is $0.00, never -$0.00."""
    from types import SimpleNamespace as NS

    from sequence_cli.see import _render_positions

    row = NS(instrument="USDT", label=None, venue="acme", kind="crypto", qty=Decimal("100"), entry=Decimal("1"),
             mark=Decimal("0.99999"), unrealized_pnl=Decimal("-0.001"), entry_known=True)
    summary = NS(nav=Decimal("99.999"), cash=Decimal("-0.004"), unrealized_pnl=Decimal("-0.001"),
                 realized_pnl=Decimal("-0"), fees=Decimal("-0.0049"))
    _render_positions(NS(rows=[row], summary=summary, mode="sandbox", source="synthetic (seed 42)", notes=[]))
    out = capsys.readouterr().out
    assert "-0.00" not in out and "-$0.00" not in out
    assert out.split("\n")[2].rstrip().endswith("$0.00")
    assert "Cash            $ 0.00" in out and "Fees            $0.00" in out


def test_positions_text_says_which_entries_are_unknown_and_which_venues_are_the_ledgers(capsys):
    """Live holdings whose cost the fills do not account for show at the mark; the text table
    marks them and prints the venues whose rows stayed the ledger's (JSON had them already)."""
    from sequence_cli.see import _render_positions
    from sequence_core.portfolio import PortfolioSummary, PositionRow, Positions

    row = PositionRow("BTC", "binance", "crypto", Decimal("1"), Decimal("90000"), Decimal("90000"), Decimal(0),
                      Decimal("90000"), "open", entry_known=False)
    _render_positions(Positions("live", "live", [row], PortfolioSummary(*[Decimal(0)] * 5),
                                ["acme: holdings not reported; its cash and spot rows are Sequence's own fills"]))
    out = capsys.readouterr().out
    assert "90,000.00*" in out and "* entry unknown" in out and "acme: holdings not reported" in out


def test_a_crossed_nbbo_is_said_in_the_quote(capsys):
    """A negative NBBO spread (books read at different moments) read as a broken quote."""
    from sequence_cli.see import _render_quote
    from sequence_core.quotes import Nbbo, Quote, VenueQuote

    rows = [VenueQuote("okx", "BTC-USDT", Decimal("100.02"), Decimal("100.03"), Decimal(1), Decimal(1), 40.0, 0),
            VenueQuote("binance", "BTC-USDT", Decimal("100.00"), Decimal("100.01"), Decimal(1), Decimal(1), 5.0, 0)]
    nbbo = Nbbo(Decimal("100.02"), Decimal("100.01"), Decimal("-1.00"), "okx", "binance")
    _render_quote(Quote("BTC-USD", "synthetic (seed 42)", 0, nbbo, rows, Decimal("0.01")))
    assert "crossed: okx's bid is above binance's ask" in capsys.readouterr().out


def test_decimals_are_written_plainly_in_json_and_tables(capsys):
    """A tick of 1e-10 came out as "1E-10" in JSON and "0.000000000" in the table; a zero
    P&L as "0E-21"."""
    from sequence_cli.output import _plain
    from sequence_cli.see import qty

    assert _plain({"tick": Decimal("1E-10"), "rows": [Decimal("0E-21"), Decimal("90990.00")]}) == \
        {"tick": "0.0000000001", "rows": ["0.000000000000000000000", "90990.00"]}
    assert qty(Decimal("1E-10")) == "0.0000000001" and qty(Decimal("0.123456789012")) == "0.123456789"


def test_an_orders_fees_are_said_in_the_assets_they_were_charged_in():
    """A graph's fees add a BTC fee to USDT ones: the summary line said 'fees 0.00001'."""
    from types import SimpleNamespace as NS

    from sequence_cli.trade import _fees

    fills = [NS(fee=Decimal("0.91"), fee_asset="USDT"), NS(fee=Decimal("0.00001"), fee_asset="BTC"),
             NS(fee=Decimal("0.09"), fee_asset="USDT")]
    assert _fees(fills) == "1 USDT, 0.00001 BTC"


@pytest.fixture
def sdk_world(home, third_party, monkeypatch):
    """The test venues in this process, for SDK calls."""
    from conftest import TEST_WORLD
    from sequence_core.plugins import reset_plugins

    monkeypatch.syspath_prepend(str(third_party))
    monkeypatch.setenv("SEQUENCE_LOAD_PLUGINS", TEST_WORLD)
    reset_plugins()
    yield home
    reset_plugins()


@pytest.mark.parametrize("qty, limit, message", [
    ("abc", None, "quantity must be a number, got 'abc'"),
    (float("nan"), None, "quantity must be a finite number"),
    ("-1", None, "quantity must be greater than zero"),
    ("1", "abc", "limit price must be a number, got 'abc'"),
    ("1", -5, "limit price must be greater than zero, got -5"),
])
def test_sdk_preview_checks_its_values_as_order_does(sdk_world, qty, limit, message):
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    with pytest.raises(UsageError, match=message):
        Sequence(sandbox=True).preview("BTC-USD", "buy", qty, limit_price=limit)


def test_sdk_preview_live_names_where_the_symbol_trades(sdk_world):
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    with pytest.raises(UsageError, match=r"no connected venue lists 'BTC-USD' \(listed on: acme.*connect one"):
        Sequence().preview("BTC-USD", "buy", "0.01")        # live, nothing connected


def test_sdk_preview_amounts_are_rounded_and_plain(sdk_world):
    from sequence_core.client import Sequence

    rows = Sequence(sandbox=True).preview("BTC-USD", "buy", "3", venue="acme").rows   # avg: a third of a notional
    assert rows
    for r in rows:
        for amount in (r.avg_price, r.notional, r.fee, r.total_cost):
            assert amount.as_tuple().exponent >= -12 and amount == amount.normalize(), r
            assert amount.as_tuple().exponent == amount.normalize().as_tuple().exponent, r     # no padding zeros


def test_sdk_positions_checks_kinds_and_takes_one_name_as_a_str(sdk_world):
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    seq = Sequence(sandbox=True)
    with pytest.raises(UsageError, match="unknown kind 'bogus'; accepted: fiat, crypto, perp, event_contract"):
        seq.positions(kinds={"bogus"})
    fiat = seq.positions(venue_names="acme", kinds="fiat").rows
    assert fiat and {(r.venue, r.kind) for r in fiat} == {("acme", "fiat")}
    assert {i.venue for i in seq.instruments("acme")} == {"acme"}
