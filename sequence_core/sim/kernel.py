"""The sim-engine's hot loop (numba, cached across processes).

Two clocks walk one event array in receive order: the *exchange* cursor applies each event to
the exchange's book at its exchange time and matches the strategy's resting orders against
it; the *local* cursor applies it to the strategy's view at its local (feed) time. Order
requests travel local → exchange with the latency model's entry/modify/cancel latencies;
acknowledgements and fills travel back with its response latency. The loop calls the
strategy's WebAssembly exports directly (``native.call5`` on
``wasmtime_func_call_unchecked``) only at decision points: timers, fills and order updates,
and, when the strategy subscribed, top-of-book changes and trades. See
docs/backtest-assumptions.md for every modelling choice made here.

All state lives in numpy arrays owned by :mod:`sequence_core.sim.engine`, so the loop can
return to Python (progress, log flushing, the next partition) and resume exactly.
"""

import numpy as np
from numba import carray, cfunc, njit, types

from .native import as_voidptr, call2, call5, call_lat, call_q

INF = np.int64(9_223_372_036_854_775_807)

# -- event kinds ---------------------------------------------------------------------------
EV_DEPTH = 0
EV_TRADE = 1
EV_CLEAR = 2          # first row of a snapshot: clear that instrument's book, then set the level
END_OF_MESSAGE = 1    # flags bit: the book is consistent after this row

# -- scalar state S[...] ---------------------------------------------------------------------
S_NOW = 0             # local clock (what the strategy's now() reads)
S_EXCH_NOW = 1
S_NEXT_ID = 2
S_TIMER_INTERVAL = 3
S_TIMER_NEXT = 4
S_NREQ = 5
S_NEXT_REQ = 6
S_NRSP = 7
S_NEXT_RSP = 8
S_NFILLS = 9
S_NORDLOG = 10
S_ERR = 11            # error kind (ERR_*)
S_ERR_CB = 12         # callback index it happened in
S_ERR_PTR = 13        # wasmtime_error_t* or wasm_trap_t*
S_NINST = 14
S_E = 15              # exchange cursor
S_L = 16              # local cursor
S_LAST_LOCAL = 17
S_LAST_EXCH = 18
S_FEED_RECORDED = 19  # 1: the strategy sees events at their recorded receive time
S_RNG = 20            # 2 words of xorshift128+ state for the latency model
S_NRESTING = 22
S_CALLS = 23
S_SUBMITS = 24
S_CANCELS = 25
S_AMENDS = 26
S_REJECTS = 27
S_NPNL = 28
S_PNL_NEXT = 29
S_PNL_INTERVAL = 30
S_CAP = 31            # order table capacity
S_FUEL = 32
S_STARTED = 33
S_SUBSCRIBED = 34     # bit 0 book, bit 1 trades
S_NACT = 35
S_OUT_OF_RANGE = 36
S_PARTIAL = 37        # 1: partial fills allowed
S_FILLCAP = 38
S_ORDLOGCAP = 39
S_PNLCAP = 40
S_ACTCAP = 41
S_REQCAP = 42
S_FILLS = 43
S_END_TS = 44         # replay stops at this local time (end of the window)
S_STOPPED = 45
S_FEED_LAT_CALLS = 46
S_DONE_HEAD = 47      # finished orders order() still answers for: a list through O_DONE_NEXT,
S_DONE_TAIL = 48      # oldest (head) to newest (tail), at most KEEP_DONE long
S_NDONE = 49
S_SIZE = 64

# float state F[...]
F_CASH = 0
F_FEES = 1
F_VOLUME = 2
F_MAKER_VOLUME = 3
F_TAKER_VOLUME = 4
F_SIZE = 8

# instrument table I[inst, ...]
I_TICK = 0
I_LOT = 1
I_BASE = 2            # price in ticks of book index 0
I_NLEV = 3
I_OFF = 4             # offset of its levels in the flattened books
I_RESTING = 5         # resting orders of ours on it
I_MIN_NOTIONAL = 6    # the venue's minimum order notional, fixed point 1e9 in the quote (0: none)
I_SIZE = 8

# best levels B[inst, ...] (book index, -1 = empty side)
B_XBID = 0
B_XASK = 1
B_LBID = 2
B_LASK = 3
B_LBIDQ = 4           # last top seen by the strategy (for change detection)
B_LASKQ = 5
B_LBIDP = 6
B_LASKP = 7
B_SIZE = 8

# per-instrument stats IS[inst, ...] (floats)
IS_CASH = 0
IS_FEES = 1
IS_VOLUME = 2
IS_MAKER = 3
IS_TAKER = 4
IS_FILLS = 5
IS_SIZE = 8

# order table O[slot, ...]
O_ID = 0              # 0 never used, -1 freed
O_INST = 1
O_SIDE = 2
O_PRICE = 3
O_QTY = 4
O_LEAVES = 5          # exchange view
O_FILLED = 6          # exchange view
O_STATUS = 7          # strategy view (ST_*)
O_FLAGS = 8
O_XSTATE = 9          # 0 in flight, 1 resting, 2 done, 3 done and every report delivered
O_TS_SENT = 10
O_PIDX = 11
O_LFILLED = 12        # strategy view
O_CANCEL_SENT = 13
O_TS_DONE = 14
O_XSTATUS = 15
O_LAST_RSP = 16       # delivery time of its latest report: the next is delivered no earlier
O_INFLIGHT = 17       # its requests and reports still travelling
O_DONE_NEXT = 18      # the next newer finished order (slot) kept for order(), -1 none
O_LAST_REQ = 19       # arrival time of its latest request: the next arrives no earlier
O_SIZE = 20

# the last KEEP_DONE finished orders keep answering order() with their final status, as the
# deployed edge does (sequence_core/deploy/edge.py KEEP_DONE); older ones read 0, "long done"
KEEP_DONE = 256

ST_PENDING = 1
ST_OPEN = 2
ST_PARTIAL = 3
ST_FILLED = 4
ST_CANCELED = 5
ST_REJECTED = 6

FLAG_POST_ONLY = 1
FLAG_IOC = 2
FLAG_MARKET = 4

# actions queued by the host imports during a callback: A[k, ...]
A_TYPE = 0
A_ID = 1
A_PRICE = 2
A_QTY = 3
A_SIZE = 4
ACT_NEW = 1
ACT_CANCEL = 2
ACT_AMEND = 3

# requests in flight to the exchange R[k, ...], responses in flight to the strategy P[k, ...]
R_TS = 0
R_TYPE = 1
R_ID = 2
R_PRICE = 3
R_QTY = 4
R_SIZE = 5
P_TS = 0
P_TYPE = 1
P_ID = 2
P_PRICE = 3
P_QTY = 4
P_FLAGS = 5
P_SIZE = 6
RSP_ACK = 1
RSP_REJECT = 2
RSP_FILL = 3
RSP_CANCELED = 4
RSP_AMENDED = 5
RSP_CANCEL_REJECT = 6

# fill log FL[k, ...]
FL_TS = 0
FL_ID = 1
FL_INST = 2
FL_SIDE = 3
FL_PRICE = 4
FL_QTY = 5
FL_MAKER = 6
FL_SIZE = 7

# order log OL[k, ...] (one row per order when it is done at the exchange)
OL_ID = 0
OL_INST = 1
OL_SIDE = 2
OL_PRICE = 3
OL_QTY = 4
OL_FILLED = 5
OL_STATUS = 6
OL_TS_SENT = 7
OL_TS_DONE = 8
OL_SIZE = 9

# latency kinds (the latency model ABI)
LAT_FEED = 0
LAT_ENTRY = 1
LAT_MODIFY = 2
LAT_CANCEL = 3
LAT_RESPONSE = 4

