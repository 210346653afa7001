"""Fake Solana JSON-RPC node and fake Jupiter swap API on 127.0.0.1, sharing one small chain.

The node speaks JSON-RPC 2.0 as https://solana.com/docs/rpc documents it and checks a sent
transaction the way a validator does, with its own wire-format reader (not the adapter's):
every required signature must verify (Ed25519 over the message bytes) else -32003; the
blockhash must be known and the block height at most its last valid height else a preflight
-32002 ``BlockhashNotFound``; simulation refuses a swap the wallet cannot pay or whose bound
the price misses (-32002 with ``InstructionError``). A landed swap moves lamports and token
balances and is reported by getSignatureStatuses / getTransaction (jsonParsed shape: pre/post
balances, pre/postTokenBalances with owner and uiTokenAmount, v0 lookup-table keys).
Jupiter answers quotes from a fixed book (quote units per base: asks to buy, bids to sell)
and builds a v0 transaction: fee payer = the user, a fake swap-program instruction whose data
carries the swap, an address-table lookup, a fresh blockhash and ``lastValidBlockHeight``.
Faults: revert_next (lands with an error), pending_next (accepted, never lands), drop_next
(accepted, lost: a re-broadcast lands), lose_next_send
(lands, answer 502), stall_next (answer after ``stall_s``), fail_next (503), plus the base's
rate_limit_next and malformed_next; Jupiter: foreign_payer_next, extra_signer_next, api_key.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import sys
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import base58
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).parent))
from sequence_core.testing import FakeVenueServer  # noqa: E402

JUP_PROGRAM = "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGbPFXCWuBvf9Ss623VQ5DA"
SOL = "So11111111111111111111111111111111111111112"
USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
JUP = "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN"
DECIMALS = {SOL: 9, USDC: 6, JUP: 6}
RENT = 2_039_280                        # a token account's rent-exempt deposit
FEE = 5000 + 10_000                     # one signature + a priority fee
VALID_FOR = 150                         # blocks a blockhash stays valid


def b58(data: bytes) -> str:
    return base58.b58encode(data).decode()


def pubkey_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def ata(owner: str, mint: str) -> str:
    """A stand-in for the associated token account address (deterministic per owner and mint)."""
    return b58(hashlib.sha256(f"ata:{owner}:{mint}".encode()).digest())


def shortvec(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_shortvec(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if not byte & 0x80:
            return value, at


def build_v0(keys: list[str], num_signers: int, readonly_unsigned: int, blockhash: bytes, program: int,
             accounts: list[int], data: bytes, lookup: tuple[str, list[int], list[int]] | None) -> bytes:
    """An unsigned v0 transaction: zeroed signature slots + message."""
    msg = bytes([0x80, num_signers, 0, readonly_unsigned]) + shortvec(len(keys)) + b"".join(base58.b58decode(k) for k in keys)
    msg += blockhash + shortvec(1) + bytes([program]) + shortvec(len(accounts)) + bytes(accounts) + shortvec(len(data)) + data
    lookups = [lookup] if lookup else []
    msg += shortvec(len(lookups))
    for table, writable, readonly in lookups:
        msg += base58.b58decode(table) + shortvec(len(writable)) + bytes(writable) + shortvec(len(readonly)) + bytes(readonly)
    return shortvec(num_signers) + bytes(64 * num_signers) + msg


def read_tx(raw: bytes) -> dict:
    """The validator's reading: signatures, message, signers, blockhash, the one instruction."""
    n, at = read_shortvec(raw, 0)
    sigs = [raw[at + 64 * i: at + 64 * (i + 1)] for i in range(n)]
    msg = raw[at + 64 * n:]
    h = 1 if msg[0] & 0x80 else 0
    required = msg[h]
    nk, p = read_shortvec(msg, h + 3)
    keys = [b58(msg[p + 32 * i: p + 32 * (i + 1)]) for i in range(nk)]
    p += 32 * nk
    blockhash = b58(msg[p: p + 32])
    p += 32
    _, p = read_shortvec(msg, p)                         # one instruction
    program = msg[p]
    na, p = read_shortvec(msg, p + 1)
    p += na
    nd, p = read_shortvec(msg, p)
    data = msg[p: p + nd]
    return {"sigs": sigs, "message": msg, "required": required, "keys": keys, "blockhash": blockhash,
            "program": keys[program] if program < len(keys) else None, "data": data}


def verified(key: str, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base58.b58decode(key)).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def units(mint: str, amount: Decimal, rounding) -> int:
    return int((amount * Decimal(10) ** DECIMALS[mint]).to_integral_value(rounding=rounding))


