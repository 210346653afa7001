"""dex_ethereum execution: each node order is one Uniswap v3 swap transaction (SwapRouter02).

Decisions (see contracts.py for the contracts and venue.py for settings):
- A swap cannot rest. ``post_only`` is refused (InvalidOrder). ``limit`` and ``ioc`` are one swap
  bounded by the limit price: buy = ``exactOutputSingle`` (exactly qty base out) with
  ``amountInMaximum = qty × limit``; sell = ``exactInputSingle`` (exactly qty base in) with
  ``amountOutMinimum = qty × limit``. ``market`` takes a fresh QuoterV2 quote for that exact size
  and bounds it by ``slippage_bps`` (default 50). A bound the pool cannot meet reverts already
  in ``eth_estimateGas``: nothing is signed and the order ends CANCELLED (no liquidity within the
  limit), like an IOC that found nothing.
- The pool trades WETH. ``balances()`` reports WETH under the canonical ``ETH``, WBTC under
  ``BTC``, and the native coin as ``native:ETH`` (gas money first). Which ETH an ETH-USDC order
  spends or receives is ``[venues.dex_ethereum] native_eth``:
  ``"auto"`` (default) - a sell spends WETH when the wallet's WETH covers the whole qty (exactly
  as before), else native ETH for the whole qty (never a mix: the router either wraps the
  value sent or pulls WETH, not both); a buy delivers WETH.
  ``"always"`` - ETH is the native coin both ways: a sell spends native ETH, a buy delivers it.
  ``"never"`` - WETH only (a sell without the WETH is refused, InsufficientFunds).
  A sell paid in native ETH is ``exactInputSingle(WETH -> USDC)`` sent with ``value = qty``
  (the router wraps exactly that; exact input leaves nothing to refund) and needs no approval.
  A buy delivered as native ETH is ``multicall([exactOutputSingle(recipient = ADDRESS_THIS),
  unwrapWETH9(qty, wallet)])`` (contracts.py). Native ETH must cover value + gas limit × max
  fee: a sell that would leave too little for its own gas is refused before anything is signed
  (InsufficientFunds naming both amounts). The fill's ETH leg is then the router <-> pool WETH
  Transfer (wrap/unwrap mint and burn logs, from/to the zero address, are not trades).
- Approval: if ``allowance(wallet, router)`` of the input token is below what the swap may take,
  an ``approve(router, that amount)`` goes first with its own nonce (journaled as
  ``approve:<client order id>``) and the swap is built once its receipt is in (``approve_wait_s``).
- Transactions are EIP-1559 (signing.py): nonce from ``eth_getTransactionCount(addr, "pending")``,
  ``maxPriorityFeePerGas`` from ``eth_maxPriorityFeePerGas``, ``maxFeePerGas = 2 × latest
  baseFee + priority``, gas = ``eth_estimateGas`` × 1.2.
- Journal before send (sequence_core.sentlog): the signed bytes, nonce, fees and hash are
  fsynced under the client order id before ``eth_sendRawTransaction``. A retried place, a lost
  answer or a restart reads the record and asks the node for that hash; one the node does not
  know is re-broadcast from the SAME bytes. A second swap is never signed for a client order id,
  except when the node says its nonce is already mined by another transaction ("nonce too low"
  at the first send: the first signature can never land) - then it is re-signed once at the
  next nonce and the record replaced.
- State: a receipt with status 1 is FILLED, its one fill computed from the Transfer logs to and
  from the wallet (fill id = the tx hash); status 0 is REJECTED "reverted on chain"; no receipt
  while the wallet's mined nonce has passed ours is EXPIRED (another transaction took the nonce);
  else NEW (pending). A re-broadcast answered "replacement transaction underpriced" (a pricier
  transaction holds the nonce: this order's cancel, sent while a read was under way, or another
  wallet app's) is no verdict and records no refusal; the receipt that follows decides.
- Fill price and fee: the pool's fee is taken from the input, so the fill's price is the swap's
  price before that fee and ``fee`` = the LP fee in the quote asset (buy: fee tier × quote paid;
  sell: fee tier × the pre-fee notional) plus the gas (gasUsed × effectiveGasPrice, in ETH)
  converted to the quote at the ETH price (the fill price for ETH-USDC, a QuoterV2 quote of the
  chain's WETH/USDC pool otherwise). price × qty ± the LP fee is exactly the quote that moved.
- Cancel of a pending swap sends a replacement at the same nonce: a 0-value self-transfer
  (21000 gas) with both fee caps at least 12.5% over the pending one's (journaled as
  ``cancel:<client order id>``). Its receipt -> CANCELLED; the swap's receipt -> FILLED/REJECTED.
- Amend is impossible (a swap does not rest): ``amend_mode`` is cancel_replace, so the engine
  cancels (replacement transaction) and places anew; ``amend()`` itself refuses.
"""

