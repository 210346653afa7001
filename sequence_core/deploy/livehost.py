"""The strategy host of a deployed edge: the same ABI v1 as the sim-engine (docs/wasm-abi.md),
with each import an ordinary Python function of the edge runtime (sequence_core/deploy/edge.py).

The backtest host enters the module from compiled code with native imports; live, the
edge's event loop drives the module and every import is a call into the edge, which
journals orders through the engine. Fuel and memory limits are the backtest's.
"""

from __future__ import annotations

import time
from typing import Protocol

from ..sim.host import DEFAULT_FUEL, DEFAULT_MEMORY, StrategyError, StrategyModule, _cause, _valtypes, instantiate

# (params, results) of every host import, "i" i32 / "I" i64 — the ABI's table; a test checks
# it against the sim-engine's native imports
SIGNATURES = {
    "now": ("", "I"), "place": ("iiIIi", "I"), "cancel": ("I", "i"), "amend": ("III", "i"), "book": ("ii", "I"),
    "position": ("i", "I"), "order": ("Ii", "I"), "set_timer": ("I", ""), "subscribe": ("i", ""),
    "log": ("iii", ""), "param": ("iiI", "I"), "place_for": ("IiiIIi", "I"), "parent_done": ("I", "i"),
    "mesh_send": ("iii", "i"), "mesh_read": ("ii", "i"), "mesh_self": ("", "i"), "mesh_size": ("", "i"),
}


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


class LiveStrategy:
    """One instance of a module whose imports call *api*; callbacks measured in µs."""

    def __init__(self, module: StrategyModule, api: HostApi, params: dict[str, int] | None = None,
                 fuel: int = DEFAULT_FUEL, memory_limit: int = DEFAULT_MEMORY):
        import wasmtime

        self.module, self.api, self.fuel = module, api, fuel
        self.params = dict(params or {})
        self.durations_us: list[float] = []        # of the last callbacks (bounded)
        self.callbacks = 0
        self.store = wasmtime.Store(module.engine)
        self.store.set_limits(memory_size=memory_limit)
        self.store.set_fuel(fuel)
        linker = wasmtime.Linker(module.engine)
        plain = {"now": api.now, "place": api.place, "cancel": api.cancel, "amend": api.amend, "book": api.book,
                 "position": api.position, "order": api.order, "set_timer": api.set_timer, "subscribe": api.subscribe}
        for name, fn in plain.items():
            p, r = SIGNATURES[name]
            linker.define_func("seq", name, wasmtime.FuncType(_valtypes(p), _valtypes(r)), fn)
        self.instance, self.functions = instantiate(linker, self.store, module, api.log, self.params, deploy=api)

    def call(self, callback: str, *args: int) -> bool:
        """Run *callback* if the module exports it; False if it does not. A trap, an exhausted
        fuel budget or a non-zero return raises :class:`StrategyError` naming the callback."""
        import wasmtime

        fn = self.functions.get(callback)
        if fn is None:
            return False
        self.store.set_fuel(self.fuel)
        t0 = time.perf_counter()
        try:
            status = fn(self.store, *args)
        except wasmtime.Trap as exc:
            if exc.trap_code == wasmtime.TrapCode.OUT_OF_FUEL:
                raise StrategyError(f"strategy '{self.module.name}' in {callback}: stopped after its fuel budget of "
                                    f"{self.fuel:,} instructions (an endless loop?)") from None
            extra = " (a Rust panic, or unreachable code)" if exc.trap_code == wasmtime.TrapCode.UNREACHABLE else ""
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: trapped: {_cause(exc.message)}{extra}") from None
        except wasmtime.WasmtimeError as exc:
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: {_cause(str(exc))}") from None
        finally:
            self.callbacks += 1
            self.durations_us.append((time.perf_counter() - t0) * 1e6)
            if len(self.durations_us) > 20_000:
                del self.durations_us[:10_000]
        if status != 0:
            raise StrategyError(f"strategy '{self.module.name}' in {callback}: the callback returned error status {status}")
        return True

    def close(self) -> None:
        for attr in ("functions", "instance", "store"):
            if hasattr(self, attr):
                delattr(self, attr)
