"""Solana execution: each node order is one Jupiter swap transaction, signed here and sent
through JSON-RPC.

Sides and bounds: sell base = ``ExactIn`` of the base mint (minimum out = qty × limit);
buy base = ``ExactOut`` of the base mint (maximum in = qty × limit). The bound goes to Jupiter
as ``slippageBps`` relative to the fresh quote, rounded down so the on-chain bound
(``otherAmountThreshold``) is never looser than the limit, and that threshold is checked in
the quote before signing. ``limit`` and ``ioc`` are that bounded swap; a limit the fresh quote
already misses sends nothing and answers EXPIRED. ``market`` is bounded by the venue setting
``slippage_bps`` (default 50) around the fresh quote. ``post_only`` is refused: a swap
cannot rest. Amend is impossible (a sent transaction cannot be changed): the engine falls
back to cancel-replace, and cancel refuses while the transaction can still land, naming the
block height after which it cannot (``lastValidBlockHeight``); once past it the order is
EXPIRED.

Journal before send, never double-send: the signed bytes, tx id (base58 of our signature),
blockhash and last valid height go to ``sent.jsonl`` (``sequence_core.sentlog.SentLog``,
fsynced) before ``sendTransaction``. A retried place, a lost answer or a restart reads the
record and asks ``getSignatureStatuses``: found -> its state; unknown and the chain's block
height still <= lastValidBlockHeight -> the SAME bytes are sent again (Solana drops a
duplicate signature, https://solana.com/docs/advanced/retry); unknown and past it -> EXPIRED:
it can never land. No second swap is ever signed for a client order id. A node that refuses
the first send in simulation (preflight) never forwarded it: that is a REJECTED with the
node's reason.

Fills (``getTransaction``, jsonParsed): what moved for our wallet, from
``meta.pre/postTokenBalances`` (entries whose ``owner`` is us, by mint) and, for SOL, from
``meta.pre/postBalances`` of our account plus ``meta.fee`` (we pay it) plus the rent of token
accounts the swap opened for us (a deposit we still own, not a cost). price = quote moved /
base moved; fill id = the signature; fee = the network fee (``meta.fee`` lamports) in the
quote asset, at the fill price for SOL pairs, at a SOL->quote Jupiter quote otherwise.
"""

from __future__ import annotations

import base64
import time
from decimal import ROUND_FLOOR, Decimal

import msgspec

from sequence_core.errors import InvalidOrder, NetworkError, SequenceError
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill
from sequence_core.market import plain
from sequence_core.sentlog import SentLog

from .http import JupiterClient, RpcClient, tx_error
from .signing import b58, b64, public_key, sign_transaction
from .symbols import LAMPORTS_PER_SOL, WSOL_MINT, decimals, from_raw, mint, to_raw

FINAL = ("FILLED", "REJECTED", "EXPIRED", "CANCELLED")
REBROADCAST_S = 2.0


class SentRecord(msgspec.Struct):
    client_order_id: str
    chain: str
    txid: str
    raw: str                       # base64 of the signed transaction, as sent
    blockhash: str
    last_valid_height: int
    symbol: str
    side: str
    qty: str
    in_amount: str                 # quoted token units in and out, for the record
    out_amount: str
    sent_ns: int
    refused: str = ""              # the node refused the first send in simulation: never forwarded


def _dec(value) -> Decimal:
    return Decimal(str(value))