from __future__ import annotations

import asyncio
import time
from decimal import ROUND_CEILING, Decimal

import msgspec

from sequence_core.errors import ConfigError, InsufficientFunds, InvalidOrder, NetworkError, RateLimitExceeded, VenueError
from sequence_core.execution import AmendResult, ExecutionSession, OrderState, VenueFill, spendable
from sequence_core.market import plain
from sequence_core.sentlog import SentLog

from . import contracts as c
from .http import AlreadyKnown, NonceContested, NonceTaken, Reverted, RpcClient
from .signing import Signed, Tx, sign

V = "dex_ethereum"
BUMP = Decimal("1.125")        # a replacement's fee caps over the pending transaction's
NATIVE_MODES = ("auto", "always", "never")


class TxRecord(msgspec.Struct):
    client_order_id: str        # the node's id; "approve:<id>" / "cancel:<id>" for the others
    kind: str                   # swap | approve | cancel
    chain_id: int
    nonce: int
    tx_hash: str
    raw: str                    # 0x hex of the signed bytes, re-broadcast as they are
    max_fee: int
    priority: int
    venue_symbol: str = ""
    side: str = ""
    qty: str = ""
    bound: int = 0              # amountInMaximum (buy) / amountOutMinimum (sell), token units
    value: int = 0              # wei sent with the transaction (a sell paid in native ETH)
    native: str = ""            # "pay" (native ETH in) / "receive" (native ETH out) / "" (WETH)
    status: str = "sent"        # sent | refused | mined | reverted
    reason: str = ""
    sent_ns: int = 0


