"""The strategy host of a deployed edge: the same ABI v1 as the sim-engine (docs/wasm-abi.md),
with each import an ordinary Python function of the edge runtime (sequence_core/deploy/edge.py).

The backtest host enters the module from compiled code with native imports; live, the
edge's event loop drives the module and every import is a call into the edge, which
journals orders through the engine. Fuel and memory limits are the backtest's.

Crossing cost is the latency budget here (issue 8: market event to journal p50 < 250 µs).
wasmtime-py's checked calls and host functions convert every value through its ``Val``
type, ~14 µs to enter a callback and ~24 µs per import call, so a re-quoting ``on_book``
with six imports took ~160 µs. The hot imports are therefore registered with
``wasmtime_func_new_unchecked`` as plain ctypes callbacks over the raw value array, and
callbacks are entered with ``wasmtime_func_call_unchecked`` (the sim-engine's path, minus
numba): the same callback is ~16 µs. ``log``, ``param`` and the parent and mesh imports,
which read or write linear memory, stay wasmtime-py host functions.
"""

from __future__ import annotations

import ctypes
import time
from collections import deque
from typing import Protocol

from ..sim.host import (DEFAULT_FUEL, DEFAULT_MEMORY, EXPORT_TYPES, StrategyError, StrategyModule, _cause, _valtypes,
                        instantiate)
from .registry import STATUS_SAMPLES

# (params, results) of every host import, "i" i32 / "I" i64 — the ABI's table; a test checks
# it against the sim-engine's native imports
SIGNATURES = {
    "now": ("", "I"), "place": ("iiIIi", "I"), "cancel": ("I", "i"), "amend": ("III", "i"), "book": ("ii", "I"),
    "position": ("i", "I"), "order": ("Ii", "I"), "set_timer": ("I", ""), "subscribe": ("i", ""),
    "log": ("iii", ""), "param": ("iiI", "I"), "place_for": ("IiiIIi", "I"), "parent_done": ("I", "i"),
    "mesh_send": ("iii", "i"), "mesh_read": ("ii", "i"), "mesh_self": ("", "i"), "mesh_size": ("", "i"),
}
HOT = ("now", "place", "cancel", "amend", "book", "position", "order", "set_timer", "subscribe")


class HostApi(Protocol):
    """What the module's imports call (implemented by the edge runtime)."""

    def now(self) -> int: ...
    def place(self, inst: int, side: int, price: int, size: int, flags: int) -> int: ...
    def cancel(self, order_id: int) -> int: ...
    def amend(self, order_id: int, price: int, size: int) -> int: ...
    def book(self, inst: int, field: int) -> int: ...
    def position(self, inst: int) -> int: ...
    def order(self, order_id: int, field: int) -> int: ...
    def set_timer(self, interval_ns: int) -> None: ...
    def subscribe(self, mask: int) -> None: ...
    def log(self, level: str, text: str) -> None: ...
    def place_for(self, parent_id: int, inst: int, side: int, price: int, size: int, flags: int) -> int: ...
    def parent_done(self, parent_id: int) -> int: ...
    def mesh_send(self, peer: int, data: bytes) -> int: ...
    def mesh_message(self) -> bytes | None: ...
    def mesh_self(self) -> int: ...
    def mesh_size(self) -> int: ...


def _raw_import(fn, params: str, results: str, failed: list):
    """*fn* as a wasmtime unchecked callback: arguments read from, the result written to, the
    raw value array. A Python exception becomes a trap and is kept in *failed* for the
    caller to re-raise, as wasmtime-py does."""
    from wasmtime import _ffi as ffi

    def callback(env, caller, raw, count):
        try:
            out = fn(*[raw[k].i32 if c == "i" else raw[k].i64 for k, c in enumerate(params)])
            if results == "i":
                raw[0].i32 = out
            elif results == "I":
                raw[0].i64 = out
            return 0
        except BaseException as exc:  # noqa: BLE001 - re-raised by LiveStrategy.call
            failed.append(exc)
            message = b"python exception"
            return ctypes.cast(ffi.wasmtime_trap_new(message, len(message)), ctypes.c_void_p).value or 0

    return ffi.wasmtime_func_unchecked_callback_t(callback)


