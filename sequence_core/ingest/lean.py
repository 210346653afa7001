"""QuantConnect Lean minute bars (shared/data/market/cross-venue-minute-2022-12-13, data by
CryptoTick, Apache-2.0): ``<crypto|cryptofuture>/<market>/minute/<symbol>/YYYYMMDD_<trade|quote>.zip``,
each a CSV whose first column is milliseconds since midnight UTC of the file's date.

Trade bars (time, open, high, low, close, volume) go to the ``bars`` table: they are not
trades, so they are not passed off as ticks. Quote bars (time, bid OHLC, last bid size, ask
OHLC, last ask size) become one ``bbo`` row at each bar's close (ts = bar end) with the
closing bid and ask and the last sizes. ``crypto`` is spot; ``cryptofuture`` symbols ending
in USD are inverse perps (``BTC-USD-PERP``), in USDT linear perps (``BTC-USDT-PERP``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from ..store import fixed_point

_PATH = re.compile(r"(crypto|cryptofuture)/([a-z]+)/minute/([a-z0-9]+)/(\d{8})_(trade|quote)\.zip$")
MINUTE = 60 * 1_000_000_000


def claims(path: Path) -> bool:
    return bool(_PATH.search(path.as_posix()))


def ingest_file(path: Path, store, summary, part: str) -> None:
    kind, market, raw, day, tick = _PATH.search(path.as_posix()).groups()
    for quote in ("USDT", "USDC", "BUSD", "USD"):
        if raw.upper().endswith(quote):
            symbol = f"{raw.upper()[:-len(quote)]}-{quote}" + ("-PERP" if kind == "cryptofuture" else "")
            break
    else:
        symbol = raw.upper()
    midnight = int(dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.timezone.utc).timestamp()) * 1_000_000_000
    with zipfile.ZipFile(path) as z:
        rows = list(csv.reader(io.TextIOWrapper(z.open(z.namelist()[0]), encoding="utf-8")))
    start = [midnight + int(r[0]) * 1_000_000 for r in rows]
    if tick == "trade":
        table, cols = "bars", {"ts_exchange": start, "ts_recv": [t + MINUTE for t in start], "interval_ns": [MINUTE] * len(rows),
                               "open": [fixed_point(r[1]) for r in rows], "high": [fixed_point(r[2]) for r in rows],
                               "low": [fixed_point(r[3]) for r in rows], "close": [fixed_point(r[4]) for r in rows],
                               "volume": [fixed_point(r[5]) for r in rows]}
    else:
        table, cols = "bbo", {"ts_exchange": [t + MINUTE for t in start], "ts_recv": [t + MINUTE for t in start],
                              "seq": [-1] * len(rows), "bid_price": [fixed_point(r[4]) for r in rows],
                              "bid_size": [fixed_point(r[5]) for r in rows], "ask_price": [fixed_point(r[9]) for r in rows],
                              "ask_size": [fixed_point(r[10]) for r in rows]}
    if rows:
        for written in store.write(table, market, symbol, part, cols):
            summary.partitions.append(str(written.parent.relative_to(store.root)))
        summary.add_rows(table, len(rows))
    summary.files.append(str(path))
