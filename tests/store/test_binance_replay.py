"""Ingest of the real Binance capture (shared/data/market/binance-multi-2024-08-08, recorded
by hftbacktest's collector) and the book it rebuilds, checked against Binance's own
bookTicker stream recorded on the same connection."""

import numpy as np
import pytest

from conftest import shared_data
from sequence_core.ingest import ingest
from sequence_core.store import SCALE, Store

SHARED = shared_data()
DATA = SHARED / "market" / "binance-multi-2024-08-08" if SHARED else None
pytestmark = pytest.mark.skipif(SHARED is None, reason="recorded data (shared/data) not found")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("store"))
    summary = ingest([str(DATA)], s)
    s.summary = summary
    return s


def replay_matches(store: Store, symbol: str) -> tuple[int, int, list]:
    """Rebuild the book from snapshot + deltas; after each depth message whose final update
    id equals a bookTicker's id, compare best bid and ask (price and size)."""
    snap = store.arrays("book_snapshots", symbol=symbol)
    deltas = store.arrays("book_deltas", symbol=symbol)
    bbo = store.arrays("bbo", symbol=symbol)
    ticker = {int(u): (bp, bs, ap, a_s) for u, bp, bs, ap, a_s in
              zip(bbo["seq"], bbo["bid_price"], bbo["bid_size"], bbo["ask_price"], bbo["ask_size"])}
    books = {1: {}, -1: {}}
    for side, price, size in zip(snap["side"], snap["price"], snap["size"]):
        books[int(side)][int(price)] = int(size)
    compared, mismatches = 0, []
    for seq, side, price, size, flags in zip(deltas["seq"], deltas["side"], deltas["price"], deltas["size"], deltas["flags"]):
        level = books[int(side)]
        if size == 0:
            level.pop(int(price), None)
        else:
            level[int(price)] = int(size)
        if flags & 1 and int(seq) in ticker:
            bid = max(books[1])
            ask = min(books[-1])
            want = ticker[int(seq)]
            compared += 1
            if (bid, books[1][bid], ask, books[-1][ask]) != tuple(int(x) for x in want):
                mismatches.append((int(seq), bid / SCALE, ask / SCALE, [int(x) / SCALE for x in want]))
    return compared, len(mismatches), mismatches[:3]


@pytest.mark.parametrize("symbol", ["BTC-USDT", "BTC-USDT-PERP", "BTC-USD-PERP"])
def test_replay_reproduces_recorded_best_bid_ask(store, symbol):
    compared, bad, examples = replay_matches(store, symbol)
    assert compared > 300, f"only {compared} points where depth and bookTicker ids coincide"
    print(f"{symbol}: {compared} points compared, {bad} mismatches")
    assert bad == 0, examples


def test_ingest_keeps_both_clocks_and_finds_no_gap_in_a_clean_capture(store):
    trades = store.arrays("trades", symbol="BTC-USDT")
    lag = (trades["ts_recv"] - trades["ts_exchange"]) / 1e9
    assert -1.5 < np.median(lag) < -1.0          # the recorder's clock runs ~1.3 s behind Binance
    assert store.summary.gaps == []
    assert store.summary.rows["book_deltas"] > 1_000_000


