#!/usr/bin/env bash
# Make sure a Rust toolchain with the wasm32-unknown-unknown target exists (for `sequence build`
# and the wasm tests). Order: one already present (rustup's or Debian's) -> `rustup target add`
# -> Debian's rustc + libstd-rust-dev-wasm32 (works offline from the distro mirror).
set -uo pipefail

has_wasm_target() {
  local rustc="$1"
  [ -x "$rustc" ] || return 1
  local sysroot
  sysroot="$("$rustc" --print sysroot 2>/dev/null)" || return 1
  [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]
}

for candidate in "$(command -v rustc 2>/dev/null)" /usr/bin/rustc; do
  if [ -n "$candidate" ] && has_wasm_target "$candidate"; then exit 0; fi
done

if command -v rustup >/dev/null 2>&1; then
  if timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
     && has_wasm_target "$(command -v rustc)"; then
    exit 0
  fi
fi

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo -n"; fi
  echo "installing Debian's rustc + libstd-rust-dev-wasm32 (wasm32 target for sequence build)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  if $SUDO apt-get install -y -qq rustc cargo libstd-rust-dev-wasm32 >/dev/null 2>&1 \
     && has_wasm_target /usr/bin/rustc; then
    exit 0
  fi
fi

echo "warning: no Rust toolchain with the wasm32-unknown-unknown target could be installed;" \
     "the tests that compile strategies will be skipped" >&2
exit 0