# strategy callbacks (index into the function table)
CB_START = 0
CB_BOOK = 1
CB_TRADE = 2
CB_FILL = 3
CB_TIMER = 4
CB_STOP = 5
CB_ORDER = 6
N_CALLBACKS = 7

# call table C[...]: addresses the loop needs to enter the strategy and the models
C_CALL = 0            # wasmtime_func_call_unchecked
C_SET_FUEL = 1        # wasmtime_context_set_fuel
C_CTX = 2             # wasmtime_context_t*
C_RAW = 3             # wasmtime_val_raw_t[8] argument buffer
C_Q_DEPTH = 4         # queue model: void depth(double* q, double prev, double new, double* params)
C_Q_TRADE = 5         # queue model: void trade(double* q, double qty, double _, double* params)
C_Q_PARAMS = 6
C_LAT = 7             # latency model: int64 latency(kind, ts, inst, uint64* rng, double* params)
C_LAT_PARAMS = 8
C_RNG = 9             # address of S[S_RNG]
C_SIZE = 16

# loop exit codes
RUN_NEED_DATA = 0     # the exchange cursor reached the end of the events it was given
RUN_LIMIT = 1         # processed the requested number of events (progress)
RUN_FLUSH = 2         # a log is full: copy it out and resume
RUN_ERROR = 3         # the strategy trapped, ran out of fuel or returned an error
RUN_DONE = 4          # the window is over and on_stop has run

ERR_NONE = 0
ERR_TRAP = 1          # S_ERR_PTR is a wasm_trap_t*
ERR_WASMTIME = 2      # S_ERR_PTR is a wasmtime_error_t*
ERR_RETURN = 3        # the callback returned a non-zero status (in S_ERR_PTR)


# ---------------------------------------------------------------------------------------------
# small helpers


@njit(cache=True, inline="always", error_model="numpy")
def _xorshift(S):
    s1 = np.uint64(S[S_RNG])
    s0 = np.uint64(S[S_RNG + 1])
    S[S_RNG] = np.int64(s0)
    s1 ^= s1 << np.uint64(23)
    s1 = s1 ^ s0 ^ (s1 >> np.uint64(17)) ^ (s0 >> np.uint64(26))
    S[S_RNG + 1] = np.int64(s1)
    return s1 + s0


@njit(cache=True, error_model="numpy")
def order_slot(O, oid):
    """The slot of order *oid*, or -1 (open addressing from oid % capacity)."""
    cap = O.shape[0]
    k = oid % cap
    for _ in range(cap):
        v = O[k, O_ID]
        if v == oid:
            return k
        if v == 0:
            return -1
        k += 1
        if k == cap:
            k = 0
    return -1


@njit(cache=True, error_model="numpy")
def _free_slot(O, oid):
    cap = O.shape[0]
    k = oid % cap
    for _ in range(cap):
        if O[k, O_ID] <= 0:
            return k
        k += 1
        if k == cap:
            k = 0
    return -1


@njit(cache=True, inline="always", error_model="numpy")
def _latency(C, kind, ts, inst):
    if C[C_LAT] == 0:
        return np.int64(0)
    v = call_lat(C[C_LAT], kind, ts, inst, C[C_RNG], C[C_LAT_PARAMS])
    return v if v > 0 else np.int64(0)


@njit(cache=True, error_model="numpy")
def _push_request(S, R, ts, typ, oid, price, qty):
    n = S[S_NREQ]
    if n >= R.shape[0]:
        return False
    R[n, R_TS] = ts
    R[n, R_TYPE] = typ
    R[n, R_ID] = oid
    R[n, R_PRICE] = price
    R[n, R_QTY] = qty
    S[S_NREQ] = n + 1
    if ts < S[S_NEXT_REQ]:
        S[S_NEXT_REQ] = ts
    return True


@njit(cache=True, error_model="numpy")
def _push_response(S, P, ts, typ, oid, price, qty, flags):
    n = S[S_NRSP]
    if n >= P.shape[0]:
        return False
    P[n, P_TS] = ts
    P[n, P_TYPE] = typ
    P[n, P_ID] = oid
    P[n, P_PRICE] = price
    P[n, P_QTY] = qty
    P[n, P_FLAGS] = flags
    S[S_NRSP] = n + 1
    if ts < S[S_NEXT_RSP]:
        S[S_NEXT_RSP] = ts
    return True


@njit(cache=True, error_model="numpy")
def _respond(S, O, P, k, ts, typ, price, qty, flags):
    """Send order *k*'s next report to the strategy. Each report draws its own latency, but
    one order's reports arrive in the order the exchange produced them (as a venue's order
    stream does): never before the previous report of the same order."""
    last = O[k, O_LAST_RSP]
    t = ts if ts > last else last
    if _push_response(S, P, t, typ, O[k, O_ID], price, qty, flags):
        O[k, O_LAST_RSP] = t
        O[k, O_INFLIGHT] += 1


@njit(cache=True, error_model="numpy")
def _retire(S, O, k):
    """The strategy has had every report of finished order *k*: keep it answering order()
    among the last KEEP_DONE finished, and free the slot of the oldest beyond that."""
    O[k, O_XSTATE] = 3
    O[k, O_DONE_NEXT] = -1
    if S[S_NDONE] == 0:
        S[S_DONE_HEAD] = k
    else:
        O[S[S_DONE_TAIL], O_DONE_NEXT] = k
    S[S_DONE_TAIL] = k
    S[S_NDONE] += 1
    if S[S_NDONE] > KEEP_DONE:
        h = S[S_DONE_HEAD]
        S[S_DONE_HEAD] = O[h, O_DONE_NEXT]
        O[h, O_ID] = -1
        S[S_NDONE] -= 1


@njit(cache=True, error_model="numpy")
def _pop_earliest(Q, n_index, next_index, S, out):
    """Remove the earliest entry (first in insertion order among equal times) into *out*."""
    n = S[n_index]
    best = 0
    for k in range(1, n):
        if Q[k, 0] < Q[best, 0]:
            best = k
    for j in range(Q.shape[1]):
        out[j] = Q[best, j]
    for k in range(best, n - 1):
        for j in range(Q.shape[1]):
            Q[k, j] = Q[k + 1, j]
    n -= 1
    S[n_index] = n
    nxt = INF
    for k in range(n):
        if Q[k, 0] < nxt:
            nxt = Q[k, 0]
    S[next_index] = nxt


# ---------------------------------------------------------------------------------------------
# books


@njit(cache=True, error_model="numpy")
def _book_clear(I, B, bid, ask, inst, xside):
    off = I[inst, I_OFF]
    nlev = I[inst, I_NLEV]
    bid[off:off + nlev] = 0
    ask[off:off + nlev] = 0
    if xside == 0:
        B[inst, B_XBID] = -1
        B[inst, B_XASK] = -1
    else:
        B[inst, B_LBID] = -1
        B[inst, B_LASK] = -1


# ---------------------------------------------------------------------------------------------
# the exchange: fills, order arrival, cancels, amends


