"""Calls through raw C function pointers from numba code.

The sim-engine's hot loop calls the strategy's WebAssembly exports
(``wasmtime_func_call_unchecked``) and the model plugins' C-ABI functions directly, without
returning to Python. Addresses are runtime arguments, so the compiled loop stays cacheable
across processes (numba cannot cache code that bakes in a ctypes global or takes a
dispatcher argument). Every argument is passed as a 64-bit integer or double; on x86-64 and
aarch64 pointers, ``size_t`` and ``int32`` travel in the same registers.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_I64 = ir.IntType(64)
_F64 = ir.DoubleType()


@intrinsic
def call2(typingctx, addr, a, b):
    """``int64 f(int64, int64)`` at *addr*."""
    sig = types.int64(types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, llargs):
        fnty = ir.FunctionType(_I64, [_I64] * 2)
        return builder.call(builder.inttoptr(llargs[0], fnty.as_pointer()), llargs[1:])

    return sig, codegen


@intrinsic
def call5(typingctx, addr, a, b, c, d, e):
    """``int64 f(int64, int64, int64, int64, int64)`` at *addr*."""
    sig = types.int64(types.int64, types.int64, types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, llargs):
        fnty = ir.FunctionType(_I64, [_I64] * 5)
        return builder.call(builder.inttoptr(llargs[0], fnty.as_pointer()), llargs[1:])

    return sig, codegen


@intrinsic
def call_q(typingctx, addr, qptr, a, b, params):
    """``void f(double* q, double a, double b, double* params)``: a queue-model entry."""
    sig = types.void(types.int64, types.int64, types.float64, types.float64, types.int64)

    def codegen(context, builder, signature, llargs):
        fnty = ir.FunctionType(ir.VoidType(), [_I64, _F64, _F64, _I64])
        fptr = builder.inttoptr(llargs[0], fnty.as_pointer())
        builder.call(fptr, llargs[1:])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def call_lat(typingctx, addr, kind, ts, inst, rng, params):
    """``int64 f(int64 kind, int64 ts, int64 inst, uint64* rng, double* params)``: a latency model."""
    sig = types.int64(types.int64, types.int64, types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, llargs):
        fnty = ir.FunctionType(_I64, [_I64] * 5)
        fptr = builder.inttoptr(llargs[0], fnty.as_pointer())
        return builder.call(fptr, llargs[1:])

    return sig, codegen


@intrinsic
def as_voidptr(typingctx, addr):
    """An int64 address as a ``void*`` (for numba's ``carray``)."""
    sig = types.voidptr(types.int64)

    def codegen(context, builder, signature, llargs):
        return builder.inttoptr(llargs[0], cgutils.voidptr_t)

    return sig, codegen
