"""Start-up time of the CLI: `sequence --help` and `sequence venues`, median of 20 runs.

    .venv/bin/python benchmarks/startup.py [--runs 20]

Each run is a fresh process with every installed plugin loaded, on a temporary home with
one connected venue. Target (issue 2): median under 150 ms wall for both commands.
Diagnose with: SEQUENCE_HOME=/tmp/x python -X importtime -m sequence_cli.main venues
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEQUENCE = str(Path(sys.executable).parent / "sequence")


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    subprocess.run([SEQUENCE, *args], env=env, capture_output=True, check=True)  # warm the page cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([SEQUENCE, *args], env=env, capture_output=True, check=True)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQUENCE_HOME": tmp + "/home"}
        # kraken: connected, with no adapter heartbeat yet, so the figure is start-up, not network
        subprocess.run([SEQUENCE, "connect", "kraken"], input=json.dumps({"api_key": "k", "api_secret": "c2VjcmV0"}),
                       text=True, env=env, check=True, capture_output=True)
        for args in (["--help"], ["venues"], ["--sandbox", "venues"]):
            ms = sorted(timed(args, env, opts.runs))
            p90 = ms[int(0.9 * (len(ms) - 1))]
            print(f"sequence {' '.join(args):<18} median {statistics.median(ms):6.1f} ms   p90 {p90:6.1f} ms   (n={len(ms)})")


if __name__ == "__main__":
    main()