@njit(cache=True, error_model="numpy")
def _record_fill(S, F, IS, O, FL, P, IPOS, IFEE, C, k, price, qty, maker):
    inst = O[k, O_INST]
    side = O[k, O_SIDE]
    O[k, O_LEAVES] -= qty
    O[k, O_FILLED] += qty
    notional = (price / 1e9) * (qty / 1e9)
    rate = IFEE[inst, 0] if maker else IFEE[inst, 1]
    fee = notional * rate
    F[F_CASH] -= side * notional + fee
    F[F_FEES] += fee
    F[F_VOLUME] += notional
    IS[inst, IS_CASH] -= side * notional + fee
    IS[inst, IS_FEES] += fee
    IS[inst, IS_VOLUME] += notional
    IS[inst, IS_FILLS] += 1
    if maker:
        F[F_MAKER_VOLUME] += notional
        IS[inst, IS_MAKER] += notional
    else:
        F[F_TAKER_VOLUME] += notional
        IS[inst, IS_TAKER] += notional
    IPOS[inst, 0] += side * qty
    S[S_FILLS] += 1
    n = S[S_NFILLS]
    FL[n, FL_TS] = S[S_EXCH_NOW]
    FL[n, FL_ID] = O[k, O_ID]
    FL[n, FL_INST] = inst
    FL[n, FL_SIDE] = side
    FL[n, FL_PRICE] = price
    FL[n, FL_QTY] = qty
    FL[n, FL_MAKER] = 1 if maker else 0
    S[S_NFILLS] = n + 1
    done = 1 if O[k, O_LEAVES] <= 0 else 0
    _respond(S, O, P, k, S[S_EXCH_NOW] + _latency(C, LAT_RESPONSE, S[S_EXCH_NOW], inst), RSP_FILL,
             price, qty, (1 if maker else 0) | (2 * done))


@njit(cache=True, error_model="numpy")
def _order_done(S, I, O, OL, RL, k, status):
    if O[k, O_XSTATE] == 1:
        inst = O[k, O_INST]
        I[inst, I_RESTING] -= 1
        n = S[S_NRESTING]
        for j in range(n):
            if RL[j] == k:
                RL[j] = RL[n - 1]
                S[S_NRESTING] = n - 1
                break
    O[k, O_XSTATE] = 2
    O[k, O_XSTATUS] = status
    O[k, O_TS_DONE] = S[S_EXCH_NOW]
    m = S[S_NORDLOG]
    OL[m, OL_ID] = O[k, O_ID]
    OL[m, OL_INST] = O[k, O_INST]
    OL[m, OL_SIDE] = O[k, O_SIDE]
    OL[m, OL_PRICE] = O[k, O_PRICE]
    OL[m, OL_QTY] = O[k, O_QTY]
    OL[m, OL_FILLED] = O[k, O_FILLED]
    OL[m, OL_STATUS] = status
    OL[m, OL_TS_SENT] = O[k, O_TS_SENT]
    OL[m, OL_TS_DONE] = S[S_EXCH_NOW]
    S[S_NORDLOG] = m + 1


@njit(cache=True, error_model="numpy")
def _rest(S, I, O, OQ, RL, xbid, xask, k):
    inst = O[k, O_INST]
    off = I[inst, I_OFF]
    pidx = O[k, O_PIDX]
    level = xbid[off + pidx] if O[k, O_SIDE] > 0 else xask[off + pidx]
    OQ[k, 0] = level / 1e9          # queue ahead of us: everything already at the level
    OQ[k, 1] = 0.0                  # traded at the level since the last depth update
    O[k, O_XSTATE] = 1
    I[inst, I_RESTING] += 1
    RL[S[S_NRESTING]] = k
    S[S_NRESTING] += 1


@njit(cache=True, error_model="numpy")
def _take(S, F, I, B, IS, O, FL, P, IPOS, IFEE, C, xbid, xask, k):
    """Fill order *k* as a taker against the exchange book up to its limit; returns leaves."""
    inst = O[k, O_INST]
    off = I[inst, I_OFF]
    tick = I[inst, I_TICK]
    base = I[inst, I_BASE]
    nlev = I[inst, I_NLEV]
    side = O[k, O_SIDE]
    market = (O[k, O_FLAGS] & FLAG_MARKET) != 0
    if side > 0:
        j = B[inst, B_XASK]
        while j >= 0 and j < nlev and O[k, O_LEAVES] > 0 and (market or j <= O[k, O_PIDX]):
            q = xask[off + j]
            if q > 0:
                fill = min(q, O[k, O_LEAVES])
                _record_fill(S, F, IS, O, FL, P, IPOS, IFEE, C, k, (base + j) * tick, fill, False)
            j += 1
    else:
        j = B[inst, B_XBID]
        while j >= 0 and O[k, O_LEAVES] > 0 and (market or j >= O[k, O_PIDX]):
            q = xbid[off + j]
            if q > 0:
                fill = min(q, O[k, O_LEAVES])
                _record_fill(S, F, IS, O, FL, P, IPOS, IFEE, C, k, (base + j) * tick, fill, False)
            j -= 1
    return O[k, O_LEAVES]


@njit(cache=True, inline="always", error_model="numpy")
def _crosses(I, B, O, k):
    inst = O[k, O_INST]
    if O[k, O_SIDE] > 0:
        a = B[inst, B_XASK]
        return a >= 0 and a <= O[k, O_PIDX]
    b = B[inst, B_XBID]
    return b >= 0 and b >= O[k, O_PIDX]


@njit(cache=True, error_model="numpy")
def _under_minimum(I, B, O, k, market):
    """Under the venue's minimum notional at its limit price (a market order: at the touch it
    would take)."""
    inst = O[k, O_INST]
    minimum = I[inst, I_MIN_NOTIONAL]
    if minimum <= 0:
        return False
    j = O[k, O_PIDX]
    if market:
        j = B[inst, B_XASK] if O[k, O_SIDE] > 0 else B[inst, B_XBID]
        if j < 0:
            return False
    price = (I[inst, I_BASE] + j) * I[inst, I_TICK]
    return (price / 1e9) * (O[k, O_QTY] / 1e9) < minimum / 1e9


@njit(cache=True, error_model="numpy")
def _arrive_new(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, xbid, xask, k):
    inst = O[k, O_INST]
    now = S[S_EXCH_NOW]
    rsp = now + _latency(C, LAT_RESPONSE, now, inst)
    flags = O[k, O_FLAGS]
    market = (flags & FLAG_MARKET) != 0
    if _under_minimum(I, B, O, k, market):
        # the venue refuses it, as a deployment's order is refused (on_order event 2)
        _order_done(S, I, O, OL, RL, k, ST_REJECTED)
        S[S_REJECTS] += 1
        _respond(S, O, P, k, rsp, RSP_REJECT, 0, 0, 0)
        return
    if market or _crosses(I, B, O, k):
        if (flags & FLAG_POST_ONLY) != 0:
            _order_done(S, I, O, OL, RL, k, ST_REJECTED)
            S[S_REJECTS] += 1
            _respond(S, O, P, k, rsp, RSP_REJECT, 0, 0, 1)
            return
        _respond(S, O, P, k, rsp, RSP_ACK, 0, 0, 0)
        leaves = _take(S, F, I, B, IS, O, FL, P, IPOS, IFEE, C, xbid, xask, k)
        if leaves <= 0:
            _order_done(S, I, O, OL, RL, k, ST_FILLED)
            return
        if market or (flags & FLAG_IOC) != 0:
            _order_done(S, I, O, OL, RL, k, ST_CANCELED)
            _respond(S, O, P, k, rsp, RSP_CANCELED, 0, 0, 0)
            return
        _rest(S, I, O, OQ, RL, xbid, xask, k)
        return
    if (flags & FLAG_IOC) != 0:
        _order_done(S, I, O, OL, RL, k, ST_CANCELED)
        _respond(S, O, P, k, rsp, RSP_ACK, 0, 0, 0)
        _respond(S, O, P, k, rsp, RSP_CANCELED, 0, 0, 0)
        return
    _rest(S, I, O, OQ, RL, xbid, xask, k)
    _respond(S, O, P, k, rsp, RSP_ACK, 0, 0, 0)


