#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment: the core, every plugin under
# plugins/, and the test tools. Idempotent: reinstalls only when a pyproject.toml changed.
# Sourced by scripts/demo and scripts/test; safe to run by itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SEQUENCE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Error: Python 3.11 or newer is required (found: $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

stamp="$VENV/.sequence-installed"
want="$(cat "$ROOT"/pyproject.toml "$ROOT"/plugins/*/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing sequence and its plugins into $VENV (log: $VENV/install.log) ..." >&2
  # No build isolation: every distribution here builds with the setuptools installed first.
  # Editable installs in compat mode are plain path entries: setuptools' default finder
  # modules add ~25 ms to every interpreter start.
  editables=(-e "$ROOT[test]")
  for plugin in "$ROOT"/plugins/*/; do editables+=(-e "$plugin"); done
  if ! { "$VENV/bin/python" -m pip install --upgrade "pip>=23" "setuptools>=77" wheel &&
         "$VENV/bin/python" -m pip install --no-build-isolation --config-settings editable_mode=compat "${editables[@]}"; } > "$VENV/install.log" 2>&1; then
    tail -30 "$VENV/install.log" >&2
    echo "Error: installing the project failed; full log in $VENV/install.log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
# Byte-compile once so start-up never recompiles sources, even where PYTHONDONTWRITEBYTECODE
# is set (it stops Python writing .pyc files, not reading them).
if [ ! -e "$VENV/.sequence-compiled" ] || [ -n "$(find "$ROOT/sequence_core" "$ROOT/sequence_cli" "$ROOT/plugins" -name '*.py' -newer "$VENV/.sequence-compiled" -print -quit)" ]; then
  "$VENV/bin/python" -m compileall -q -j 0 "$ROOT/sequence_core" "$ROOT/sequence_cli" "$ROOT/plugins" "$VENV/lib" > /dev/null 2>&1 || true
  touch "$VENV/.sequence-compiled"
fi