class Book:
    """Quote per base, levels (price, size in base), for one base mint against USDC."""

    def __init__(self, asks, bids):
        self.asks = [(Decimal(p), Decimal(s)) for p, s in asks]
        self.bids = [(Decimal(p), Decimal(s)) for p, s in bids]

    @staticmethod
    def walk(levels, qty: Decimal) -> Decimal | None:
        cost, left = Decimal(0), qty
        for price, size in levels:
            take = min(size, left)
            cost += take * price
            left -= take
            if left <= 0:
                return cost
        return None


class FakeChain(FakeVenueServer):
    """The JSON-RPC node (and the chain behind it)."""

    def __init__(self):
        super().__init__()
        self.height = 1_000
        self.slot = 5_000
        self.blockhashes: dict[str, int] = {}
        self.lamports: dict[str, int] = {}
        self.tokens: dict[tuple[str, str], int] = {}           # (owner, mint) -> units
        self.txs: dict[str, dict] = {}
        self.dropped: set[str] = set()
        self.sends: list[str] = []                              # every raw tx sent (base64)
        self.books = {SOL: Book([("150.10", "5"), ("150.50", "100")], [("149.90", "5"), ("149.50", "100")]),
                      JUP: Book([("0.5210", "10000")], [("0.5190", "10000")])}
        self.revert_next = self.pending_next = self.drop_next = self.lose_next_send = self.stall_next = self.fail_next = 0
        self.stall_s = 1.0
        self.version = "2.2.16"
        self.calls: list[str] = []

    # -- state helpers --------------------------------------------------------------------
    def fund(self, owner: str, sol: str = "0", **tokens: str) -> None:
        """Set the wallet to exactly these holdings (no token account for a token not named)."""
        self.lamports[owner] = units(SOL, Decimal(sol), ROUND_FLOOR)
        self.tokens = {k: v for k, v in self.tokens.items() if k[0] != owner}
        for name, amount in tokens.items():
            mint = {"USDC": USDC, "JUP": JUP}[name]
            self.tokens[(owner, mint)] = units(mint, Decimal(amount), ROUND_FLOOR)

    def new_blockhash(self) -> tuple[bytes, int]:
        raw = os.urandom(32)
        self.blockhashes[b58(raw)] = self.height + VALID_FOR
        return raw, self.height + VALID_FOR

    def price(self, in_mint: str, out_mint: str, mode: str, amount: int) -> tuple[int, int] | None:
        """(in units, out units) at the book now, or None past its depth."""
        if in_mint == USDC and out_mint in self.books and mode == "ExactOut":
            cost = Book.walk(self.books[out_mint].asks, Decimal(amount) / Decimal(10) ** DECIMALS[out_mint])
            return None if cost is None else (units(USDC, cost, ROUND_CEILING), amount)
        if out_mint == USDC and in_mint in self.books and mode == "ExactIn":
            got = Book.walk(self.books[in_mint].bids, Decimal(amount) / Decimal(10) ** DECIMALS[in_mint])
            return None if got is None else (amount, units(USDC, got, ROUND_FLOOR))
        return None

    def _balance(self, owner: str, mint: str) -> int:
        return self.lamports.get(owner, 0) if mint == SOL else self.tokens.get((owner, mint), 0)

    def _move(self, owner: str, mint: str, delta: int) -> None:
        if mint == SOL:
            self.lamports[owner] = self.lamports.get(owner, 0) + delta
        else:
            self.tokens[(owner, mint)] = self.tokens.get((owner, mint), 0) + delta

    # -- JSON-RPC -------------------------------------------------------------------------
    def app(self):
        app = web.Application(middlewares=[self.faults])
        app.router.add_post("/", self.rpc)
        return app

    def rate_limited(self):
        return web.json_response({"jsonrpc": "2.0", "id": None, "error": {
            "code": 429, "message": "Too many requests for a specific RPC call"}}, status=429, headers={"Retry-After": "0"})

    def fault(self, request):
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(text="upstream unavailable", status=503)
        return None

    @staticmethod
    def ok(rid, result):
        return web.json_response({"jsonrpc": "2.0", "id": rid, "result": result})

    @staticmethod
    def err(rid, code, message, data=None):
        error = {"code": code, "message": message}
        if data is not None:
            error["data"] = data
        return web.json_response({"jsonrpc": "2.0", "id": rid, "error": error})

    def ctx(self, value):
        return {"context": {"apiVersion": self.version, "slot": self.slot}, "value": value}

    async def rpc(self, request):
        body = await request.json()
        rid, method, params = body.get("id"), body.get("method"), body.get("params") or []
        self.calls.append(method)
        if self.stall_next:
            self.stall_next -= 1
            await asyncio.sleep(self.stall_s)
        handler = getattr(self, "m_" + str(method), None)
        if handler is None:
            return self.err(rid, -32601, "Method not found")
        return await handler(rid, params)

    async def m_getVersion(self, rid, params):
        return self.ok(rid, {"solana-core": self.version, "feature-set": 3294202862})

    async def m_getBlockHeight(self, rid, params):
        return self.ok(rid, self.height)

    async def m_getBalance(self, rid, params):
        return self.ok(rid, self.ctx(self.lamports.get(params[0], 0)))

    async def m_getTokenAccountsByOwner(self, rid, params):
        owner, mint = params[0], params[1].get("mint")
        if (owner, mint) not in self.tokens:
            return self.ok(rid, self.ctx([]))
        amount = self.tokens[(owner, mint)]
        ui = Decimal(amount) / Decimal(10) ** DECIMALS[mint]
        info = {"isNative": False, "mint": mint, "owner": owner, "state": "initialized",
                "tokenAmount": {"amount": str(amount), "decimals": DECIMALS[mint], "uiAmount": float(ui),
                                "uiAmountString": format(ui.normalize(), "f")}}
        return self.ok(rid, self.ctx([{"pubkey": ata(owner, mint), "account": {
            "data": {"parsed": {"info": info, "type": "account"}, "program": "spl-token", "space": 165},
            "executable": False, "lamports": RENT, "owner": TOKEN_PROGRAM, "rentEpoch": 18446744073709551615,
            "space": 165}}]))

    async def m_getSignatureStatuses(self, rid, params):
        out = []
        for sig in params[0]:
            tx = self.txs.get(sig)
            out.append(None if tx is None else {"slot": tx["slot"], "confirmations": None, "err": tx["err"],
                                                "status": {"Ok": None} if tx["err"] is None else {"Err": tx["err"]},
                                                "confirmationStatus": "finalized"})
        return self.ok(rid, self.ctx(out))

    async def m_getTransaction(self, rid, params):
        opts = params[1] if len(params) > 1 else {}
        tx = self.txs.get(params[0])
        if tx is not None and tx["version"] == 0 and opts.get("maxSupportedTransactionVersion") is None:
            return self.err(rid, -32015, "Transaction version (0) is not supported by the requesting client.")
        return self.ok(rid, None if tx is None else tx["view"])

    async def m_sendTransaction(self, rid, params):
        opts = params[1] if len(params) > 1 else {}
        if opts.get("encoding") != "base64":
            return self.err(rid, -32602, "invalid transaction: expected base64 here")
        try:
            raw = base64.b64decode(params[0], validate=True)
            tx = read_tx(raw)
        except (ValueError, IndexError):
            return self.err(rid, -32602, "invalid transaction: failed to deserialize")
        self.sends.append(params[0])
        for i in range(tx["required"]):
            if not verified(tx["keys"][i], tx["sigs"][i], tx["message"]):
                return self.err(rid, -32003, "Transaction signature verification failure")
        sig = b58(tx["sigs"][0])
        if sig in self.txs:
            return self.err(rid, -32002, "Transaction simulation failed: This transaction has already been processed",
                            {"err": "AlreadyProcessed", "logs": []})
        if sig in self.dropped:
            return self.ok(rid, sig)
        valid = self.blockhashes.get(tx["blockhash"])
        if valid is None or self.height > valid:
            return self.err(rid, -32002, "Transaction simulation failed: Blockhash not found", {"err": "BlockhashNotFound"})
        swap = json.loads(tx["data"][4:]) if tx["program"] == JUP_PROGRAM and tx["data"][:4] == b"SWAP" else None
        payer = tx["keys"][0]
        if self.lamports.get(payer, 0) < FEE:
            return self.err(rid, -32002, "Transaction simulation failed: Attempt to debit an account but found no record "
                                         "of a prior credit.", {"err": "AccountNotFound"})
        moves, failure = self.simulate(swap)
        if failure is not None:
            return self.err(rid, -32002, f"Transaction simulation failed: Error processing Instruction 1: {failure[1]}",
                            {"err": failure[0], "logs": [f"Program {JUP_PROGRAM} failed: {failure[1]}"]})
        if self.pending_next:                       # accepted by this node, never lands
            self.pending_next -= 1
            self.dropped.add(sig)
            return self.ok(rid, sig)
        if self.drop_next:                          # accepted, then lost on the way to the leader
            self.drop_next -= 1
            return self.ok(rid, sig)
        if self.revert_next:                        # preflight passed, execution failed (the price moved)
            self.revert_next -= 1
            self.land(sig, tx, [], {"InstructionError": [1, {"Custom": 6001}]})
        else:
            self.land(sig, tx, moves, None)
        if self.lose_next_send:
            self.lose_next_send -= 1
            return web.Response(text="bad gateway", status=502)
        return self.ok(rid, sig)

    def simulate(self, swap: dict | None) -> tuple[list, tuple | None]:
        if swap is None:
            return [], None
        priced = self.price(swap["in"], swap["out"], swap["mode"], int(swap["amount"]))
        if priced is None:
            return [], ({"InstructionError": [1, {"Custom": 6017}]}, "custom program error: 0x1781")
        got_in, got_out = priced
        limit = int(swap["threshold"])
        if (swap["mode"] == "ExactIn" and got_out < limit) or (swap["mode"] == "ExactOut" and got_in > limit):
            return [], ({"InstructionError": [1, {"Custom": 6001}]}, "custom program error: 0x1771")
        need = got_in + (FEE if swap["in"] == SOL else 0)
        if self._balance(swap["user"], swap["in"]) < need:
            return [], ({"InstructionError": [1, {"Custom": 1}]}, "custom program error: 0x1")
        return [(swap["user"], swap["in"], -got_in), (swap["user"], swap["out"], got_out)], None

    def land(self, sig: str, tx: dict, moves: list, err) -> None:
        """Apply the swap (and the fee) and keep the jsonParsed view getTransaction answers."""
        payer = tx["keys"][0]
        keys = list(tx["keys"]) + [b58(hashlib.sha256(b"pool-vault").digest())]      # + one lookup-table key
        sources = ["transaction"] * len(tx["keys"]) + ["lookupTable"]
        user_mints = sorted({m for _, m, _ in moves if m != SOL} | {USDC})
        token_keys = [ata(payer, m) for m in user_mints]
        for k in token_keys:
            if k not in keys:
                keys.append(k)
                sources.append("lookupTable")
        pool_key = keys[len(tx["keys"])]

        def snapshot():
            def lamports_of(k):
                if k == payer:
                    return self.lamports.get(payer, 0)
                if k in token_keys:
                    return RENT if self._has(payer, k, user_mints) else 0
                return 10**9 if k == pool_key else 1
            lam = [lamports_of(k) for k in keys]
            toks = [{"accountIndex": keys.index(ata(payer, m)), "mint": m, "owner": payer, "programId": TOKEN_PROGRAM,
                     "uiTokenAmount": self._ui(m, self.tokens[(payer, m)])} for m in user_mints if (payer, m) in self.tokens]
            toks.append({"accountIndex": keys.index(pool_key), "mint": USDC, "owner": JUP_PROGRAM,
                         "programId": TOKEN_PROGRAM, "uiTokenAmount": self._ui(USDC, 10**12)})
            return lam, toks

        pre_lam, pre_tok = snapshot()
        self.lamports[payer] = self.lamports.get(payer, 0) - FEE
        for owner, mint, delta in moves:
            if mint != SOL and (owner, mint) not in self.tokens:
                self.tokens[(owner, mint)] = 0
                self.lamports[owner] -= RENT              # the swap opened this token account for us
            self._move(owner, mint, delta)
        post_lam, post_tok = snapshot()
        self.slot += 1
        self.height += 1
        self.txs[sig] = {"slot": self.slot, "err": err, "version": 0, "view": {
            "slot": self.slot, "blockTime": int(time.time()), "version": 0,
            "meta": {"err": err, "status": {"Ok": None} if err is None else {"Err": err}, "fee": FEE,
                     "preBalances": pre_lam, "postBalances": post_lam, "preTokenBalances": pre_tok,
                     "postTokenBalances": post_tok, "logMessages": [], "computeUnitsConsumed": 120_000},
            "transaction": {"signatures": [sig], "message": {
                "accountKeys": [{"pubkey": k, "signer": i < tx["required"], "writable": True, "source": s}
                                for i, (k, s) in enumerate(zip(keys, sources))],
                "recentBlockhash": tx["blockhash"], "instructions": []}}}}

    def _has(self, owner: str, key: str, mints: list[str]) -> bool:
        return any(key == ata(owner, m) and (owner, m) in self.tokens for m in mints)

    @staticmethod
    def _ui(mint: str, amount: int) -> dict:
        ui = Decimal(amount) / Decimal(10) ** DECIMALS[mint]
        return {"amount": str(amount), "decimals": DECIMALS[mint], "uiAmount": float(ui),
                "uiAmountString": format(ui.normalize(), "f")}


