"""Book continuity rules of live feeds (sequence_core/feeds.py) that no single venue's tests
pin down alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sequence_core.feeds import BookGap, BookUpdate, LocalBook


def book_at(seq: int) -> LocalBook:
    book = LocalBook("binance", "BTCUSDT_PERP")
    book.reset(BookUpdate("BTCUSDT_PERP", "snapshot", ((Decimal(100), Decimal(1)),), ((Decimal(101), Decimal(1)),), seq=seq))
    return book


def delta(first: int, last: int, prev: int, bid: str = "1") -> BookUpdate:
    return BookUpdate("BTCUSDT_PERP", "delta", ((Decimal(100), Decimal(bid)),), (), seq=last, first_seq=first, prev_seq=prev)


def test_a_range_then_previous_id_feed_follows_its_snapshot_then_each_previous_update():
    """Binance USD-M: the first delta after a REST snapshot is the one whose [U, u] covers it
    (its pu is older than the snapshot); from then on each delta's pu is the last u."""
    book = book_at(1000)
    assert not book.apply(delta(990, 999, 989))          # older than the snapshot: dropped
    assert book.apply(delta(995, 1005, 994, bid="2"))    # covers it: applied, though pu != 1000
    assert book.apply(delta(1006, 1010, 1005, bid="3"))
    with pytest.raises(BookGap):
        book.apply(delta(1015, 1020, 1012))              # pu is not the last u: a gap
    assert not book.synced


def test_a_previous_id_feed_alone_is_checked_from_its_first_delta():
    """OKX and Crypto.com name only the previous sequence: checked from the first delta on."""
    book = book_at(1000)
    with pytest.raises(BookGap):
        book.apply(BookUpdate("BTCUSDT_PERP", "delta", (), (), seq=1005, prev_seq=999))