@njit(cache=True, error_model="numpy")
def _arrive_request(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, xbid, xask, req):
    oid = req[R_ID]
    k = order_slot(O, oid)
    if k < 0:
        return
    O[k, O_INFLIGHT] -= 1
    now = S[S_EXCH_NOW]
    inst = O[k, O_INST]
    rsp = now + _latency(C, LAT_RESPONSE, now, inst)
    typ = req[R_TYPE]
    if typ == ACT_NEW:
        _arrive_new(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, xbid, xask, k)
    elif typ == ACT_CANCEL:
        if O[k, O_XSTATE] == 1:
            _order_done(S, I, O, OL, RL, k, ST_CANCELED)
            _respond(S, O, P, k, rsp, RSP_CANCELED, 0, 0, 0)
        else:   # already filled or gone: the cancel lost the race
            _respond(S, O, P, k, rsp, RSP_CANCEL_REJECT, 0, 0, 0)
    elif typ == ACT_AMEND:
        if O[k, O_XSTATE] != 1:
            _respond(S, O, P, k, rsp, RSP_CANCEL_REJECT, 0, 0, 0)
            return
        new_price = req[R_PRICE]
        new_qty = req[R_QTY]
        tick = I[inst, I_TICK]
        new_pidx = new_price // tick - I[inst, I_BASE]
        if new_pidx < 0 or new_pidx >= I[inst, I_NLEV] or new_qty <= O[k, O_FILLED]:
            _respond(S, O, P, k, rsp, RSP_CANCEL_REJECT, 0, 0, 0)
            return
        keep_priority = new_pidx == O[k, O_PIDX] and new_qty <= O[k, O_QTY]
        old_pidx = O[k, O_PIDX]
        O[k, O_PIDX] = new_pidx
        if (O[k, O_FLAGS] & FLAG_POST_ONLY) != 0 and _crosses(I, B, O, k):
            O[k, O_PIDX] = old_pidx           # a post-only amend that would cross is refused
            _respond(S, O, P, k, rsp, RSP_CANCEL_REJECT, 0, 0, 0)
            return
        O[k, O_PRICE] = new_price
        O[k, O_LEAVES] = new_qty - O[k, O_FILLED]
        O[k, O_QTY] = new_qty
        _respond(S, O, P, k, rsp, RSP_AMENDED, new_price, new_qty, 0)
        if not keep_priority:
            # moves to the back of the queue at its (new) level
            I[inst, I_RESTING] -= 1
            n = S[S_NRESTING]
            for j in range(n):
                if RL[j] == k:
                    RL[j] = RL[n - 1]
                    S[S_NRESTING] = n - 1
                    break
            if _crosses(I, B, O, k):
                leaves = _take(S, F, I, B, IS, O, FL, P, IPOS, IFEE, C, xbid, xask, k)
                if leaves <= 0:
                    O[k, O_XSTATE] = 0
                    _order_done(S, I, O, OL, RL, k, ST_FILLED)
                    return
            _rest(S, I, O, OQ, RL, xbid, xask, k)


@njit(cache=True, error_model="numpy")
def _fill_resting(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, k, qty):
    price = O[k, O_PRICE]
    fill = min(qty, O[k, O_LEAVES])
    if fill <= 0:
        return
    _record_fill(S, F, IS, O, FL, P, IPOS, IFEE, C, k, price, fill, True)
    if O[k, O_LEAVES] <= 0:
        _order_done(S, I, O, OL, RL, k, ST_FILLED)


@njit(cache=True, error_model="numpy")
def _queue_fill(S, I, O, OQ, k):
    """How much of resting order *k* the queue model says is filled now (0 if none)."""
    lot = I[O[k, O_INST], I_LOT] / 1e9
    behind = OQ[k, 0]
    if behind < -1e18:
        return O[k, O_LEAVES]          # a model that fills on touch
    # filled once more than half a lot has traded beyond the queue ahead: round(front/lot) < 0,
    # the rule of hftbacktest 2.4.4 (the comparison at 1e7 events shows it); partial fills
    # take the rounded number of lots
    lots = np.round(-behind / lot)
    if lots < 1.0:
        return np.int64(0)
    if S[S_PARTIAL] == 0:
        return O[k, O_LEAVES]
    return np.int64(lots * lot * 1e9 + 0.5)


@njit(cache=True, error_model="numpy")
def _match_trade(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, inst, side, pidx, size):
    """A trade printed at level *pidx*: fill resting orders it went through, advance the
    queue of those at its price. (Called only when a resting order is at or behind it.)"""
    j = 0
    while j < S[S_NRESTING]:
        k = RL[j]
        j += 1
        if O[k, O_INST] != inst or O[k, O_SIDE] == side:
            continue        # a buy-aggressor trade fills resting sells, and vice versa
        opidx = O[k, O_PIDX]
        through = (opidx > pidx) if O[k, O_SIDE] > 0 else (opidx < pidx)
        if through:
            before = S[S_NRESTING]
            _fill_resting(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, k, O[k, O_LEAVES])
            if S[S_NRESTING] < before:
                j -= 1
        elif opidx == pidx:
            call_q(C[C_Q_TRADE], OQ.ctypes.data + k * 16, size / 1e9, 0.0, C[C_Q_PARAMS])
            q = _queue_fill(S, I, O, OQ, k)
            if q > 0:
                OQ[k, 0] = 0.0
                before = S[S_NRESTING]
                _fill_resting(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, k, q)
                if S[S_NRESTING] < before:
                    j -= 1


@njit(cache=True, error_model="numpy")
def _match_depth(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, inst, side, pidx, prev, size, kind):
    """A level changed from *prev* to *size* (already applied to the book): move the queue
    of orders resting there, and fill those the other side now crosses."""
    j = 0
    while j < S[S_NRESTING]:
        k = RL[j]
        j += 1
        if O[k, O_INST] != inst:
            continue
        if O[k, O_SIDE] == side and O[k, O_PIDX] == pidx and kind == EV_DEPTH:
            call_q(C[C_Q_DEPTH], OQ.ctypes.data + k * 16, prev / 1e9, size / 1e9, C[C_Q_PARAMS])
            if OQ[k, 0] > size / 1e9:
                OQ[k, 0] = size / 1e9   # never more ahead of us than the level holds
        if _crosses(I, B, O, k):
            # the opposite side moved through our price: we were taken
            before = S[S_NRESTING]
            _fill_resting(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, k, O[k, O_LEAVES])
            if S[S_NRESTING] < before:
                j -= 1


# ---------------------------------------------------------------------------------------------
# the strategy side


@njit(cache=True, error_model="numpy")
def _invoke(S, C, FN, cb, nargs):
    """Call strategy export *cb* with the arguments already in the raw buffer."""
    f = FN[cb]
    if f == 0:
        return True
    if C[C_CALL] == 0:
        return True
    call2(C[C_SET_FUEL], C[C_CTX], S[S_FUEL])
    raw = carray(as_voidptr(C[C_RAW]), 16, dtype=np.int64)
    raw[14] = 0                      # the trap out-pointer lives past the 6 argument slots
    S[S_CALLS] += 1
    err = call5(C[C_CALL], C[C_CTX], f, C[C_RAW], max(nargs, 1), C[C_RAW] + 14 * 8)
    if err != 0:
        S[S_ERR] = ERR_WASMTIME
        S[S_ERR_CB] = cb
        S[S_ERR_PTR] = err
        return False
    if raw[14] != 0:
        S[S_ERR] = ERR_TRAP
        S[S_ERR_CB] = cb
        S[S_ERR_PTR] = raw[14]
        return False
    ret = np.int32(raw[0] & 0xFFFFFFFF)
    if ret != 0:
        S[S_ERR] = ERR_RETURN
        S[S_ERR_CB] = cb
        S[S_ERR_PTR] = ret
        return False
    return True


