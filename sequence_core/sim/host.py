"""The WebAssembly strategy host (wasmtime), ABI version 1 (docs/wasm-abi.md).

The module's callbacks are entered from the sim-engine's compiled loop through
``wasmtime_func_call_unchecked``; the hot host imports (``place``, ``cancel``, ``amend``,
``book``, ``position``, ``order``, ``now``, ``set_timer``, ``subscribe``) are C callbacks
(numba ``cfunc``) registered with ``wasmtime_func_new_unchecked``, so one engine → wasm →
engine round trip with an order action never touches Python. ``log`` and ``param`` are
ordinary Python host functions: they are for start-up and diagnostics, not the hot path.

Every callback runs with a fuel budget (``fuel`` wasm instructions, roughly), refilled before
each call: a strategy that loops forever traps with "all fuel consumed" and the run stops
with an error naming the strategy and the callback. Linear memory is capped
(``memory_limit`` bytes); a trap becomes a :class:`StrategyError` with the callback's name.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from ..errors import SequenceError

ABI_VERSION = 1
CALLBACKS = ("on_start", "on_book", "on_trade", "on_fill", "on_timer", "on_stop", "on_order")
# parameter and result types of each export ("i" i32, "I" i64)
EXPORT_TYPES = {
    "seq_abi_version": ("", "i"),
    "on_start": ("", "i"),
    "on_book": ("i", "i"),
    "on_trade": ("iiII", "i"),
    "on_fill": ("IiiIIi", "i"),
    "on_timer": ("I", "i"),
    "on_stop": ("", "i"),
    "on_order": ("Iii", "i"),
    "on_parent": ("IiiII", "i"),
    "on_message": ("ii", "i"),
}
# callbacks only a deployment calls (a backtest has no parent orders); not in the compiled loop
DEPLOY_CALLBACKS = ("on_parent", "on_message")
# ordinary Python imports; the parent and mesh ones do something only in a deployment
PY_IMPORTS = {"log": ("iii", ""), "param": ("iiI", "I"), "place_for": ("IiiIIi", "I"), "parent_done": ("I", "i"),
              "mesh_send": ("iii", "i"), "mesh_read": ("ii", "i"), "mesh_self": ("", "i"), "mesh_size": ("", "i")}
NO_PARENT = -7                       # place_for: unknown or finished parent (always, in a backtest)
DEFAULT_FUEL = 50_000_000            # per callback
DEFAULT_MEMORY = 64 * 1024 * 1024    # bytes of linear memory
LOG_LEVELS = {0: "debug", 1: "info", 2: "warn", 3: "error"}


class StrategyError(SequenceError):
    """The strategy module is unusable or failed while running."""


def _valtypes(code: str):
    import wasmtime

    return [wasmtime.ValType.i32() if c == "i" else wasmtime.ValType.i64() for c in code]


def _sig_of(functype) -> tuple[str, str]:
    def code(types):
        out = ""
        for t in types:
            s = str(t)
            out += {"i32": "i", "i64": "I"}.get(s, "?")
        return out

    return code(functype.params), code(functype.results)


def _cause(message: str) -> str:
    """The line of a wasmtime error that says what happened (not the backtrace header)."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    for ln in lines:
        if "wasm trap:" in ln:
            return ln.split("wasm trap:", 1)[1].strip()
    return lines[-1] if lines else "unknown error"


