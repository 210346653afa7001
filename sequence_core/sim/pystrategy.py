"""Python strategies for research: the same engine, models and host functions as the
WebAssembly path, with the strategy written as a Python class.

The compiled loop enters a strategy through a function pointer with the signature of
``wasmtime_func_call_unchecked``; here that pointer is a ctypes callback that dispatches to
the Python method, and the methods of :class:`Context` call the very same native host
functions a wasm module imports. A Python callback costs microseconds rather than the wasm
path's ~0.1 µs, so this is for exploring ideas; the WebAssembly path is the product.

    from sequence_core.sim.pystrategy import Strategy

    class Joiner(Strategy):
        def on_start(self, ctx):
            ctx.set_timer(100_000_000)
        def on_timer(self, ctx, now):
            bid, _, ask, _ = ctx.top(0)
            if bid and not ctx.live(self.order):
                self.order = ctx.place(0, +1, bid, 10_000_000, post_only=True)

    Sequence().backtest(Joiner(), "BTC-USDT", start="2024-08-08", end="2024-08-09")
"""

from __future__ import annotations

import ctypes
import traceback

import numpy as np

from .host import CALLBACKS, StrategyError

_CALL = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                         ctypes.c_void_p)
_FUEL = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64)


class Strategy:
    """Override the callbacks you need; prices and sizes are fixed point (× 1e9) as in the ABI.
    Set ``name`` to name the strategy in results (default: the class name)."""

    def on_start(self, ctx): ...
    def on_book(self, ctx, inst: int): ...
    def on_trade(self, ctx, inst: int, side: int, price: int, size: int): ...
    def on_fill(self, ctx, order_id: int, inst: int, side: int, price: int, size: int, maker: bool, done: bool): ...
    def on_timer(self, ctx, now: int): ...
    def on_order(self, ctx, order_id: int, event: int, status: int): ...
    def on_stop(self, ctx): ...


class Context:
    """The host functions, called exactly as a wasm module calls them (same native code)."""

    def __init__(self, env_address: int):
        from . import kernel as K

        self._env = ctypes.c_void_p(env_address)
        self._args = (ctypes.c_int64 * 12)()
        proto = ctypes.CFUNCTYPE(ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
        self._fns = {name: proto(cf.address) for name, (cf, _, _) in K.IMPORTS.items()}
        self.logs: list[tuple[str, str]] = []

    def _call(self, name: str, *values: int) -> int:
        for i, v in enumerate(values):
            self._args[2 * i] = int(v)
        self._fns[name](self._env, None, ctypes.cast(self._args, ctypes.c_void_p), len(values))
        return int(self._args[0])

    def now(self) -> int:
        return self._call("now")

    def place(self, inst: int, side: int, price: int, size: int, post_only: bool = False, ioc: bool = False,
              market: bool = False) -> int:
        """The order id (> 0), or the ABI's negative error code."""
        return self._call("place", inst, side, price, size, post_only | (ioc << 1) | (market << 2))

    def cancel(self, order_id: int) -> int:
        return self._call("cancel", order_id) if order_id else -1

    def amend(self, order_id: int, price: int, size: int) -> int:
        return self._call("amend", order_id, price, size)

    def top(self, inst: int) -> tuple[int, int, int, int]:
        """(bid, bid size, ask, ask size), 0 on an empty side."""
        return tuple(self._call("book", inst, f) for f in range(4))

    def tick(self, inst: int) -> int:
        return self._call("book", inst, 4)

    def lot(self, inst: int) -> int:
        return self._call("book", inst, 5)

    def position(self, inst: int) -> int:
        return self._call("position", inst)

    def status(self, order_id: int) -> int:
        return self._call("order", order_id, 0) if order_id else 0

    def live(self, order_id: int) -> bool:
        return self.status(order_id) in (1, 2, 3)

    def set_timer(self, interval_ns: int) -> None:
        self._call("set_timer", interval_ns)

    def subscribe(self, book: bool = False, trades: bool = False) -> None:
        self._call("subscribe", int(book) | (int(trades) << 1))

    def log(self, text: str, level: str = "info") -> None:
        self.logs.append((level, text))


class PythonHost:
    """Stands where :class:`~sequence_core.sim.host.StrategyInstance` does for a wasm module."""

    def __init__(self, strategy: Strategy, env_address: int):
        self.strategy = strategy
        self.ctx = Context(env_address)
        self.logs = self.ctx.logs
        self.error: str | None = None
        self._call = _CALL(self._dispatch)
        self._fuel = _FUEL(lambda ctx, fuel: None)
        self.call_address = ctypes.cast(self._call, ctypes.c_void_p).value
        self.set_fuel_address = ctypes.cast(self._fuel, ctypes.c_void_p).value
        self.context_address = 0
        # a callback counts as exported only when the class overrides it
        self._ids = [i + 1 if getattr(type(strategy), cb) is not getattr(Strategy, cb) else 0
                     for i, cb in enumerate(CALLBACKS)]

    def function_addresses(self) -> list[int]:
        return list(self._ids)

    def _dispatch(self, _ctx, func, raw, _n, _trap):
        args = np.ctypeslib.as_array(ctypes.cast(raw, ctypes.POINTER(ctypes.c_int64)), shape=(16,))
        a = [int(args[2 * i]) for i in range(6)]
        cb = CALLBACKS[int(func) - 1]
        s, c = self.strategy, self.ctx
        try:
            if cb == "on_start":
                s.on_start(c)
            elif cb == "on_book":
                s.on_book(c, _i32(a[0]))
            elif cb == "on_trade":
                s.on_trade(c, _i32(a[0]), _i32(a[1]), a[2], a[3])
            elif cb == "on_fill":
                flags = _i32(a[5])
                s.on_fill(c, a[0], _i32(a[1]), _i32(a[2]), a[3], a[4], bool(flags & 1), bool(flags & 2))
            elif cb == "on_timer":
                s.on_timer(c, a[0])
            elif cb == "on_order":
                s.on_order(c, a[0], _i32(a[1]), _i32(a[2]))
            else:
                s.on_stop(c)
        except Exception as exc:  # noqa: BLE001 - reported as the run's error
            last = traceback.extract_tb(exc.__traceback__)[-1]
            self.error = (f"strategy '{getattr(s, 'name', type(s).__name__)}' in {cb}: {type(exc).__name__}: {exc} "
                          f"({last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
            args[0] = 1
            return None
        args[0] = 0
        return None

    def describe(self, kind: int, pointer: int, callback: int) -> str:
        return self.error or f"strategy in {CALLBACKS[callback]}: failed"

    def close(self) -> None:
        pass


def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


__all__ = ["Strategy", "Context", "PythonHost", "StrategyError"]