@njit(cache=True, error_model="numpy")
def _args(C, a0, a1, a2, a3, a4, a5):
    raw = carray(as_voidptr(C[C_RAW]), 16, dtype=np.int64)
    raw[0] = a0
    raw[2] = a1
    raw[4] = a2
    raw[6] = a3
    raw[8] = a4
    raw[10] = a5


@njit(cache=True, error_model="numpy")
def _apply_actions(S, I, O, A, R, C):
    """Send what the strategy asked for during the callback that just returned."""
    now = S[S_NOW]
    for a in range(S[S_NACT]):
        typ = A[a, A_TYPE]
        oid = A[a, A_ID]
        k = order_slot(O, oid)
        if k < 0:
            continue
        inst = O[k, O_INST]
        # each request draws its own latency, but one order's requests reach the exchange in
        # the order they were sent (a cancel never overtakes the order it cancels)
        if typ == ACT_NEW:
            S[S_SUBMITS] += 1
            t = now + _latency(C, LAT_ENTRY, now, inst)
        elif typ == ACT_CANCEL:
            S[S_CANCELS] += 1
            t = now + _latency(C, LAT_CANCEL, now, inst)
        else:
            S[S_AMENDS] += 1
            t = now + _latency(C, LAT_MODIFY, now, inst)
        if t < O[k, O_LAST_REQ]:
            t = O[k, O_LAST_REQ]
        amend = typ == ACT_AMEND
        if _push_request(S, R, t, typ, oid, A[a, A_PRICE] if amend else 0, A[a, A_QTY] if amend else 0):
            O[k, O_LAST_REQ] = t
            O[k, O_INFLIGHT] += 1
    S[S_NACT] = 0


@njit(cache=True, error_model="numpy")
def _local_response(S, O, IPOS, C, FN, OL, rsp):
    """A response reaches the strategy: update its view, then tell it."""
    oid = rsp[P_ID]
    k = order_slot(O, oid)
    typ = rsp[P_TYPE]
    inst = O[k, O_INST] if k >= 0 else -1
    status = 0
    if k >= 0:
        O[k, O_INFLIGHT] -= 1
    if typ == RSP_FILL:
        if k >= 0:
            O[k, O_LFILLED] += rsp[P_QTY]
            IPOS[inst, 1] += O[k, O_SIDE] * rsp[P_QTY]
            status = ST_FILLED if (rsp[P_FLAGS] & 2) != 0 else ST_PARTIAL
            O[k, O_STATUS] = status
        if FN[CB_FILL] != 0 and k >= 0:
            _args(C, oid, inst, O[k, O_SIDE], rsp[P_PRICE], rsp[P_QTY], rsp[P_FLAGS])
            if not _invoke(S, C, FN, CB_FILL, 6):
                return False
    else:
        if k >= 0:
            if typ == RSP_ACK:
                if O[k, O_STATUS] == ST_PENDING:
                    O[k, O_STATUS] = ST_OPEN
            elif typ == RSP_REJECT:
                O[k, O_STATUS] = ST_REJECTED
            elif typ == RSP_CANCELED:
                O[k, O_STATUS] = ST_CANCELED
            elif typ == RSP_AMENDED:
                O[k, O_PRICE] = rsp[P_PRICE]
            elif typ == RSP_CANCEL_REJECT:
                O[k, O_CANCEL_SENT] = 0
            status = O[k, O_STATUS]
        if FN[CB_ORDER] != 0 and k >= 0:
            _args(C, oid, typ, status, 0, 0, 0)
            if not _invoke(S, C, FN, CB_ORDER, 3):
                return False
    # the strategy has had the last report of this finished order (its reports come in
    # order, so the end among them): it joins the finished orders order() still answers for
    if k >= 0 and O[k, O_XSTATE] == 2 and O[k, O_INFLIGHT] <= 0:
        _retire(S, O, k)
    return True


@njit(cache=True, error_model="numpy")
def _sample_pnl(S, F, I, B, IPOS, PL, xbid, xask):
    """Mark to market at the exchange's mid; one row of the P&L series."""
    equity = F[F_CASH]
    gross = 0.0
    for inst in range(S[S_NINST]):
        pos = IPOS[inst, 0]
        if pos == 0:
            continue
        b = B[inst, B_XBID]
        a = B[inst, B_XASK]
        if b < 0 or a < 0:
            continue
        mid = (I[inst, I_BASE] * 2 + a + b) * I[inst, I_TICK] / 2e9
        v = pos / 1e9 * mid
        equity += v
        gross += abs(v)
    n = S[S_NPNL]
    PL[n, 0] = S[S_NOW]
    PL[n, 1] = equity
    PL[n, 2] = gross
    S[S_NPNL] = n + 1


@njit(cache=True, inline="always", error_model="numpy")
def _logs_full(S):
    return (S[S_NFILLS] + 64 >= S[S_FILLCAP] or S[S_NORDLOG] + 64 >= S[S_ORDLOGCAP]
            or S[S_NPNL] + 2 >= S[S_PNLCAP])