class StrategyModule:
    """A compiled, validated strategy module (not yet instantiated)."""

    def __init__(self, path: Path, name: str | None = None, data: bytes | None = None):
        """From a file, or from *data* (a bundle's payload; *path* then only names it)."""
        import wasmtime

        self.path = Path(path)
        self.name = name or self.path.stem
        if data is None:
            try:
                data = self.path.read_bytes()
            except OSError as exc:
                raise StrategyError(f"cannot read strategy module {self.path}: {exc.strerror}") from None
        if data[:4] != b"\0asm":
            raise StrategyError(f"{self.path} is not a WebAssembly module (it does not start with \\0asm); "
                                "build one with `sequence build`")
        self.bytes = data
        config = wasmtime.Config()
        config.consume_fuel = True
        self.engine = wasmtime.Engine(config)
        try:
            self.module = wasmtime.Module(self.engine, data)
        except wasmtime.WasmtimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise StrategyError(f"{self.path} is not a valid WebAssembly module: {first}") from None
        self._validate()

    def _validate(self) -> None:
        exports = {e.name: e.type for e in self.module.exports}
        if "seq_abi_version" not in exports:
            raise StrategyError(f"strategy '{self.name}' ({self.path.name}) lacks the export seq_abi_version: "
                                "it was not built with the Sequence strategy SDK (see docs/wasm-abi.md)")
        for name, (params, results) in EXPORT_TYPES.items():
            if name not in exports:
                continue
            functype = exports[name]
            if not hasattr(functype, "params"):
                raise StrategyError(f"strategy '{self.name}': export {name} is not a function")
            got = _sig_of(functype)
            if got != (params, results):
                raise StrategyError(f"strategy '{self.name}': export {name} has signature ({got[0]}) -> ({got[1]}), "
                                    f"ABI v{ABI_VERSION} needs ({params}) -> ({results}) (i = i32, I = i64)")
        if not any(cb in exports for cb in CALLBACKS + DEPLOY_CALLBACKS):
            raise StrategyError(f"strategy '{self.name}' exports none of the callbacks "
                                f"{', '.join(CALLBACKS + DEPLOY_CALLBACKS)}")
        if "memory" not in exports:
            raise StrategyError(f"strategy '{self.name}' does not export its memory")
        from .kernel import IMPORTS

        for imp in self.module.imports:
            if imp.module != "seq":
                raise StrategyError(f"strategy '{self.name}' imports {imp.module}.{imp.name}; only the 'seq' "
                                    f"host functions exist (ABI v{ABI_VERSION}, docs/wasm-abi.md)")
            known = IMPORTS.get(imp.name)
            want = (known[1], known[2]) if known else PY_IMPORTS.get(imp.name)
            if want is None:
                raise StrategyError(f"strategy '{self.name}' imports unknown host function seq.{imp.name}; "
                                    f"ABI v{ABI_VERSION} has {', '.join(sorted([*IMPORTS, *PY_IMPORTS]))}")
            got = _sig_of(imp.type)
            if got != want:
                raise StrategyError(f"strategy '{self.name}': import seq.{imp.name} declared ({got[0]}) -> ({got[1]}), "
                                    f"ABI v{ABI_VERSION} has ({want[0]}) -> ({want[1]})")
        self.exports = set(exports)

    def sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.bytes).hexdigest()


def read_bytes(caller, ptr: int, length: int) -> bytes | None:
    """The bytes the module passed as (pointer, length), or None when outside its memory."""
    memory = caller["memory"]
    if length < 0 or ptr < 0 or ptr + length > memory.data_len(caller):
        return None
    return bytes(memory.read(caller, ptr, ptr + length))


def read_str(caller, ptr: int, length: int) -> str:
    """A UTF-8 string the module passed as (pointer, length) into its memory."""
    data = read_bytes(caller, ptr, length) if length <= 65536 else None
    return "<invalid string>" if data is None else data.decode("utf-8", "replace")


class NoDeployment:
    """What the deployment-only imports answer in a backtest: no parent, a mesh of one."""

    def place_for(self, *_) -> int:
        return NO_PARENT

    def parent_done(self, _) -> int:
        return -1

    def mesh_send(self, peer: int, data: bytes) -> int:
        return -1

    def mesh_message(self) -> bytes | None:
        return None

    def mesh_self(self) -> int:
        return 0

    def mesh_size(self) -> int:
        return 1


def instantiate(linker, store, module: "StrategyModule", log, params: dict[str, int], deploy=None):
    """Add the Python imports (``log(level, text)``, ``param`` from *params*, and the parent
    and mesh imports of *deploy*, a deployment's edge; a :class:`NoDeployment` without it) to
    *linker*, instantiate *module*, check its ABI version; returns (instance, {callback: function})."""
    import wasmtime

    d = deploy or NoDeployment()

    def mesh_send(caller, peer, ptr, n):
        data = read_bytes(caller, ptr, n)
        return -3 if data is None else d.mesh_send(peer, data)

    def mesh_read(caller, ptr, cap):
        data, memory = d.mesh_message(), caller["memory"]
        if data is None:
            return -1
        n = min(len(data), max(cap, 0))
        if ptr < 0 or ptr + n > memory.data_len(caller):
            return -3
        memory.write(caller, data[:n], ptr)
        return n

    def define(name, fn, access_caller=False):
        p, r = PY_IMPORTS[name]
        linker.define_func("seq", name, wasmtime.FuncType(_valtypes(p), _valtypes(r)), fn, access_caller=access_caller)

    define("log", lambda caller, level, ptr, n: log(LOG_LEVELS.get(level, "info"), read_str(caller, ptr, n)), True)
    define("param", lambda caller, ptr, n, default: params.get(read_str(caller, ptr, n), default), True)
    define("place_for", d.place_for)
    define("parent_done", d.parent_done)
    define("mesh_send", mesh_send, True)
    define("mesh_read", mesh_read, True)
    define("mesh_self", d.mesh_self)
    define("mesh_size", d.mesh_size)
    try:
        instance = linker.instantiate(store, module.module)
    except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
        raise StrategyError(f"strategy '{module.name}' could not start: {str(exc).splitlines()[0]}") from None
    exports = instance.exports(store)
    version = exports["seq_abi_version"](store)
    if version != ABI_VERSION:
        raise StrategyError(f"strategy '{module.name}' was built for ABI v{version}; this host runs "
                            f"v{ABI_VERSION} (rebuild it with `sequence build`)")
    return instance, {cb: exports[cb] for cb in CALLBACKS + DEPLOY_CALLBACKS if cb in module.exports}