class DexSession(ExecutionSession):
    venue = V
    amend_mode = "cancel_replace"

    def __init__(self, client: RpcClient, private_key: bytes, chain: c.Chain, log: SentLog[TxRecord], settings: dict | None = None):
        from sequence_core.keys import evm_address_of

        s = dict(settings or {})
        self.client, self.chain, self.log = client, chain, log
        self._key = private_key
        self.address = evm_address_of(private_key)
        self.slippage_bps = Decimal(str(s.get("slippage_bps", 50)))
        self.gas_multiplier = Decimal(str(s.get("gas_multiplier", "1.2")))
        self.approve_wait_s = float(s.get("approve_wait_s", 6.0))
        self.cancel_wait_s = float(s.get("cancel_wait_s", 5.0))
        self.receipt_poll_s = float(s.get("receipt_poll_s", 0.25))
        self.native_eth = str(s.get("native_eth", "auto")).lower()
        if self.native_eth not in NATIVE_MODES:
            raise ConfigError(f"[venues.{V}] native_eth = '{self.native_eth}' is not supported; "
                              f"accepted: {', '.join(NATIVE_MODES)}")
        self._chain_checked = False
        self._eth_price: tuple[float, Decimal] | None = None

    def __repr__(self) -> str:
        return f"DexSession({self.chain.name}, {self.address})"

    # -- helpers ---------------------------------------------------------------------------------
    async def check_chain(self) -> None:
        """Refuse to sign for a node of another chain (the signature would be for the wrong id)."""
        if not self._chain_checked:
            found = await self.client.chain_id()
            if found != self.chain.chain_id:
                raise VenueError(f"{V}: the RPC node is chain {found}, but [venues.{V}] chain = '{self.chain.name}' "
                                 f"is {self.chain.chain_id}; point the RPC URL at {self.chain.name}")
            self._chain_checked = True

    def pair(self, inst) -> c.Pair:
        try:
            return self.chain.pair(inst.venue_symbol)
        except KeyError:
            raise InvalidOrder(f"{V}: {inst.venue_symbol} is not a pool this adapter trades on {self.chain.name}") from None

    async def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): 2 × the latest base fee + the node's tip."""
        block = await self.client.latest_block()
        base = int(block.get("baseFeePerGas") or "0x0", 16)
        tip = await self.client.max_priority_fee()
        return 2 * base + tip, tip

    async def token_call(self, token: c.Token, data: bytes) -> int:
        return c.words(await self.client.call(token.address, data))[0]

    async def quote(self, p: c.Pair, side: str, qty_units: int) -> int:
        """QuoterV2: quote units to pay for qty base (buy), or to receive for it (sell)."""
        if side == "buy":
            data = c.quote_out(p.quote_token, p.base_token, qty_units, p.fee)
        else:
            data = c.quote_in(p.base_token, p.quote_token, qty_units, p.fee)
        return c.words(await self.client.call(self.chain.quoter, data))[0]

    async def _receipt_within(self, tx_hash: str, wait_s: float) -> dict | None:
        deadline = time.monotonic() + wait_s
        while True:
            receipt = await self.client.receipt(tx_hash)
            if receipt is not None or time.monotonic() >= deadline:
                return receipt
            await asyncio.sleep(self.receipt_poll_s)

    async def _sign_and_journal(self, key: str, kind: str, to: str, data: bytes, gas: int, nonce: int,
                                fees: tuple[int, int], value: int = 0, **extra) -> TxRecord:
        signed: Signed = sign(Tx(self.chain.chain_id, nonce, fees[1], fees[0], gas, to, value, data), self._key)
        rec = TxRecord(key, kind, self.chain.chain_id, nonce, signed.hash, "0x" + signed.raw.hex(), fees[0], fees[1],
                       value=value, sent_ns=time.time_ns(), **extra)
        self.log.put(rec)                                 # on disk before it leaves
        return rec

    async def _broadcast(self, rec: TxRecord) -> None:
        """Send the journaled bytes; the node already having them is success. A definitive refusal
        is recorded (the order state then says REJECTED with it) and raised."""
        try:
            await self.client.send_raw(bytes.fromhex(rec.raw[2:]))
        except AlreadyKnown:
            return
        except (NetworkError, RateLimitExceeded, NonceTaken, NonceContested):
            raise                                 # not a verdict on the transaction: ask again later
        except VenueError as exc:
            self.log.put(msgspec.structs.replace(rec, status="refused", reason=str(exc)))
            raise

    # -- placing ---------------------------------------------------------------------------------
    async def place(self, node, instrument) -> OrderState:
        if node.order_type == "post_only":
            raise InvalidOrder(f"{V}: a swap cannot rest on a book, so post-only orders are not possible; "
                               "use a limit (one swap bounded by the limit price) or a market order")
        if self.log.get(node.client_order_id) is not None:        # a retry: never a second swap
            return await self.order_state(node.client_order_id, instrument)
        await self.check_chain()
        p = self.pair(instrument)
        qty_units = c.to_units(node.qty, p.base_token.decimals)
        if qty_units <= 0 or c.from_units(qty_units, p.base_token.decimals) != node.qty:
            raise InvalidOrder(f"{V}: quantity {node.qty} is not a whole number of {p.base_token.symbol} units "
                               f"({p.base_token.decimals} decimals)")
        bound = await self._bound(node, p, qty_units)
        native = await self._native_leg(node, p, qty_units)
        value = qty_units if native == "pay" else 0
        have = await self.client.balance(self.address) if value else 0
        if value > have:
            raise await self._short_of_eth(node, p, value, 0, have)
        if native != "pay":                       # paid in ETH, the router wraps: no WETH pulled
            pay, spend = (p.quote_token, bound) if node.side == "buy" else (p.base_token, qty_units)
            await self._ensure_allowance(node.client_order_id, pay, spend)
        if node.side == "buy" and native == "receive":
            data = c.multicall([c.swap_exact_out(p.quote_token, p.base_token, p.fee, c.ADDRESS_THIS, qty_units, bound),
                                c.unwrap_weth9(qty_units, self.address)])
        elif node.side == "buy":
            data = c.swap_exact_out(p.quote_token, p.base_token, p.fee, self.address, qty_units, bound)
        else:
            data = c.swap_exact_in(p.base_token, p.quote_token, p.fee, self.address, qty_units, bound)
        try:
            gas = await self.client.estimate_gas(self.address, self.chain.router, data, value)
        except Reverted as exc:
            return self._unfillable(node, p, exc)
        gas = int((Decimal(gas) * self.gas_multiplier).to_integral_value(ROUND_CEILING))
        fees = await self.fees()
        if value and value + gas * fees[0] > have:
            raise await self._short_of_eth(node, p, value, gas * fees[0], have)
        extra = dict(value=value, native=native, venue_symbol=instrument.venue_symbol, side=node.side,
                     qty=str(node.qty), bound=bound)
        rec = await self._sign_and_journal(node.client_order_id, "swap", self.chain.router, data, gas,
                                           await self.client.nonce(self.address, "pending"), fees, **extra)
        try:
            await self._broadcast(rec)
        except NonceTaken:            # the nonce was mined meanwhile: this signature can never land
            rec = await self._sign_and_journal(node.client_order_id, "swap", self.chain.router, data, gas,
                                               await self.client.nonce(self.address, "latest"), fees, **extra)
            await self._broadcast(rec)
        state = await self.order_state(node.client_order_id, instrument)
        return state or OrderState(node.client_order_id, rec.tx_hash, "NEW", Decimal(0))

    async def _native_leg(self, node, p: c.Pair, qty_units: int) -> str:
        """"pay" (sell spends native ETH), "receive" (buy delivers native ETH) or "" (WETH), by
        ``native_eth`` (the rule is in the module docstring)."""
        if p.base != "ETH" or self.native_eth == "never":
            return ""
        if node.side == "buy":
            return "receive" if self.native_eth == "always" else ""
        if self.native_eth == "always":
            return "pay"
        weth = await self.token_call(p.base_token, c.balance_of(self.address))
        return "" if weth >= qty_units else "pay"

    async def _short_of_eth(self, node, p: c.Pair, value: int, gas_cost: int, have: int) -> InsufficientFunds:
        weth = c.from_units(await self.token_call(p.base_token, c.balance_of(self.address)), p.base_token.decimals)
        need = f"{plain(c.from_units(value, 18))} ETH" + (f" + up to {plain(c.from_units(gas_cost, 18))} ETH gas"
                                                          if gas_cost else "")
        return InsufficientFunds(f"{V}: selling {node.qty} ETH from native ETH needs {need}, but the wallet holds "
                                 f"{plain(c.from_units(have, 18))} native ETH (WETH held: {plain(weth)}; "
                                 f"native_eth = '{self.native_eth}'); nothing was sent")

    async def _bound(self, node, p: c.Pair, qty_units: int) -> int:
        """The swap's bound in quote units: the limit price, or the fresh quote ± slippage."""
        qd = p.quote_token.decimals
        if node.order_type != "market" and node.limit_price is not None:
            # buy: pay at most qty × limit (rounded down); sell: receive at least qty × limit (up)
            return c.to_units(node.qty * node.limit_price, qd, up=node.side == "sell")
        try:
            quoted = await self.quote(p, node.side, qty_units)
        except Reverted as exc:
            raise InvalidOrder(f"{V}: the {p.base_token.symbol}/{p.quote_token.symbol} pool cannot quote "
                               f"{node.qty} {p.base} ({exc.reason})") from None
        slip = self.slippage_bps / Decimal(10_000)
        if node.side == "buy":
            return int((Decimal(quoted) * (1 + slip)).to_integral_value(ROUND_CEILING))
        return int(Decimal(quoted) * (1 - slip))

    def _unfillable(self, node, p: c.Pair, exc: Reverted) -> OrderState:
        if exc.reason in ("STF", "TF") or "transfer amount exceeds balance" in exc.reason.lower():
            pay = p.quote_token.symbol if node.side == "buy" else p.base_token.symbol
            raise InsufficientFunds(f"{V}: the wallet cannot pay the {pay} this swap needs (the token transfer "
                                    f"would fail: {exc.reason})")
        bound = "limit price" if node.order_type != "market" else f"{self.slippage_bps} bps slippage bound"
        return OrderState(node.client_order_id, None, "CANCELLED", Decimal(0),
                          reason=f"{V}: the pool cannot fill {node.qty} {p.base} within the {bound} "
                                 f"(the swap would revert: {exc.reason}); nothing was sent")

    async def _ensure_allowance(self, cid: str, token: c.Token, needed: int) -> None:
        """approve(router, needed) first when the allowance is short; wait for its receipt."""
        key = f"approve:{cid}"
        rec = self.log.get(key)
        if rec is None:
            have = await self.token_call(token, c.allowance(self.address, self.chain.router))
            if have >= needed:
                return
            data = c.approve(self.chain.router, needed)
            gas = await self.client.estimate_gas(self.address, token.address, data)
            gas = int((Decimal(gas) * self.gas_multiplier).to_integral_value(ROUND_CEILING))
            rec = await self._sign_and_journal(key, "approve", token.address, data, gas,
                                               await self.client.nonce(self.address, "pending"), await self.fees())
            await self._broadcast(rec)
        elif rec.status == "refused":
            raise VenueError(f"{V}: the {token.symbol} approval for this order was refused: {rec.reason}")
        receipt = await self._receipt_within(rec.tx_hash, self.approve_wait_s)
        if receipt is None:
            if await self.client.transaction(rec.tx_hash) is None:
                await self._broadcast(rec)                       # the node lost it: the same bytes again
            raise NetworkError(f"{V}: the {token.symbol} approval {rec.tx_hash} is not mined yet; "
                               f"the swap is sent once it is (retry the order)")
        if int(receipt.get("status", "0x0"), 16) != 1:
            raise VenueError(f"{V}: the {token.symbol} approval {rec.tx_hash} reverted on chain")

    # -- reading an order back -----------------------------------------------------------------------
    async def _landed(self, rec: TxRecord, cancel: TxRecord | None, instrument, base: dict) -> OrderState | None:
        """The swap's state if it or its cancel replacement is mined, else None."""
        receipt = await self.client.receipt(rec.tx_hash)
        if receipt is not None:
            return await self._mined(rec, receipt, instrument)
        if cancel is not None and await self.client.receipt(cancel.tx_hash) is not None:
            return OrderState(rec.client_order_id, rec.tx_hash, "CANCELLED", Decimal(0),
                              reason=f"cancelled: replacement {cancel.tx_hash} took nonce {rec.nonce}", **base)
        return None

    async def order_state(self, client_order_id, instrument=None):
        rec = self.log.get(client_order_id)
        if rec is None:
            return None
        base = dict(price=None, qty=Decimal(rec.qty) if rec.qty else None)
        if rec.status == "refused":
            return OrderState(client_order_id, rec.tx_hash, "REJECTED", Decimal(0), reason=rec.reason, **base)
        cancel = self.log.get(f"cancel:{client_order_id}")
        state = await self._landed(rec, cancel, instrument, base)
        if state is None and await self.client.nonce(self.address, "latest") > rec.nonce:
            # read again: the block that used the nonce may have landed between the reads
            state = await self._landed(rec, cancel, instrument, base) or OrderState(
                client_order_id, rec.tx_hash, "EXPIRED", Decimal(0),
                reason=f"nonce {rec.nonce} was used by another transaction; this swap can never land", **base)
        if state is not None:
            return state
        if cancel is not None and cancel.status != "refused":
            # a cancel replacement was sent: it, not the swap it displaced from the node's pool,
            # is what to keep alive (the swap's bytes again would be "underpriced" against it)
            if await self.client.transaction(cancel.tx_hash) is None:
                try:
                    await self._broadcast(cancel)
                except (NonceTaken, NonceContested):
                    pass
            return OrderState(client_order_id, rec.tx_hash, "NEW", Decimal(0),
                              reason=f"cancel sent as replacement {cancel.tx_hash}; not mined yet", **base)
        if await self.client.transaction(rec.tx_hash) is None:
            try:                                                   # the node forgot it: same bytes again
                await self._broadcast(rec)
            except (NonceTaken, NonceContested):
                # mined by another, or displaced by a pricier one at our nonce (a cancel sent
                # while this read was under way): the next read says which landed
                pass
            receipt = await self.client.receipt(rec.tx_hash)
            if receipt is not None:
                return await self._mined(rec, receipt, instrument)
        return OrderState(client_order_id, rec.tx_hash, "NEW", Decimal(0), **base)

    async def _mined(self, rec: TxRecord, receipt: dict, instrument) -> OrderState:
        if rec.status == "sent":
            ok = int(receipt.get("status", "0x0"), 16) == 1
            self.log.put(msgspec.structs.replace(rec, status="mined" if ok else "reverted"))
        if int(receipt.get("status", "0x0"), 16) != 1:
            return OrderState(rec.client_order_id, rec.tx_hash, "REJECTED", Decimal(0), qty=Decimal(rec.qty or 0),
                              reason=f"reverted on chain (tx {rec.tx_hash}, block {int(receipt.get('blockNumber', '0x0'), 16)})")
        p = self.chain.pair(rec.venue_symbol)
        fill = await self._fill(rec, receipt, p, instrument.quote if instrument is not None else p.quote)
        return OrderState(rec.client_order_id, rec.tx_hash, "FILLED", fill.qty, (fill,), venue_ts_ns=fill.venue_ts_ns,
                          price=fill.price, qty=Decimal(rec.qty))

    def moved(self, receipt: dict, token: c.Token, via: str = "") -> int:
        """Net units of ``token`` into the wallet in this receipt (Transfer logs). With ``via`` (the
        router, when it wrapped or unwrapped native ETH for the wallet) its transfers count as the
        wallet's, except mint/burn from/to the zero address (aeWETH's wrap and unwrap)."""
        mine = {self.address.lower()} | ({via.lower()} if via else set())
        net = 0
        for log in receipt.get("logs") or []:
            topics = log.get("topics") or []
            if str(log.get("address", "")).lower() != token.address.lower() or len(topics) != 3 \
                    or str(topics[0]).lower() != c.TRANSFER_TOPIC:
                continue
            value = int(str(log.get("data") or "0x0"), 16)
            src, dst = c.topic_address(topics[1]), c.topic_address(topics[2])
            if via and c.ZERO_ADDRESS in (src, dst):
                continue
            if dst in mine and src not in mine:
                net += value
            if src in mine and dst not in mine:
                net -= value
        return net

    async def _fill(self, rec: TxRecord, receipt: dict, p: c.Pair, quote_name: str) -> VenueFill:
        base_net = self.moved(receipt, p.base_token, self.chain.router if rec.native else "")
        quote_net = self.moved(receipt, p.quote_token)
        qty = c.from_units(abs(base_net), p.base_token.decimals)
        quote_amt = c.from_units(abs(quote_net), p.quote_token.decimals)
        if qty == 0:
            raise VenueError(f"{V}: swap {rec.tx_hash} mined but moved no {p.base_token.symbol} for this wallet")
        f = p.fee_rate
        if rec.side == "buy":                    # the fee came out of the quote paid
            lp_fee = quote_amt * f
            price = (quote_amt - lp_fee) / qty
        else:                                    # the fee came out of the base sold
            price = quote_amt / (qty * (1 - f))
            lp_fee = price * qty * f
        gas_eth = Decimal(int(receipt.get("gasUsed", "0x0"), 16) * int(receipt.get("effectiveGasPrice", "0x0"), 16)).scaleb(-18)
        eth_price = price if p.base == "ETH" else await self.eth_price()
        fee = lp_fee + gas_eth * eth_price
        block = await self.client.block(int(receipt.get("blockNumber", "0x0"), 16))
        ts = int(block["timestamp"], 16) * 1_000_000_000 if block and block.get("timestamp") else time.time_ns()
        # without trailing zeros and never in exponent form (0.500000000000000000 -> 0.5, not 5E-1)
        return VenueFill(rec.tx_hash, Decimal(plain(price.quantize(Decimal("1e-12")))), Decimal(plain(qty)),
                         Decimal(plain(fee.quantize(Decimal("1e-12")))), quote_name, "taker", ts)

    async def eth_price(self) -> Decimal:
        """ETH in the quote, to price gas for non-ETH pools (a QuoterV2 quote of 1 WETH, cached 60 s)."""
        now = time.monotonic()
        if self._eth_price and now - self._eth_price[0] < 60:
            return self._eth_price[1]
        p = next(x for x in self.chain.pairs if x.base == "ETH")
        try:
            out = await self.quote(p, "sell", 10 ** p.base_token.decimals)
        except VenueError:
            return Decimal(0)                    # gas then stays out of the fee (said in the docstring)
        price = c.from_units(out, p.quote_token.decimals)
        self._eth_price = (now, price)
        return price

    # -- cancel / amend ---------------------------------------------------------------------------
    async def cancel(self, node, instrument) -> OrderState:
        state = await self.order_state(node.client_order_id, instrument)
        if state is None:
            return OrderState(node.client_order_id, None, "REJECTED", Decimal(0), reason=f"{V} never sent this order")
        if state.status != "NEW":
            return state
        rec = self.log.get(node.client_order_id)
        key = f"cancel:{node.client_order_id}"
        repl = self.log.get(key)
        if repl is None:
            max_fee, tip = await self.fees()
            bump = lambda v: int((Decimal(v) * BUMP).to_integral_value(ROUND_CEILING)) + 1  # noqa: E731
            tip = max(tip, bump(rec.priority))
            repl = await self._sign_and_journal(key, "cancel", self.address, b"", 21000, rec.nonce,
                                                (max(max_fee, bump(rec.max_fee), tip), tip))
        try:
            await self._broadcast(repl)
        except NonceTaken:
            pass                                  # the swap (or something) is mined: read which
        deadline = time.monotonic() + self.cancel_wait_s
        while True:
            state = await self.order_state(node.client_order_id, instrument)
            if state is None or state.status != "NEW" or time.monotonic() >= deadline:
                break
            await asyncio.sleep(self.receipt_poll_s)
        if state is not None and state.status == "NEW":
            return msgspec.structs.replace(state, reason=f"cancel sent as replacement {repl.tx_hash}; not mined yet")
        return state

    async def amend(self, node, instrument, price, qty) -> AmendResult:
        raise InvalidOrder(f"{V}: a swap cannot be amended (it does not rest); cancel it and place a new order")

    async def open_orders(self, instrument) -> list[OrderState]:
        """Swaps of this pool journaled and not yet known mined: asked of the node one by one."""
        out = []
        for rec in self.log:
            if rec.kind == "swap" and rec.status == "sent" and rec.venue_symbol == instrument.venue_symbol:
                state = await self.order_state(rec.client_order_id, instrument)
                if state is not None and state.status == "NEW":
                    out.append(state)
        return out

    # -- account ------------------------------------------------------------------------------------
    async def balances(self):
        """Native coin (``native:ETH``) and each traded token, keyed by canonical asset: WETH as
        ``ETH`` (what ETH-USDC sells spend first under native_eth = auto), WBTC as ``BTC``; the
        token names too (WETH, WBTC). What one ETH sell can spend (``spendable("ETH")``, which
        admission checks a sell against): the larger of WETH and native ETH under auto (a sell
        never mixes the two), native ETH under always; the exact check, value + gas, is made
        when the order is placed."""
        native, tokens = await self._wallet()
        out = {"native:ETH": native}
        for asset, (token, amount) in tokens.items():
            out[asset] = amount
            out.setdefault(token.symbol, amount)
        if "ETH" in out and self.native_eth != "never":
            native = out["native:ETH"]
            out[spendable("ETH")] = native if self.native_eth == "always" else max(out["ETH"], native)
        return out

    async def _wallet(self) -> tuple[Decimal, dict]:
        """The wallet's native ETH (``eth_getBalance``) and each traded token's ``balanceOf``, by
        canonical asset: (native, {asset: (token, amount)})."""
        native = c.from_units(await self.client.balance(self.address), 18)
        seen: dict[str, c.Token] = {}
        for p in self.chain.pairs:
            seen.setdefault(p.base, p.base_token)
            seen.setdefault(p.quote, p.quote_token)
        return native, {asset: (token, c.from_units(await self.token_call(token, c.balance_of(self.address)), token.decimals))
                        for asset, token in seen.items()}

    async def holdings(self):
        """What the wallet holds on chain, by canonical asset: each traded token's balance, and
        ETH as WETH plus native ETH (both are ETH to the account, and a swap spends either; the
        native part also pays gas). A swap escrows nothing, so nothing is locked apart."""
        native, tokens = await self._wallet()
        out = {asset: amount for asset, (_, amount) in tokens.items()}
        out["ETH"] = out.get("ETH", Decimal(0)) + native
        return {a: q for a, q in out.items() if q}

    async def positions(self):
        return None                               # spot holdings: ``holdings``

    async def close(self) -> None:
        await self.client.close()