@njit(cache=True, error_model="numpy")
def run(S, F, I, B, IS, IFEE, IPOS, O, OQ, A, R, P, RL, FL, OL, PL, C, FN,
        xbid, xask, lbid, lask,
        ts_exch, ts_recv, inst_a, kind_a, side_a, pidx_a, size_a, flags_a,
        n, final, limit):
    """Advance the replay over events [S_E/S_L, n). Returns a RUN_* code.

    Between two "interesting" times (the next request arrival, response, timer or P&L
    sample) the exchange clock applies its events in one tight loop and the local clock
    its own in another: nothing either side does in between can affect the other. When the
    strategy subscribed to book or trade callbacks, the exchange only runs ahead to the
    next local event (a callback could send an order that must see the book as it was).
    """
    req = np.zeros(R_SIZE, np.int64)
    rsp = np.zeros(P_SIZE, np.int64)
    processed = 0
    if S[S_STARTED] == 0:
        S[S_STARTED] = 1
        if n > 0:
            # the clocks start when the market does: the first event's exchange time
            S[S_NOW] = ts_exch[0]
            S[S_EXCH_NOW] = ts_exch[0]
            S[S_LAST_LOCAL] = ts_exch[0]
            S[S_LAST_EXCH] = ts_exch[0]
            S[S_PNL_NEXT] = ts_exch[0]
        if not _invoke(S, C, FN, CB_START, 0):
            return RUN_ERROR
        _apply_actions(S, I, O, A, R, C)
    e = S[S_E]
    l_ = S[S_L]
    last_exch = S[S_LAST_EXCH]
    last_local = S[S_LAST_LOCAL]
    feed_recorded = S[S_FEED_RECORDED] == 1
    while True:
        S[S_E] = e
        S[S_L] = l_
        S[S_LAST_EXCH] = last_exch
        S[S_LAST_LOCAL] = last_local
        if _logs_full(S):
            return RUN_FLUSH
        if e >= n and final == 0:
            return RUN_NEED_DATA
        if final == 1 and e >= n and l_ >= n and last_local < S[S_END_TS]:
            S[S_END_TS] = last_local          # the data is over: so is the replay
        end = S[S_END_TS]
        treq = S[S_NEXT_REQ]
        trsp = S[S_NEXT_RSP]
        ttim = S[S_TIMER_NEXT] if S[S_TIMER_INTERVAL] > 0 else INF
        tpnl = S[S_PNL_NEXT]
        bound = min(min(treq, trsp), min(min(ttim, tpnl), end))
        subscribed = S[S_SUBSCRIBED] != 0 and (FN[CB_BOOK] != 0 or FN[CB_TRADE] != 0)

        # -- the exchange: every event up to the bound (ties: the exchange goes first)
        ex_bound = bound
        if subscribed and l_ < n:
            # an event is seen no earlier than it happens: a recorded receive time before the
            # exchange time (a clock behind; describe()'s shift leaves ~0.1% so) bounded the
            # exchange below the very event the strategy waited for, and the replay spun
            if feed_recorded:
                tl = max(ts_recv[l_], ts_exch[l_])
            else:
                tl = ts_exch[l_] + _latency(C, LAT_FEED, ts_exch[l_], inst_a[l_])
            if tl < last_local:
                tl = last_local
            if tl < ex_bound:
                ex_bound = tl
        while e < n:
            te = ts_exch[e]
            if te < last_exch:
                te = last_exch
            if te > ex_bound:
                break
            last_exch = te
            inst = inst_a[e]
            kind = kind_a[e]
            pidx = pidx_a[e]
            # The common case stays in this loop with no calls that take arrays (each such
            # call costs reference counting); matching runs only when an order is touched.
            matched = False
            if pidx >= 0:
                side = side_a[e]
                if kind == EV_TRADE:
                    if I[inst, I_RESTING] > 0:
                        for j in range(S[S_NRESTING]):
                            k = RL[j]
                            if O[k, O_INST] == inst and O[k, O_SIDE] != side:
                                if (O[k, O_PIDX] >= pidx) if O[k, O_SIDE] > 0 else (O[k, O_PIDX] <= pidx):
                                    matched = True
                                    break
                        if matched:
                            S[S_EXCH_NOW] = te
                            _match_trade(S, F, I, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, inst, side, pidx, size_a[e])
                else:
                    if kind == EV_CLEAR:
                        _book_clear(I, B, xbid, xask, inst, 0)
                    off = I[inst, I_OFF]
                    prev = xbid[off + pidx] if side > 0 else xask[off + pidx]
                    # Set the level. A level that crosses the other side's best wins: that
                    # side's best moves past it (recorded feeds miss deletes; the newest update
                    # is the truth, as hftbacktest's books do). Written out here and in the
                    # local loop below: a helper taking the book arrays costs refcounting per
                    # event (measured: 13 vs 22 M events/s).
                    qty = size_a[e]
                    nlev = I[inst, I_NLEV]
                    if side > 0:
                        xbid[off + pidx] = qty
                        bb = B[inst, B_XBID]
                        if qty > 0:
                            if pidx > bb:
                                B[inst, B_XBID] = pidx
                                ba = B[inst, B_XASK]
                                if ba >= 0 and pidx >= ba:
                                    jj = pidx + 1
                                    while jj < nlev and xask[off + jj] == 0:
                                        jj += 1
                                    B[inst, B_XASK] = jj if jj < nlev else -1
                        elif pidx == bb:
                            jj = pidx - 1
                            while jj >= 0 and xbid[off + jj] == 0:
                                jj -= 1
                            B[inst, B_XBID] = jj
                    else:
                        xask[off + pidx] = qty
                        ba = B[inst, B_XASK]
                        if qty > 0:
                            if ba < 0 or pidx < ba:
                                B[inst, B_XASK] = pidx
                                bb = B[inst, B_XBID]
                                if bb >= 0 and bb >= pidx:
                                    jj = pidx - 1
                                    while jj >= 0 and xbid[off + jj] == 0:
                                        jj -= 1
                                    B[inst, B_XBID] = jj
                        elif pidx == ba:
                            jj = pidx + 1
                            while jj < nlev and xask[off + jj] == 0:
                                jj += 1
                            B[inst, B_XASK] = jj if jj < nlev else -1
                    if I[inst, I_RESTING] > 0:
                        for j in range(S[S_NRESTING]):
                            k = RL[j]
                            if O[k, O_INST] != inst:
                                continue
                            op = O[k, O_PIDX]
                            if O[k, O_SIDE] == side and op == pidx and kind == EV_DEPTH:
                                matched = True
                            elif O[k, O_SIDE] > 0:
                                a = B[inst, B_XASK]
                                matched = a >= 0 and a <= op
                            else:
                                b = B[inst, B_XBID]
                                matched = b >= 0 and b >= op
                            if matched:
                                break
                        if matched:
                            S[S_EXCH_NOW] = te
                            _match_depth(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C,
                                         inst, side, pidx, prev, size_a[e], kind)
            if matched:
                if S[S_NEXT_RSP] < ex_bound:
                    ex_bound = S[S_NEXT_RSP]      # a fill's report: the strategy hears of it then
                if S[S_NFILLS] + 64 >= S[S_FILLCAP] or S[S_NORDLOG] + 64 >= S[S_ORDLOGCAP]:
                    e += 1
                    processed += 1
                    break
            e += 1
            processed += 1
            if processed >= limit:
                S[S_EXCH_NOW] = last_exch
                S[S_E] = e
                S[S_LAST_EXCH] = last_exch
                return RUN_LIMIT
        S[S_EXCH_NOW] = last_exch
        if e >= n and final == 0:
            # the next chunk may hold exchange events earlier than anything left to do here
            S[S_E] = e
            S[S_LAST_EXCH] = last_exch
            return RUN_NEED_DATA

        # -- the strategy's view: events the exchange has applied, before the next request
        # (a request at the same time goes first) and no later than the next response,
        # timer or sample (those go after)
        trsp = S[S_NEXT_RSP]
        lo_bound = min(min(trsp, ttim), min(tpnl, end))
        called = False
        while l_ < e:
            if feed_recorded:
                tl = max(ts_recv[l_], ts_exch[l_])
            else:
                tl = ts_exch[l_] + _latency(C, LAT_FEED, ts_exch[l_], inst_a[l_])
            if tl < last_local:
                tl = last_local
            if tl >= treq or tl > lo_bound:
                break
            last_local = tl
            inst = inst_a[l_]
            kind = kind_a[l_]
            pidx = pidx_a[l_]
            l_ += 1
            if pidx < 0:
                continue
            if kind == EV_TRADE:
                if subscribed and (S[S_SUBSCRIBED] & 2) != 0 and FN[CB_TRADE] != 0:
                    S[S_NOW] = tl
                    _args(C, inst, side_a[l_ - 1], (I[inst, I_BASE] + pidx) * I[inst, I_TICK], size_a[l_ - 1], 0, 0)
                    if not _invoke(S, C, FN, CB_TRADE, 4):
                        S[S_L] = l_
                        S[S_LAST_LOCAL] = last_local
                        return RUN_ERROR
                    _apply_actions(S, I, O, A, R, C)
                    called = True
                    break
                continue
            if kind == EV_CLEAR:
                _book_clear(I, B, lbid, lask, inst, 1)
            # the same level update as the exchange's, on the strategy's book
            off = I[inst, I_OFF]
            qty = size_a[l_ - 1]
            nlev = I[inst, I_NLEV]
            if side_a[l_ - 1] > 0:
                lbid[off + pidx] = qty
                bb = B[inst, B_LBID]
                if qty > 0:
                    if pidx > bb:
                        B[inst, B_LBID] = pidx
                        ba = B[inst, B_LASK]
                        if ba >= 0 and pidx >= ba:
                            jj = pidx + 1
                            while jj < nlev and lask[off + jj] == 0:
                                jj += 1
                            B[inst, B_LASK] = jj if jj < nlev else -1
                elif pidx == bb:
                    jj = pidx - 1
                    while jj >= 0 and lbid[off + jj] == 0:
                        jj -= 1
                    B[inst, B_LBID] = jj
            else:
                lask[off + pidx] = qty
                ba = B[inst, B_LASK]
                if qty > 0:
                    if ba < 0 or pidx < ba:
                        B[inst, B_LASK] = pidx
                        bb = B[inst, B_LBID]
                        if bb >= 0 and bb >= pidx:
                            jj = pidx - 1
                            while jj >= 0 and lbid[off + jj] == 0:
                                jj -= 1
                            B[inst, B_LBID] = jj
                elif pidx == ba:
                    jj = pidx + 1
                    while jj < nlev and lask[off + jj] == 0:
                        jj += 1
                    B[inst, B_LASK] = jj if jj < nlev else -1
            if subscribed and (flags_a[l_ - 1] & END_OF_MESSAGE) != 0 and (S[S_SUBSCRIBED] & 1) != 0 \
                    and FN[CB_BOOK] != 0:
                off = I[inst, I_OFF]
                bb = B[inst, B_LBID]
                ba = B[inst, B_LASK]
                bq = lbid[off + bb] if bb >= 0 else 0
                aq = lask[off + ba] if ba >= 0 else 0
                if bb != B[inst, B_LBIDP] or ba != B[inst, B_LASKP] or bq != B[inst, B_LBIDQ] or aq != B[inst, B_LASKQ]:
                    B[inst, B_LBIDP] = bb
                    B[inst, B_LASKP] = ba
                    B[inst, B_LBIDQ] = bq
                    B[inst, B_LASKQ] = aq
                    S[S_NOW] = tl
                    _args(C, inst, 0, 0, 0, 0, 0)
                    if not _invoke(S, C, FN, CB_BOOK, 1):
                        S[S_L] = l_
                        S[S_LAST_LOCAL] = last_local
                        return RUN_ERROR
                    _apply_actions(S, I, O, A, R, C)
                    called = True
                    break
        if called:
            continue

        # -- what comes next: more events, or a request, response, timer or sample
        treq = S[S_NEXT_REQ]
        trsp = S[S_NEXT_RSP]
        ttim = S[S_TIMER_NEXT] if S[S_TIMER_INTERVAL] > 0 else INF
        te = INF
        if e < n:
            te = ts_exch[e] if ts_exch[e] > last_exch else last_exch
        tl = INF
        if l_ < e:
            if feed_recorded:
                tl = max(ts_recv[l_], ts_exch[l_])
            else:
                tl = ts_exch[l_] + _latency(C, LAT_FEED, ts_exch[l_], inst_a[l_])
            if tl < last_local:
                tl = last_local
        t = min(min(min(te, tl), min(treq, trsp)), min(ttim, tpnl))
        if t == INF or t > end:
            break
        if te == t or (tl == t and tl < treq):
            continue
        if tpnl == t:
            S[S_NOW] = t
            _sample_pnl(S, F, I, B, IPOS, PL, xbid, xask)
            S[S_PNL_NEXT] = t + S[S_PNL_INTERVAL]
            continue
        if treq == t:
            S[S_EXCH_NOW] = max(last_exch, t)
            last_exch = S[S_EXCH_NOW]
            _pop_earliest(R, S_NREQ, S_NEXT_REQ, S, req)
            _arrive_request(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, xbid, xask, req)
            continue
        if trsp == t:
            S[S_NOW] = t
            if t > last_local:
                last_local = t
            _pop_earliest(P, S_NRSP, S_NEXT_RSP, S, rsp)
            if not _local_response(S, O, IPOS, C, FN, OL, rsp):
                S[S_LAST_LOCAL] = last_local
                return RUN_ERROR
            _apply_actions(S, I, O, A, R, C)
            continue
        # the timer
        S[S_NOW] = t
        if t > last_local:
            last_local = t
        S[S_TIMER_NEXT] = t + S[S_TIMER_INTERVAL]
        _args(C, t, 0, 0, 0, 0, 0)
        if not _invoke(S, C, FN, CB_TIMER, 1):
            S[S_LAST_LOCAL] = last_local
            return RUN_ERROR
        _apply_actions(S, I, O, A, R, C)
    S[S_E] = e
    S[S_L] = l_
    S[S_LAST_EXCH] = last_exch
    S[S_LAST_LOCAL] = last_local
    if final == 0:
        return RUN_NEED_DATA
    if S[S_STOPPED] == 0:
        S[S_STOPPED] = 1
        if not _invoke(S, C, FN, CB_STOP, 0):
            return RUN_ERROR
        _apply_actions(S, I, O, A, R, C)
        # what on_stop sent still reaches the exchange; nothing else happens after the window
        while S[S_NREQ] > 0:
            S[S_EXCH_NOW] = max(S[S_EXCH_NOW], S[S_NEXT_REQ])
            _pop_earliest(R, S_NREQ, S_NEXT_REQ, S, req)
            _arrive_request(S, F, I, B, IS, O, OQ, FL, OL, P, RL, IPOS, IFEE, C, xbid, xask, req)
        _sample_pnl(S, F, I, B, IPOS, PL, xbid, xask)
    return RUN_DONE


