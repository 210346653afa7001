#!/usr/bin/env bash
# The peer backtester for the comparison tests and benchmarks: hftbacktest 2.4.4 in its own
# virtual environment (it pins numpy < 2.3 and numba 0.61, which the project's does not use).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="${SEQUENCE_PEER_VENV:-$ROOT/.venv-peer}"
PYTHON="${PYTHON:-python3}"
if [ -x "$PEER/bin/python" ] && "$PEER/bin/python" -c 'import hftbacktest, pyarrow' 2>/dev/null; then exit 0; fi
echo "installing hftbacktest 2.4.4 into $PEER (the peer for the sim-engine comparison tests)" >&2
"$PYTHON" -m venv "$PEER" && "$PEER/bin/python" -m pip install --quiet "hftbacktest==2.4.4" pyarrow \
  > "$PEER.log" 2>&1 || echo "warning: could not install hftbacktest ($PEER.log); the comparison tests will be skipped" >&2
exit 0