def _owned(balances: list, owner: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in balances or ():
        if b.get("owner") == owner:
            out[b["mint"]] = out.get(b["mint"], 0) + int(b["uiTokenAmount"]["amount"])
    return out


def moved(tx: dict, owner: str) -> tuple[dict[str, int], int]:
    """Per mint, what the transaction moved for ``owner`` (native SOL under the wSOL mint),
    and the network fee in lamports."""
    meta = tx["meta"]
    keys = [k["pubkey"] if isinstance(k, dict) else k for k in tx["transaction"]["message"]["accountKeys"]]
    pre, post = _owned(meta.get("preTokenBalances"), owner), _owned(meta.get("postTokenBalances"), owner)
    delta = {m: post.get(m, 0) - pre.get(m, 0) for m in set(pre) | set(post)}
    fee = int(meta.get("fee") or 0)
    if owner in keys:
        i = keys.index(owner)
        native = meta["postBalances"][i] - meta["preBalances"][i] + (fee if i == 0 else 0)
        new_token_accounts = {b["accountIndex"] for b in meta.get("postTokenBalances") or () if b.get("owner") == owner} - \
                             {b["accountIndex"] for b in meta.get("preTokenBalances") or ()}
        native += sum(meta["postBalances"][j] for j in new_token_accounts if meta["preBalances"][j] == 0)
        delta[WSOL_MINT] = delta.get(WSOL_MINT, 0) + native
    return delta, fee


class SolanaSession(ExecutionSession):
    venue = "solana"
    amend_mode = "cancel_replace"

    def __init__(self, rpc: RpcClient, jupiter: JupiterClient, keypair: bytes, log: SentLog, settings: dict | None = None):
        self.rpc, self.jupiter, self.log = rpc, jupiter, log
        self._seed = keypair[:32]
        self.owner = b58(public_key(self._seed))
        self.settings = dict(settings or {})
        self.slippage_bps = int(self.settings.get("slippage_bps", 50))
        self.max_retries = self.settings.get("send_max_retries")
        self.chain = str(self.settings.get("chain", "solana-mainnet"))
        self.confirm_wait_s = float(self.settings.get("confirm_wait_s", 4.0))
        self.rebroadcast_s = float(self.settings.get("rebroadcast_s", REBROADCAST_S))
        self._final: dict[str, OrderState] = {}
        self._sent_at: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"SolanaSession({self.owner})"

    # -- placing ---------------------------------------------------------------------------
    async def place(self, node, instrument) -> OrderState:
        rec = self.log.get(node.client_order_id)
        if rec is not None:                 # a retry or a restart: ask the chain, never sign again
            return await self.order_state(node.client_order_id, instrument)
        if node.order_type == "post_only":
            raise InvalidOrder("solana: post-only is not possible: a swap executes at once or fails; it cannot rest")
        base, quote = instrument.base, instrument.quote
        qty_raw = to_raw(base, node.qty)
        if qty_raw <= 0 or from_raw(base, qty_raw) != node.qty:
            raise InvalidOrder(f"solana: qty {node.qty} is not a whole number of {base} units ({instrument.lot_size})")
        buy = node.side == "buy"
        in_mint, out_mint, mode = (mint(quote), mint(base), "ExactOut") if buy else (mint(base), mint(quote), "ExactIn")
        market = node.order_type == "market" or node.limit_price is None
        fresh = await self.jupiter.quote(in_mint, out_mint, qty_raw, mode, self.slippage_bps if market else 0)
        bps, bound = self._bound(node, instrument, fresh, buy, market)
        if bps is None:
            return OrderState(node.client_order_id, None, "EXPIRED", Decimal(0), reason=bound, venue_ts_ns=time.time_ns())
        q = fresh if market else await self.jupiter.quote(in_mint, out_mint, qty_raw, mode, bps)
        threshold = int(q["otherAmountThreshold"])
        if (buy and threshold > bound) or (not buy and threshold < bound):
            raise InvalidOrder(f"solana: Jupiter's quote bounds the swap at {threshold} units, beyond the order's {bound}")
        built = await self.jupiter.swap(q, self.owner)
        signed, txid, parsed = sign_transaction(base64.b64decode(built["swapTransaction"]), self._seed)
        rec = SentRecord(node.client_order_id, self.chain, txid, b64(signed), b58(parsed.recent_blockhash),
                         int(built["lastValidBlockHeight"]), instrument.symbol, node.side, f"{node.qty:f}",
                         str(q["inAmount"]), str(q["outAmount"]), time.time_ns())
        self.log.put(rec)                   # on disk (fsynced) before it leaves
        try:
            await self._send(rec)
        except NetworkError:
            raise                           # lost answer: the engine asks order_state, which re-sends the same bytes
        except SequenceError as exc:
            self.log.put(msgspec.structs.replace(rec, refused=str(exc)))
            raise
        return await self._settle(rec, instrument)

    async def _settle(self, rec: SentRecord, instrument) -> OrderState:
        """Solana confirms in about a second: wait up to ``confirm_wait_s`` (default 4, inside
        the engine's send timeout) so a swap answers FILLED like a taker order; the engine's
        poll finishes one that takes longer."""
        import asyncio

        deadline = time.monotonic() + self.confirm_wait_s
        state = self._pending(rec)
        while time.monotonic() < deadline:
            await asyncio.sleep(min(0.4, self.confirm_wait_s))
            state = await self.order_state(rec.client_order_id, instrument)
            if state.status in FINAL:
                break
        return state

    def _bound(self, node, inst, fresh: dict, buy: bool, market: bool) -> tuple[int | None, int | str]:
        """slippageBps for this order and its bound in token units (buy: max quote in; sell:
        min quote out); (None, why) when a limit is already out of reach."""
        quoted = int(fresh["inAmount"] if buy else fresh["outAmount"])
        if market:
            bps = self.slippage_bps
            bound = -(-quoted * (10_000 + bps) // 10_000) if buy else quoted * (10_000 - bps) // 10_000
            return bps, bound
        limit = node.qty * node.limit_price
        bound = to_raw(inst.quote, limit, "ROUND_FLOOR" if buy else "ROUND_CEILING")
        price = from_raw(inst.quote, quoted) / node.qty
        if (buy and quoted > bound) or (not buy and quoted < bound):
            return None, (f"the swap cannot fill within the limit {node.limit_price}: Jupiter quotes "
                          f"{price:.10g} {inst.quote} per {inst.base} now; nothing was sent")
        ratio = Decimal(bound) / Decimal(quoted) - 1 if buy else 1 - Decimal(bound) / Decimal(quoted)
        return int((ratio * 10_000).to_integral_value(rounding=ROUND_FLOOR)), bound

    async def _send(self, rec: SentRecord) -> None:
        self._sent_at[rec.client_order_id] = time.monotonic()
        await self.rpc.send(rec.raw, None if self.max_retries is None else int(self.max_retries))

    def _pending(self, rec: SentRecord, note: str = "") -> OrderState:
        return OrderState(rec.client_order_id, rec.txid, "NEW", Decimal(0), reason=note, qty=Decimal(rec.qty),
                          venue_ts_ns=rec.sent_ns)

    # -- reading ---------------------------------------------------------------------------
    async def order_state(self, client_order_id, instrument=None):
        rec = self.log.get(client_order_id)
        if rec is None:
            return None
        if client_order_id in self._final:
            return self._final[client_order_id]
        if rec.refused:
            return self._done(OrderState(client_order_id, rec.txid, "REJECTED", Decimal(0), reason=rec.refused))
        try:
            return await self._read(rec, instrument)
        except NetworkError as exc:         # sent is sent: it stays working until the chain answers
            return self._pending(rec, f"chain not readable just now: {exc}")

    async def _read(self, rec: SentRecord, instrument) -> OrderState:
        client_order_id = rec.client_order_id
        state = await self._landed(rec, instrument)
        if state is not None:
            return state
        height = await self.rpc.block_height()
        if height > rec.last_valid_height:
            # asked again: it may have landed between the two reads, in a block before the expiry
            return await self._landed(rec, instrument) or self._done(OrderState(
                client_order_id, rec.txid, "EXPIRED", Decimal(0), reason=(
                    f"transaction {rec.txid} never landed and its blockhash expired (block height {height} > last valid "
                    f"{rec.last_valid_height}): it can never land")))
        if time.monotonic() - self._sent_at.get(client_order_id, 0.0) >= self.rebroadcast_s:
            try:
                await self._send(rec)       # the node does not know it and it can still land: the same bytes again
            except SequenceError as exc:    # an earlier copy may still land: keep waiting until the expiry height
                return self._pending(rec, f"re-broadcast refused: {exc}")
        return self._pending(rec, f"not seen on chain yet; can land until block height {rec.last_valid_height} (now {height})")

    async def _landed(self, rec: SentRecord, instrument) -> OrderState | None:
        """What the chain says of the transaction, or None while it has not seen it."""
        (status,) = await self.rpc.statuses([rec.txid])
        if status is None:
            return None
        if status.get("err") is not None:
            err = tx_error(status["err"], f"the swap {rec.txid} failed on chain")
            return self._done(OrderState(rec.client_order_id, rec.txid, "REJECTED", Decimal(0), reason=str(err)))
        if status.get("confirmationStatus") in ("confirmed", "finalized"):
            return self._done(await self._filled(rec, instrument))
        return self._pending(rec, "processed, awaiting confirmation")

    def _done(self, state: OrderState) -> OrderState:
        self._final[state.client_order_id] = state
        return state

    async def _filled(self, rec: SentRecord, instrument) -> OrderState:
        tx = await self.rpc.transaction(rec.txid)
        if tx is None:
            raise NetworkError(f"solana: the node has no record of confirmed transaction {rec.txid} yet")
        base, quote = rec.symbol.split("-")
        delta, fee_lamports = moved(tx, self.owner)
        base_qty, quote_amt = (Decimal(plain(from_raw(base, abs(delta.get(mint(base), 0))))),
                               from_raw(quote, abs(delta.get(mint(quote), 0))))
        ts = int(tx.get("blockTime") or 0) * 1_000_000_000
        if not base_qty:
            return OrderState(rec.client_order_id, rec.txid, "REJECTED", Decimal(0), reason=(
                f"transaction {rec.txid} landed but moved no {base} for this wallet"), venue_ts_ns=ts)
        price = Decimal(plain(quote_amt / base_qty))
        fee_sol = Decimal(fee_lamports) / LAMPORTS_PER_SOL
        fee = fee_sol * (price if base == "SOL" else await self._sol_price(quote))
        fill = VenueFill(rec.txid, price, base_qty, fee.quantize(Decimal(1).scaleb(-decimals(quote))), quote, "taker", ts)
        want = Decimal(rec.qty)
        status, reason = ("FILLED", "") if base_qty >= want else ("CANCELLED", f"the swap moved {base_qty} of {want} {base}")
        return OrderState(rec.client_order_id, rec.txid, status, base_qty, (fill,), reason=reason, venue_ts_ns=ts,
                          qty=want)

    async def _sol_price(self, quote: str) -> Decimal:
        """SOL in the quote asset (to state a network fee in it); 0 when Jupiter cannot say."""
        try:
            q = await self.jupiter.quote(WSOL_MINT, mint(quote), LAMPORTS_PER_SOL, "ExactIn", 0)
            return from_raw(quote, int(q["outAmount"]))
        except (SequenceError, KeyError, ValueError):
            return Decimal(0)

    async def poll(self, nodes):
        return [s for n, inst in nodes if (s := await self.order_state(n.client_order_id, inst)) is not None]

    async def open_orders(self, instrument) -> list[OrderState]:
        """Swaps sent and not settled yet (they cannot rest; they land or expire)."""
        out = []
        for rec in self.log:
            if rec.symbol == instrument.symbol and not rec.refused and rec.client_order_id not in self._final:
                state = await self.order_state(rec.client_order_id, instrument)
                if state is not None and state.status not in FINAL:
                    out.append(state)
        return out

    # -- what cannot be done -----------------------------------------------------------------
    async def cancel(self, node, instrument) -> OrderState:
        state = await self.order_state(node.client_order_id, instrument)
        if state is None:
            return OrderState(node.client_order_id, None, "CANCELLED", Decimal(0), reason="never sent to solana")
        if state.status in FINAL:
            return state
        rec = self.log.get(node.client_order_id)
        raise InvalidOrder(f"solana: transaction {rec.txid} was submitted and cannot be recalled; it lands or expires "
                           f"by block height {rec.last_valid_height}")

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        raise InvalidOrder("solana: a submitted swap cannot be amended (a signed transaction cannot change)")

    # -- wallet ------------------------------------------------------------------------------
    async def balances(self):
        """SOL (native lamports; the swap wraps what it needs) and every declared token, by
        its canonical name, from the wallet's token accounts (``uiAmountString``)."""
        from .symbols import TOKENS

        out = {"SOL": from_raw("SOL", await self.rpc.balance(self.owner))}
        for asset, (token_mint, _) in TOKENS.items():
            if token_mint == WSOL_MINT:
                continue
            accounts = await self.rpc.token_accounts(self.owner, token_mint)
            out[asset] = sum((_dec(a["account"]["data"]["parsed"]["info"]["tokenAmount"]["uiAmountString"])
                              for a in accounts), Decimal(0))
        return out

    async def holdings(self):
        """The same on-chain reads as ``balances``, which are already totals (a Jupiter swap
        escrows nothing): SOL and every declared token, zero ones left out."""
        return {a: q for a, q in (await self.balances()).items() if q}

    async def positions(self):
        return None                         # spot holdings: ``holdings``

    async def close(self) -> None:
        await self.rpc.close()
        await self.jupiter.close()