# ---------------------------------------------------------------------------------------------
# host imports: called by the strategy (wasm → these C functions) during a callback.
# Signature of every import: size_t f(void* env, wasmtime_caller_t*, wasmtime_val_raw_t* args, size_t n)
# env is the address of E[...]: E_S, E_I, E_B, E_LBID, E_LASK, E_O, E_A, E_IPOS.

E_S = 0
E_I = 1
E_B = 2
E_LBID = 3
E_LASK = 4
E_O = 5
E_A = 6
E_IPOS = 7
E_OQ = 8
E_SIZE = 16

_IMPORT_SIG = types.uintp(types.voidptr, types.voidptr, types.voidptr, types.uintp)


@njit(cache=True, inline="always", error_model="numpy")
def _env(env, k):
    e = carray(env, E_SIZE, dtype=np.int64)
    return e[k]


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_now(env, caller, args, n):
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 2, dtype=np.int64)
    a[0] = S[S_NOW]
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_place(env, caller, args, n):
    """place(inst i32, side i32, price i64, size i64, flags i32) -> i64 order id, or < 0."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 10, dtype=np.int64)
    inst = np.int32(a[0] & 0xFFFFFFFF)
    side = np.int32(a[2] & 0xFFFFFFFF)
    price = a[4]
    qty = a[6]
    flags = np.int32(a[8] & 0xFFFFFFFF)
    ninst = S[S_NINST]
    if inst < 0 or inst >= ninst:
        a[0] = -1
        return 0
    if side != 1 and side != -1:
        a[0] = -2
        return 0
    I = carray(as_voidptr(_env(env, E_I)), (ninst, I_SIZE), dtype=np.int64)
    tick = I[inst, I_TICK]
    lot = I[inst, I_LOT]
    if qty <= 0 or qty % lot != 0:
        a[0] = -3
        return 0
    market = (flags & FLAG_MARKET) != 0
    pidx = np.int64(0)
    if not market:
        if price <= 0 or price % tick != 0:
            a[0] = -4
            return 0
        pidx = price // tick - I[inst, I_BASE]
        if pidx < 0 or pidx >= I[inst, I_NLEV]:
            a[0] = -4
            return 0
    cap = S[S_CAP]
    O = carray(as_voidptr(_env(env, E_O)), (cap, O_SIZE), dtype=np.int64)
    if S[S_NACT] >= S[S_ACTCAP]:
        a[0] = -5
        return 0
    oid = S[S_NEXT_ID]
    k = _free_slot(O, oid)
    if k < 0:
        a[0] = -5
        return 0
    S[S_NEXT_ID] = oid + 1
    for j in range(O_SIZE):
        O[k, j] = 0
    O[k, O_ID] = oid
    O[k, O_INST] = inst
    O[k, O_SIDE] = side
    O[k, O_PRICE] = price
    O[k, O_QTY] = qty
    O[k, O_LEAVES] = qty
    O[k, O_STATUS] = ST_PENDING
    O[k, O_FLAGS] = flags
    O[k, O_TS_SENT] = S[S_NOW]
    O[k, O_PIDX] = pidx
    A = carray(as_voidptr(_env(env, E_A)), (S[S_ACTCAP], A_SIZE), dtype=np.int64)
    m = S[S_NACT]
    A[m, A_TYPE] = ACT_NEW
    A[m, A_ID] = oid
    S[S_NACT] = m + 1
    a[0] = oid
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_cancel(env, caller, args, n):
    """cancel(order_id i64) -> i32: 0 sent, -1 unknown order, -2 already done or cancelling."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 2, dtype=np.int64)
    oid = a[0]
    O = carray(as_voidptr(_env(env, E_O)), (S[S_CAP], O_SIZE), dtype=np.int64)
    k = order_slot(O, oid) if oid > 0 else -1
    if k < 0:
        a[0] = -1
        return 0
    st = O[k, O_STATUS]
    if st == ST_FILLED or st == ST_CANCELED or st == ST_REJECTED or O[k, O_CANCEL_SENT] != 0:
        a[0] = -2
        return 0
    if S[S_NACT] >= S[S_ACTCAP]:
        a[0] = -5
        return 0
    O[k, O_CANCEL_SENT] = 1
    A = carray(as_voidptr(_env(env, E_A)), (S[S_ACTCAP], A_SIZE), dtype=np.int64)
    m = S[S_NACT]
    A[m, A_TYPE] = ACT_CANCEL
    A[m, A_ID] = oid
    S[S_NACT] = m + 1
    a[0] = 0
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_amend(env, caller, args, n):
    """amend(order_id i64, price i64, size i64) -> i32: 0 sent, < 0 refused."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 6, dtype=np.int64)
    oid = a[0]
    price = a[2]
    qty = a[4]
    O = carray(as_voidptr(_env(env, E_O)), (S[S_CAP], O_SIZE), dtype=np.int64)
    k = order_slot(O, oid) if oid > 0 else -1
    if k < 0:
        a[0] = -1
        return 0
    st = O[k, O_STATUS]
    if st == ST_FILLED or st == ST_CANCELED or st == ST_REJECTED or O[k, O_CANCEL_SENT] != 0:
        a[0] = -2
        return 0
    I = carray(as_voidptr(_env(env, E_I)), (S[S_NINST], I_SIZE), dtype=np.int64)
    inst = O[k, O_INST]
    if qty <= 0 or qty % I[inst, I_LOT] != 0:
        a[0] = -3
        return 0
    if price <= 0 or price % I[inst, I_TICK] != 0:
        a[0] = -4
        return 0
    if S[S_NACT] >= S[S_ACTCAP]:
        a[0] = -5
        return 0
    A = carray(as_voidptr(_env(env, E_A)), (S[S_ACTCAP], A_SIZE), dtype=np.int64)
    m = S[S_NACT]
    A[m, A_TYPE] = ACT_AMEND
    A[m, A_ID] = oid
    A[m, A_PRICE] = price
    A[m, A_QTY] = qty
    S[S_NACT] = m + 1
    a[0] = 0
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_book(env, caller, args, n):
    """book(inst i32, field i32) -> i64: 0 bid price, 1 bid size, 2 ask price, 3 ask size,
    4 tick size, 5 lot size (fixed point 1e9; 0 when that side is empty)."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 4, dtype=np.int64)
    inst = np.int32(a[0] & 0xFFFFFFFF)
    field = np.int32(a[2] & 0xFFFFFFFF)
    ninst = S[S_NINST]
    if inst < 0 or inst >= ninst:
        a[0] = 0
        return 0
    I = carray(as_voidptr(_env(env, E_I)), (ninst, I_SIZE), dtype=np.int64)
    B = carray(as_voidptr(_env(env, E_B)), (ninst, B_SIZE), dtype=np.int64)
    if field == 4:
        a[0] = I[inst, I_TICK]
        return 0
    if field == 5:
        a[0] = I[inst, I_LOT]
        return 0
    idx = B[inst, B_LBID] if field < 2 else B[inst, B_LASK]
    if idx < 0:
        a[0] = 0
        return 0
    if field == 0 or field == 2:
        a[0] = (I[inst, I_BASE] + idx) * I[inst, I_TICK]
        return 0
    total = I[ninst - 1, I_OFF] + I[ninst - 1, I_NLEV]
    if field == 1:
        book = carray(as_voidptr(_env(env, E_LBID)), total, dtype=np.int64)
    else:
        book = carray(as_voidptr(_env(env, E_LASK)), total, dtype=np.int64)
    a[0] = book[I[inst, I_OFF] + idx]
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_position(env, caller, args, n):
    """position(inst i32) -> i64: signed size the strategy has been told it holds."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 2, dtype=np.int64)
    inst = np.int32(a[0] & 0xFFFFFFFF)
    if inst < 0 or inst >= S[S_NINST]:
        a[0] = 0
        return 0
    IPOS = carray(as_voidptr(_env(env, E_IPOS)), (S[S_NINST], 2), dtype=np.int64)
    a[0] = IPOS[inst, 1]
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_order(env, caller, args, n):
    """order(order_id i64, field i32) -> i64: 0 status (0 unknown), 1 price, 2 size, 3 filled."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 4, dtype=np.int64)
    oid = a[0]
    field = np.int32(a[2] & 0xFFFFFFFF)
    O = carray(as_voidptr(_env(env, E_O)), (S[S_CAP], O_SIZE), dtype=np.int64)
    k = order_slot(O, oid) if oid > 0 else -1
    if k < 0:
        a[0] = 0
        return 0
    if field == 0:
        a[0] = O[k, O_STATUS]
    elif field == 1:
        a[0] = O[k, O_PRICE]
    elif field == 2:
        a[0] = O[k, O_QTY]
    elif field == 3:
        a[0] = O[k, O_LFILLED]
    else:
        a[0] = 0
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_set_timer(env, caller, args, n):
    """set_timer(interval_ns i64): call on_timer every interval of local time (0 stops it)."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 2, dtype=np.int64)
    interval = a[0]
    if interval <= 0:
        S[S_TIMER_INTERVAL] = 0
    else:
        S[S_TIMER_INTERVAL] = interval
        S[S_TIMER_NEXT] = S[S_NOW] + interval
    return 0


@cfunc(_IMPORT_SIG, cache=True, error_model="numpy")
def imp_subscribe(env, caller, args, n):
    """subscribe(mask i32): bit 0 top-of-book changes (on_book), bit 1 trades (on_trade)."""
    S = carray(as_voidptr(_env(env, E_S)), S_SIZE, dtype=np.int64)
    a = carray(args, 2, dtype=np.int64)
    S[S_SUBSCRIBED] = np.int32(a[0] & 0xFFFFFFFF)
    return 0


# name -> (cfunc, params, results) for the host; "i" = i32, "I" = i64
IMPORTS = {
    "now": (imp_now, "", "I"),
    "place": (imp_place, "iiIIi", "I"),
    "cancel": (imp_cancel, "I", "i"),
    "amend": (imp_amend, "III", "i"),
    "book": (imp_book, "ii", "I"),
    "position": (imp_position, "i", "I"),
    "order": (imp_order, "Ii", "I"),
    "set_timer": (imp_set_timer, "I", ""),
    "subscribe": (imp_subscribe, "i", ""),
}