def test_a_missing_diff_is_reported_as_a_gap(tmp_path):
    """Drop one depth message from a real file: the gap is found, named, and no deltas after it."""
    import gzip

    src = DATA / "spot_btcusdt_20240808.gz"
    lines = gzip.open(src, "rb").read().splitlines(keepends=True)
    depth = [i for i, line in enumerate(lines) if b"depthUpdate" in line]
    drop = depth[len(depth) // 2]
    cut = tmp_path / "spot_btcusdt_20240808.gz"
    with gzip.open(cut, "wb") as fh:
        fh.writelines(lines[:drop] + lines[drop + 1:])
    s = Store(tmp_path / "store")
    summary = ingest([str(cut)], s)
    assert len(summary.gaps) == 1
    gap = summary.gaps[0]
    assert gap.book == "binance:BTC-USDT" and gap.got == gap.expected + (gap.got - gap.expected) and gap.got > gap.expected
    deltas = s.arrays("book_deltas", symbol="BTC-USDT")
    assert deltas["ts_recv"].max() < int(lines[drop].split(b" ")[0]) + 1   # nothing written past the gap


def test_reingest_does_not_duplicate(tmp_path):
    src = DATA / "usdm_btcusdt_20240808.gz"
    s = Store(tmp_path / "store")
    first = ingest([str(src)], s).rows
    again = ingest([str(src)], s).rows
    assert first == again
    tbl, _ = s.read("trades", symbol="BTC-USDT-PERP")
    assert tbl.num_rows == first["trades"]


def test_two_captures_of_one_book_are_not_a_gap(tmp_path):
    """binance-history's July capture and the August one are two connections of the same
    book: each syncs on its own snapshot, and the boundary is not reported as a gap."""
    history = DATA.parent / "binance-history"
    s = Store(tmp_path / "store")
    summary = ingest([str(history / "usdm_btcusdt_20240718.gz"), str(history / "usdm_btcusdt_20240719.gz"),
                      str(DATA / "usdm_btcusdt_20240808.gz")], s)
    assert summary.gaps == []
    dates = {p.split("date=")[1] for p in summary.partitions if p.startswith("book_deltas")}
    assert dates == {"2024-07-18", "2024-07-19", "2024-08-08"}


@pytest.mark.parametrize("symbol", ["BTC-USDT", "BTC-USDT-PERP"])
def test_the_replay_source_never_shows_a_crossed_book(store, symbol):
    """The diffs received before the REST snapshot and applied on top of it are stored at the
    snapshot's receive time: a replay of "the snapshot, then the deltas received since" kept a
    bid they had removed, and from the second minute on spot BTC-USDT showed 61,820.99 over
    an ask falling to 61,602 (the sim-engine's merge read them the same way)."""
    from sequence_core.plugins import venues
    from sequence_source_replay.source import ReplaySource

    inst = next(i for i in venues()["binance"].instruments() if i.symbol == symbol)
    snap = store.arrays("book_snapshots", symbol=symbol)
    deltas = store.arrays("book_deltas", symbol=symbol)
    assert deltas["ts_recv"].min() >= snap["ts_recv"].min()
    src = ReplaySource(root=store.root)
    t0 = int(snap["ts_recv"][0])
    for minute in range(1, 11):
        book = src.book(inst, t0 + minute * 60 * 10**9, 1)
        assert book.best_bid.price < book.best_ask.price, (minute, book.best_bid, book.best_ask)


def test_sandbox_trades_on_the_replayed_capture(tmp_path):
    """`[market_data] source = "replay"` in sandbox: paper accounts are funded with prices from
    the books the replay has (the start-up used to fail on the first asset it had no book for)
    and an order fills against the recorded book."""
    from decimal import Decimal

    from sequence_core.testing import LiveCli

    cli = LiveCli(tmp_path / "home", "binance,sim,replay")
    try:
        r = cli.run("data", "ingest", str(DATA / "spot_btcusdt_20240808.gz"), str(DATA / "spot_btcusdt_20240809.gz"))
        assert r.returncode == 0, r.stderr
        cli.configure('[market_data]\nsource = "replay"\n')
        d = cli.json("--sandbox", "buy", "BTC-USDT", "0.5", "--venue", "binance")
        assert d["graph"]["status"] == "FILLED" and Decimal(d["fills"][0]["price"]) > 60_000
        rows = {r["instrument"]: r for r in cli.json("--sandbox", "positions", "--venue", "binance")["rows"]}
        assert Decimal(rows["BTC"]["qty"]) == Decimal("1.5") and rows["BTC"]["mark"] is not None
    finally:
        cli.close()


def test_preflight_names_the_venues_that_have_a_book(tmp_path, monkeypatch):
    """On a replay with only Binance's books, a project on every venue fails its venues check,
    and the check says how to keep it to the venues that have one."""
    from sequence_core.testing import LiveCli

    cli = LiveCli(tmp_path / "home", "binance,okx,sim,replay")
    try:
        r = cli.run("data", "ingest", str(DATA / "spot_btcusdt_20240808.gz"))
        assert r.returncode == 0, r.stderr
        cli.configure('[market_data]\nsource = "replay"\n')
        monkeypatch.chdir(tmp_path)
        assert cli.run("init", "p").returncode == 0
        monkeypatch.chdir(tmp_path / "p")
        r = cli.run("--sandbox", "preflight")
        (venues,) = [line for line in r.stdout.splitlines() if line.startswith("venues")]
        assert r.returncode == 1 and "FAIL" in venues and "okx:BTC-USDT" in venues, r.stdout + r.stderr
        assert 'set venues = ["binance"] under [strategy] in Sequence.toml' in venues
    finally:
        cli.close()