class LiveStrategy:
    """One instance of a module whose imports call *api*; callbacks measured in µs."""

    def __init__(self, module: StrategyModule, api: HostApi, params: dict[str, int] | None = None,
                 fuel: int = DEFAULT_FUEL, memory_limit: int = DEFAULT_MEMORY):
        import wasmtime
        from wasmtime import _ffi as ffi

        self.module, self.api, self.fuel = module, api, fuel
        self.params = dict(params or {})
        self.durations_us: deque[float] = deque(maxlen=STATUS_SAMPLES)   # of the last callbacks
        self.callbacks = 0
        self.store = wasmtime.Store(module.engine)
        self.store.set_limits(memory_size=memory_limit)
        self.store.set_fuel(fuel)
        self._ctx = self.store._context()
        self._failed: list[BaseException] = []
        self._keep: list = []
        linker = wasmtime.Linker(module.engine)
        no_finalizer = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(0)
        for name in HOT:
            p, r = SIGNATURES[name]
            functype = wasmtime.FuncType(_valtypes(p), _valtypes(r))
            callback = _raw_import(getattr(api, name), p, r, self._failed)
            raw = ffi.wasmtime_func_t()
            ffi.wasmtime_func_new_unchecked(self._ctx, functype.ptr(), callback, None, no_finalizer, ctypes.byref(raw))
            self._keep.extend([callback, functype])
            linker.define(self.store, "seq", name, wasmtime.Func._from_raw(raw))
        self.instance, self.functions = instantiate(linker, self.store, module, api.log, self.params, deploy=api)
        self._linker = linker
        # per callback: its function, parameter codes and a value array for arguments and result
        self._entries = {cb: (ctypes.byref(fn._func), EXPORT_TYPES[cb][0],
                              (ffi.wasmtime_val_raw_t * max(1, len(EXPORT_TYPES[cb][0])))())
                         for cb, fn in self.functions.items()}

    def call(self, callback: str, *args: int) -> bool:
        """Run *callback* if the module exports it; False if it does not. A trap, an exhausted
        fuel budget or a non-zero return raises :class:`StrategyError` naming the callback."""
        import wasmtime
        from wasmtime import _ffi as ffi

        entry = self._entries.get(callback)
        if entry is None:
            return False
        func, codes, values = entry
        for k, c in enumerate(codes):
            if c == "i":
                values[k].i32 = args[k]
            else:
                values[k].i64 = args[k]
        ffi.wasmtime_context_set_fuel(self._ctx, self.fuel)
        trap = ctypes.POINTER(ffi.wasm_trap_t)()
        t0 = time.perf_counter()
        try:
            error = ffi.wasmtime_func_call_unchecked(self._ctx, func, values, len(values), ctypes.byref(trap))
        finally:
            self.callbacks += 1
            self.durations_us.append((time.perf_counter() - t0) * 1e6)
        t = wasmtime.Trap._from_ptr(trap) if trap else None      # owns (frees) the trap
        if self._failed:
            exc = self._failed.pop()
            self._failed.clear()
            raise exc
        if t is not None:
            if t.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
                raise StrategyError(f"strategy '{self.module.name}' in {callback}: stopped after its fuel budget of "
                                    f"{self.fuel:,} instructions (an endless loop?)")
            extra = " (a Rust panic, or unreachable code)" if t.trap_code == wasmtime.TrapCode.UNREACHABLE else ""
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: trapped: {_cause(t.message)}{extra}")
        if error:
            message = str(wasmtime.WasmtimeError._from_ptr(error))
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: {_cause(message)}")
        status = values[0].i32
        if status != 0:
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: the callback returned error status {status}")
        return True

    def close(self) -> None:
        # release in dependency order, so nothing is freed twice at interpreter exit
        for attr in ("_entries", "functions", "instance", "_linker", "store"):
            if hasattr(self, attr):
                delattr(self, attr)
        self._keep.clear()
