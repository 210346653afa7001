"""Export the sim-engine's merged event stream of one instrument to .npz (for hbt_events.py)."""
import sys
from pathlib import Path

import numpy as np

from sequence_core.sim.events import describe, merged_chunks
from sequence_core.store import Store


def export(store_root: str, venue: str, symbol: str, start: str, end: str, out: str) -> dict:
    store = Store(Path(store_root))
    inst = describe(store, venue, symbol, start, end)
    chunks = list(merged_chunks([inst], start, end, 3600))
    cols = {c: np.concatenate([ch[c] for ch in chunks]) for c in ("ts_exch", "ts_recv", "kind", "side", "price", "size")}
    cols["price"] = cols["price"] / 1e9
    cols["size"] = cols["size"] / 1e9
    np.savez(out, **cols)
    return {"tick": inst.tick / 1e9, "lot": inst.lot / 1e9, "events": len(cols["kind"])}


if __name__ == "__main__":
    print(export(*sys.argv[1:7]))
