"""`sequence --sandbox quote BTC-USD` wall time: median of 20 fresh processes.

    .venv/bin/python benchmarks/quote.py [--runs 20]

Every installed plugin loads; the synthetic source prices all venues' BTC books in the USD
family. Target (issue 3): under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEQUENCE = str(Path(sys.executable).parent / "sequence")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQUENCE_HOME": tmp + "/home"}
        cmd = [SEQUENCE, "--sandbox", "quote", "BTC-USD"]
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        ms = []
        for _ in range(opts.runs):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    print(f"sequence --sandbox quote BTC-USD: median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms (n={len(ms)})")


if __name__ == "__main__":
    main()