class FakeJupiter(FakeVenueServer):
    """The Metis swap API: /swap/v1/quote and /swap/v1/swap over the chain's book."""

    def __init__(self, chain: FakeChain, api_key: str = ""):
        super().__init__()
        self.chain, self.api_key = chain, api_key
        self.foreign_payer_next = self.extra_signer_next = 0
        self.swaps: list[dict] = []

    def app(self):
        app = web.Application(middlewares=[self.faults])
        app.router.add_get("/swap/v1/quote", self.quote)
        app.router.add_post("/swap/v1/swap", self.swap)
        return app

    def rate_limited(self):
        return web.json_response({"error": "Too many requests"}, status=429, headers={"Retry-After": "0"})

    def fault(self, request):
        if self.api_key and request.headers.get("x-api-key") != self.api_key:
            return web.json_response({"error": "Unauthorized: invalid API key"}, status=401)
        return None

    @staticmethod
    def refuse(message: str, code: str):
        return web.json_response({"error": message, "errorCode": code}, status=400)

    async def quote(self, request):
        q = request.query
        try:
            amount, bps = int(q["amount"]), int(q.get("slippageBps", 50))
        except (KeyError, ValueError):
            return self.refuse("Invalid amount or slippageBps", "INVALID_REQUEST")
        mode = q.get("swapMode", "ExactIn")
        if mode not in ("ExactIn", "ExactOut") or amount <= 0:
            return self.refuse("Invalid swapMode or amount", "INVALID_REQUEST")
        for m in (q.get("inputMint"), q.get("outputMint")):
            if m not in DECIMALS:
                return self.refuse(f"The token {m} is not tradable", "TOKEN_NOT_TRADABLE")
        priced = self.chain.price(q["inputMint"], q["outputMint"], mode, amount)
        if priced is None:
            return self.refuse("Could not find any route", "COULD_NOT_FIND_ANY_ROUTE")
        got_in, got_out = priced
        threshold = got_out * (10_000 - bps) // 10_000 if mode == "ExactIn" else -(-got_in * (10_000 + bps) // 10_000)
        return web.json_response({
            "inputMint": q["inputMint"], "inAmount": str(got_in), "outputMint": q["outputMint"], "outAmount": str(got_out),
            "otherAmountThreshold": str(threshold), "swapMode": mode, "slippageBps": bps, "platformFee": None,
            "priceImpactPct": "0", "routePlan": [{"swapInfo": {
                "ammKey": "HcoJqG325TTifs6jyWvRJ9ET4pDu12Xrt2EQKZGFmuKX", "label": "Whirlpool", "inputMint": q["inputMint"],
                "outputMint": q["outputMint"], "inAmount": str(got_in), "outAmount": str(got_out), "feeAmount": "0",
                "feeMint": q["inputMint"]}, "percent": 100, "bps": 10000}],
            "contextSlot": self.chain.slot, "timeTaken": 0.002})

    async def swap(self, request):
        body = await request.json()
        quote, user = body.get("quoteResponse") or {}, body.get("userPublicKey")
        try:
            base58.b58decode(user or "")
            swap = {"in": quote["inputMint"], "out": quote["outputMint"], "mode": quote["swapMode"],
                    "amount": quote["outAmount"] if quote["swapMode"] == "ExactOut" else quote["inAmount"],
                    "threshold": quote["otherAmountThreshold"], "user": user}
        except (KeyError, ValueError, TypeError):
            return self.refuse("Invalid quoteResponse or userPublicKey", "INVALID_REQUEST")
        self.swaps.append(body)
        blockhash, last_valid = self.chain.new_blockhash()
        signers = [user]
        if self.foreign_payer_next:
            self.foreign_payer_next -= 1
            signers = [b58(pubkey_of(os.urandom(32))), user]
        elif self.extra_signer_next:
            self.extra_signer_next -= 1
            signers = [user, b58(pubkey_of(os.urandom(32)))]
        keys = signers + [ata(user, USDC), JUP_PROGRAM]
        data = b"SWAP" + json.dumps(swap).encode()
        lookup = (b58(hashlib.sha256(b"lookup-table").digest()), [0], [])
        raw = build_v0(keys, len(signers), 1, blockhash, len(keys) - 1, list(range(len(keys) - 1)), data, lookup)
        return web.json_response({"swapTransaction": base64.b64encode(raw).decode(), "lastValidBlockHeight": last_valid,
                                  "prioritizationFeeLamports": FEE - 5000, "computeUnitLimit": 200_000,
                                  "dynamicSlippageReport": None, "simulationError": None})