class StrategyInstance:
    """A running instance: store, linker, memory and the addresses the compiled loop needs."""

    def __init__(self, module: StrategyModule, env_address: int, params: dict[str, int] | None = None,
                 fuel: int = DEFAULT_FUEL, memory_limit: int = DEFAULT_MEMORY, log=None):
        import wasmtime
        from wasmtime import _ffi as ffi

        from .kernel import IMPORTS

        self.module = module
        self.fuel = fuel
        self.params = dict(params or {})
        self.logs: list[tuple[str, str]] = []
        self._log = log
        self.store = wasmtime.Store(module.engine)
        self.store.set_limits(memory_size=memory_limit)
        self.store.set_fuel(fuel)
        linker = wasmtime.Linker(module.engine)
        ctx = self.store._context()
        self._keep = []
        for name, (cf, params_code, results_code) in IMPORTS.items():
            functype = wasmtime.FuncType(_valtypes(params_code), _valtypes(results_code))
            raw = ffi.wasmtime_func_t()
            callback = ffi.wasmtime_func_unchecked_callback_t(cf.address)
            finalizer = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(0)
            ffi.wasmtime_func_new_unchecked(ctx, functype.ptr(), callback, ctypes.c_void_p(env_address),
                                            finalizer, ctypes.byref(raw))
            self._keep.extend([callback, functype])
            linker.define(self.store, "seq", name, wasmtime.Func._from_raw(raw))
        self.instance, self.functions = instantiate(linker, self.store, module, self._on_log, self.params)
        self._linker = linker
        self.context_address = ctypes.cast(ctx, ctypes.c_void_p).value
        self.call_address = ctypes.cast(ffi.dll.wasmtime_func_call_unchecked, ctypes.c_void_p).value
        self.set_fuel_address = ctypes.cast(ffi.dll.wasmtime_context_set_fuel, ctypes.c_void_p).value

    # -- Python host functions ----------------------------------------------------------------
    def _on_log(self, level: str, text: str) -> None:
        entry = (level, text)
        if len(self.logs) < 100_000:
            self.logs.append(entry)
        if self._log is not None:
            self._log(*entry)

    # -- the compiled loop's view ---------------------------------------------------------------
    def function_addresses(self) -> list[int]:
        return [ctypes.addressof(self.functions[cb]._func) if cb in self.functions else 0 for cb in CALLBACKS]

    def describe(self, kind: int, pointer: int, callback: int) -> str:
        """The message for an error the loop reported (ERR_* kind with its pointer)."""
        import wasmtime
        from wasmtime import _ffi as ffi

        from .kernel import ERR_RETURN, ERR_TRAP

        where = f"strategy '{self.module.name}' in {CALLBACKS[callback]}"
        if kind == ERR_RETURN:
            return f"{where}: the callback returned error status {pointer}"
        if kind == ERR_TRAP:
            trap = wasmtime.Trap._from_ptr(ctypes.cast(pointer, ctypes.POINTER(ffi.wasm_trap_t)))
            code = trap.trap_code
            message = _cause(trap.message)
        else:
            err = wasmtime.WasmtimeError._from_ptr(ctypes.cast(pointer, ctypes.POINTER(ffi.wasmtime_error_t)))
            code = None
            message = _cause(str(err))
        if code == wasmtime.TrapCode.OUT_OF_FUEL or "fuel" in message:
            return (f"{where}: stopped after its fuel budget of {self.fuel:,} instructions "
                    "(an endless loop?); the run was stopped")
        if code == wasmtime.TrapCode.UNREACHABLE:
            message += " (a Rust panic, or unreachable code)"
        return f"{where}: trapped: {message}"

    def close(self) -> None:
        # release in dependency order, so nothing is freed twice at interpreter exit
        for attr in ("functions", "instance", "_linker", "store"):
            if hasattr(self, attr):
                delattr(self, attr)
        self._keep.clear()
