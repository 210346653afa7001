"""A fake Ethereum JSON-RPC node on 127.0.0.1 with Uniswap v3's QuoterV2 and SwapRouter02 and the
ERC-20 tokens of one chain, answering the way geth does.

- JSON-RPC 2.0 at ``/v2/<key>`` (a provider URL with its key in the path; a wrong key is HTTP 401
  ``{"error": {"code": -32600, "message": "Must be authenticated!"}}`` as Alchemy answers).
- ``eth_sendRawTransaction`` decodes the type-2 transaction, recovers the signer from the signature
  and refuses like geth: another chain's id -> "invalid sender: invalid chain id for signer", a
  mined nonce -> "nonce too low", the same bytes again -> "already known", a same-nonce
  replacement without +10% on both fee caps -> "replacement transaction underpriced", fee cap
  under the base fee, or gas × fee cap above the sender's ETH -> "insufficient funds for gas *
  price + value" (all code -32000).
- ``eth_call`` / ``eth_estimateGas`` execute the calls; a revert is code 3 "execution reverted:
  <reason>" with Error(string) data, as the execution-apis spec has it.
- Pools: a constant price per pair (USDC per base) with the pool's fee taken from the input, up
  to ``liquidity`` base; swaps move token balances and emit ERC-20 Transfer logs (wallet -> pool,
  pool -> recipient). Mined transactions get a receipt (status, gasUsed, effectiveGasPrice, logs)
  and burn gasUsed × effective price of the sender's ETH.
- Native ETH as SwapRouter02 handles it (contracts.py has the sources): a transaction's ``value``
  moves to the router first (only the router is payable; "insufficient funds for transfer" in
  eth_call/eth_estimateGas when the sender lacks it); the router pays a WETH input by wrapping its
  own ETH when that covers the amount, else pulls WETH with the allowance; ``recipient``
  address(1)/address(2) mean msg.sender/the router; ``multicall(bytes[])`` (and the deadline
  form) runs each call with the same sender and value; ``unwrapWETH9(min, recipient)`` sends ALL
  the router's WETH as ETH ("Insufficient WETH9" below min); ``refundETH()`` returns the router's
  ETH to msg.sender - ETH left at the router otherwise stays there (``native[router]``), as on
  chain. Wrap/unwrap log like the chain's WETH (Arbitrum aeWETH: mint/burn Transfers; Ethereum
  WETH9: Deposit/Withdrawal). A call is atomic: a revert anywhere in a multicall undoes it all.
  ``executed[tx hash]`` lists the router functions a mined transaction ran, in order.
Faults: ``hold`` (transactions stay pending until ``mine()``), ``revert_next`` (the next mined
swap reverts), ``lose_next_send`` (accept the transaction, answer 502), ``drop_next_send`` (answer
502 without accepting it), ``slow_on_send`` / ``slow_next`` (answer after ``slow_s``),
``fail_method`` (HTTP 503 for a method), ``limit_method`` (HTTP 429 with Retry-After for a
method), ``malformed_next`` / ``rate_limit_next`` (the core's), ``take_nonce(addr)`` /
``take_nonce_on_send`` (another transaction of the wallet takes its next nonce).
"""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal

from aiohttp import web

from sequence_core.evm import abi_encode, selector
from sequence_core.keys import keccak256
from sequence_core.testing import FakeVenueServer
from sequence_venue_dex_ethereum import contracts as c
from sequence_venue_dex_ethereum.signing import decode

POOL = "0x00000000000000000000000000000000000000b0"
ZERO = "0x" + "00" * 20
MSG_SENDER = "0x0000000000000000000000000000000000000001"      # Constants.MSG_SENDER
GWEI = 10 ** 9


def words_of(data: bytes) -> list[int]:
    return [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]


def bytes_array(body: bytes, index: int) -> list[bytes]:
    """The ``bytes[]`` argument at head word ``index`` of ABI-encoded arguments."""
    word = lambda at: int.from_bytes(body[at:at + 32], "big")  # noqa: E731
    start = word(32 * index)
    base = start + 32
    out = []
    for i in range(word(start)):
        at = base + word(base + 32 * i)
        out.append(body[at + 32:at + 32 + word(at)])
    return out


def addr(word: int) -> str:
    return "0x" + word.to_bytes(32, "big")[-20:].hex()


def topic(address: str) -> str:
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


class Revert(Exception):
    def __init__(self, reason: str):
        self.reason = reason


class FakeEthNode(FakeVenueServer):
    def __init__(self, chain: str = "arbitrum", key: str = "test-key-123", prices: dict | None = None):
        super().__init__()
        self.chain = c.CHAINS[chain]
        self.key = key
        self.chain_id = self.chain.chain_id
        self.block_number, self.base_fee, self.tip = 1000, GWEI // 100, GWEI // 1000
        self.prices = prices or {"ETH": Decimal("3000"), "BTC": Decimal("60000")}   # USDC per base
        self.liquidity = {"ETH": Decimal("100"), "BTC": Decimal("5")}
        self.tokens = {t.address.lower(): t for p in self.chain.pairs for t in (p.base_token, p.quote_token)}
        self.native: dict[str, int] = {}
        self.balances: dict[tuple[str, str], int] = {}        # (token, owner) -> units
        self.allowances: dict[tuple[str, str, str], int] = {}  # (token, owner, spender) -> units
        self.nonces: dict[str, int] = {}
        self.pool: dict[str, object] = {}                    # hash -> Signed (pending)
        self.mined: dict[str, tuple] = {}                    # hash -> (Signed, receipt)
        self.hold = False
        self.revert_next = self.lose_next_send = self.drop_next_send = self.slow_next = self.take_nonce_on_send = 0
        self.limit_method: dict[str, int] = {}              # method -> how many 429s to answer
        self.fail_method: dict[str, int] = {}               # method -> how many 503s to answer
        self.slow_on_send = 0                               # the next send is answered after slow_s
        self.slow_s = 3.0
        self.sent: list[str] = []                            # every raw transaction received
        self.calls: list[str] = []                           # every JSON-RPC method asked
        self._ids = itertools.count(1)
        self._logs: list[dict] = []                          # the running transaction's logs
        self.trace: list[str] = []                           # the router functions it ran
        self.executed: dict[str, list[str]] = {}             # mined hash -> router functions run
        self.weth = next(p.base_token for p in self.chain.pairs if p.base == "ETH").address.lower()
        for t in self.tokens.values():
            self.balances[(t.address.lower(), POOL)] = 10 ** 30

    # -- set-up for tests ------------------------------------------------------------------------
    def fund(self, owner: str, eth: str = "1", **tokens: str) -> None:
        """Give a wallet native ETH and tokens by symbol (WETH, USDC, WBTC), in whole units."""
        self.native[owner.lower()] = int(Decimal(eth) * 10 ** 18)
        for sym, amount in tokens.items():
            t = next(t for t in self.tokens.values() if t.symbol == sym)
            self.balances[(t.address.lower(), owner.lower())] = int(Decimal(amount) * 10 ** t.decimals)

    def approve_all(self, owner: str) -> None:
        """The wallet approved the router for every token before (no approval transaction needed)."""
        for t in self.tokens.values():
            self.allowances[(t.address.lower(), owner.lower(), self.chain.router.lower())] = 2 ** 255

    def token_balance(self, owner: str, symbol: str) -> Decimal:
        t = next(t for t in self.tokens.values() if t.symbol == symbol)
        return Decimal(self.balances.get((t.address.lower(), owner.lower()), 0)).scaleb(-t.decimals)

    def take_nonce(self, owner: str) -> None:
        """Another transaction of this wallet (sent elsewhere) is mined at its next nonce."""
        self.nonces[owner.lower()] = self.nonces.get(owner.lower(), 0) + 1
        self.block_number += 1

    def raws(self) -> list:
        return [decode(bytes.fromhex(r[2:])) for r in self.sent]

    # -- the app ---------------------------------------------------------------------------------
    def app(self):
        app = web.Application(middlewares=[self.faults])
        app.router.add_post("/v2/{key}", self.handle)
        return app

    def rate_limited(self):
        return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": 429, "message": "Too Many Requests"}},
                                 status=429, headers={"Retry-After": "0.05"})

    async def handle(self, request):
        if request.match_info["key"] != self.key:
            return web.json_response({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Must be authenticated!"}},
                                     status=401)
        body = await request.json()
        method, params, rid = body["method"], body.get("params") or [], body.get("id")
        self.calls.append(method)
        if self.slow_next:
            self.slow_next -= 1
            await asyncio.sleep(self.slow_s)
        if self.limit_method.get(method):
            self.limit_method[method] -= 1
            return self.rate_limited()
        if self.fail_method.get(method):
            self.fail_method[method] -= 1
            return web.Response(status=503, text="Service Unavailable")
        if method == "eth_sendRawTransaction" and self.slow_on_send:
            self.slow_on_send -= 1
            await asyncio.sleep(self.slow_s)
        if method == "eth_sendRawTransaction" and self.drop_next_send:
            self.drop_next_send -= 1                # never reached the node's pool; the answer is lost too
            self.sent.append(params[0])
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        if method == "eth_sendRawTransaction" and self.take_nonce_on_send:
            self.take_nonce_on_send -= 1            # another transaction of the wallet lands first
            self.take_nonce(decode(bytes.fromhex(params[0][2:])).sender)
        handler = getattr(self, "rpc_" + method, None)
        if handler is None:
            return web.json_response({"jsonrpc": "2.0", "id": rid, "error": {
                "code": -32601, "message": f"the method {method} does not exist/is not available"}})
        try:
            result = handler(*params)
        except Revert as r:
            return web.json_response({"jsonrpc": "2.0", "id": rid, "error": {
                "code": 3, "message": f"execution reverted: {r.reason}", "data": c.error_data(r.reason)}})
        except NodeError as e:
            return web.json_response({"jsonrpc": "2.0", "id": rid, "error": {"code": e.code, "message": e.message}})
        if method == "eth_sendRawTransaction" and self.lose_next_send:
            self.lose_next_send -= 1                # accepted, but the answer is lost
            return web.Response(status=502, text="<html>502 Bad Gateway</html>")
        return web.json_response({"jsonrpc": "2.0", "id": rid, "result": result})

    # -- reads -----------------------------------------------------------------------------------
    def rpc_eth_chainId(self):
        return hex(self.chain_id)

    def rpc_eth_blockNumber(self):
        return hex(self.block_number)

    def rpc_eth_getBlockByNumber(self, tag, full):
        n = self.block_number if tag == "latest" else int(tag, 16)
        return {"number": hex(n), "timestamp": hex(1_760_000_000 + n), "baseFeePerGas": hex(self.base_fee)}

    def rpc_eth_getBalance(self, owner, tag):
        return hex(self.native.get(owner.lower(), 0))

    def rpc_eth_maxPriorityFeePerGas(self):
        return hex(self.tip)

    def rpc_eth_getTransactionCount(self, owner, tag):
        n = self.nonces.get(owner.lower(), 0)
        if tag == "pending":
            pending = sorted(s.tx.nonce for s in self.pool.values() if s.sender.lower() == owner.lower())
            while n in pending:
                n += 1
        return hex(n)

    def rpc_eth_getTransactionReceipt(self, tx_hash):
        found = self.mined.get(tx_hash.lower())
        return found[1] if found else None

    def rpc_eth_getTransactionByHash(self, tx_hash):
        signed = self.pool.get(tx_hash.lower()) or (self.mined.get(tx_hash.lower()) or (None,))[0]
        if signed is None:
            return None
        return {"hash": signed.hash, "nonce": hex(signed.tx.nonce), "from": signed.sender, "to": signed.tx.to,
                "blockNumber": None if tx_hash.lower() in self.pool else self.mined[tx_hash.lower()][1]["blockNumber"]}

    def rpc_eth_call(self, tx, tag="latest"):
        out, _ = self.execute(tx.get("from", ZERO), tx["to"], bytes.fromhex(tx["data"][2:]), dry=True,
                              value=int(tx.get("value") or "0x0", 16))
        return "0x" + out.hex()

    def rpc_eth_estimateGas(self, tx, tag="latest"):
        data = bytes.fromhex(tx.get("data", "0x")[2:])
        _, gas = self.execute(tx["from"], tx["to"], data, dry=True, value=int(tx.get("value") or "0x0", 16))
        return hex(gas)

    # -- contracts -------------------------------------------------------------------------------
    def pair_of(self, a: str, b: str):
        for p in self.chain.pairs:
            if {p.base_token.address.lower(), p.quote_token.address.lower()} == {a.lower(), b.lower()}:
                return p
        raise Revert("no pool")

    def swap_amounts(self, token_in: str, token_out: str, fee: int, amount: int, exact_in: bool) -> tuple[int, int]:
        """(amount in, amount out) at the pair's constant price, the fee taken from the input."""
        p = self.pair_of(token_in, token_out)
        if fee != p.fee:
            raise Revert("no pool")
        f = Decimal(fee) / Decimal(1_000_000)
        price = self.prices[p.base] * Decimal(10) ** (p.quote_token.decimals - p.base_token.decimals)   # quote units per base unit
        buying = token_out.lower() == p.base_token.address.lower()
        rate = (1 / price) if buying else price                   # out units per in unit, before the fee
        if exact_in:
            a_in = amount
            a_out = int(Decimal(amount) * (1 - f) * rate)
        else:
            a_out = amount
            a_in = int((Decimal(amount) / rate / (1 - f)).to_integral_value("ROUND_CEILING"))
        base_units = a_out if buying else a_in
        if Decimal(base_units).scaleb(-p.base_token.decimals) > self.liquidity[p.base]:
            raise Revert("SPL")
        return a_in, a_out

    def execute(self, sender: str, to: str, data: bytes, dry: bool, value: int = 0) -> tuple[bytes, int]:
        """Run a call: (return data, gas used). Atomic like the EVM: a Revert undoes every change
        (a multicall's earlier steps too), and ``dry`` (eth_call, eth_estimateGas) keeps none."""
        saved = (dict(self.native), dict(self.balances), dict(self.allowances), list(self._logs), list(self.trace))
        try:
            out = self._call(sender.lower(), to.lower(), data, value)
        except BaseException:
            self.native, self.balances, self.allowances, self._logs, self.trace = saved
            raise
        if dry:
            self.native, self.balances, self.allowances, self._logs, self.trace = saved
        return out

    def _call(self, sender: str, to: str, data: bytes, value: int) -> tuple[bytes, int]:
        router = self.chain.router.lower()
        if value:
            if self.native.get(sender, 0) < value:
                raise NodeError(-32000, f"insufficient funds for transfer: address {sender}")   # geth, eth_call/estimate
            if data and to != router:
                raise Revert("")                   # ERC-20s and QuoterV2 are not payable: a bare revert
            self.native[sender] -= value
            self.native[to] = self.native.get(to, 0) + value
        sel, args = data[:4], words_of(data[4:])
        if not data:
            return b"", 21000
        if to == self.chain.quoter.lower() and sel in (selector(c.Q_IN), selector(c.Q_OUT)):
            a_in, a_out = self.swap_amounts(addr(args[0]), addr(args[1]), args[3], args[2], sel == selector(c.Q_IN))
            return ((a_out if sel == selector(c.Q_IN) else a_in).to_bytes(32, "big") + bytes(64) + (90000).to_bytes(32, "big")), 0
        if to in self.tokens and sel == selector(c.BALANCE_OF):
            return self.balances.get((to, addr(args[0])), 0).to_bytes(32, "big"), 0
        if to in self.tokens and sel == selector(c.ALLOWANCE):
            return self.allowances.get((to, addr(args[0]), addr(args[1])), 0).to_bytes(32, "big"), 0
        if to in self.tokens and sel == selector(c.APPROVE):
            self.allowances[(to, sender, addr(args[0]))] = args[1]
            return (1).to_bytes(32, "big"), 46000
        if to == router:
            return self.router_call(sender, data)
        raise Revert("unknown call")

    # -- SwapRouter02 (swap-router-contracts v1.1.0 on v3-periphery 1.3.0) -------------------------
    def router_call(self, sender: str, data: bytes) -> tuple[bytes, int]:
        """One router function; multicall delegatecalls each element with the same msg.sender and
        msg.value (the ETH sent is the router's balance while the calls run)."""
        sel, body = data[:4], data[4:]
        args = words_of(body)
        name = ROUTER_FUNCTIONS.get(sel)
        if name is None:
            raise Revert("unknown call")
        self.trace.append(name)
        if name in ("multicall", "multicall(deadline)"):
            if name == "multicall(deadline)" and args[0] < self.timestamp():
                raise Revert("Transaction too old")
            outs, gas = [], 5000
            for call in bytes_array(body, 0 if name == "multicall" else 1):
                out, g = self.router_call(sender, call)
                outs.append(out)
                gas += g
            return abi_encode(["bytes[]"], [outs]), gas
        if name in ("exactInputSingle", "exactOutputSingle"):
            return self.swap(sender, args, name == "exactInputSingle")
        if name == "unwrapWETH9":
            return self.unwrap_weth9(args[0], addr(args[1]))
        if name == "unwrapWETH9(msg.sender)":
            return self.unwrap_weth9(args[0], sender)
        if name == "refundETH":                    # the router's whole ETH balance back to msg.sender
            left = self.native.pop(self.chain.router.lower(), 0)
            self.native[sender] = self.native.get(sender, 0) + left
            return b"", 8000
        raise Revert("unknown call")

    def swap(self, sender: str, args: list[int], exact_in: bool) -> tuple[bytes, int]:
        token_in, token_out, fee, recipient, amount, bound = addr(args[0]), addr(args[1]), args[2], addr(args[3]), args[4], args[5]
        if args[6]:
            raise Revert("this fake supports sqrtPriceLimitX96 = 0 only")
        recipient = {MSG_SENDER: sender, c.ADDRESS_THIS: self.chain.router.lower()}.get(recipient, recipient)
        a_in, a_out = self.swap_amounts(token_in, token_out, fee, amount, exact_in)
        if exact_in and a_out < bound:
            raise Revert("Too little received")
        if not exact_in and a_in > bound:
            raise Revert("Too much requested")
        self.pay(token_in, sender, a_in)
        self.move(token_out, POOL, recipient, a_out)
        return (a_out if exact_in else a_in).to_bytes(32, "big"), 120000

    def pay(self, token: str, payer: str, amount: int) -> None:
        """PeripheryPayments.pay: WETH9 is wrapped from the router's ETH when that covers the
        amount (exactly the amount), else the token is pulled from the payer (allowance)."""
        router = self.chain.router.lower()
        if token == self.weth and self.native.get(router, 0) >= amount:
            self.native[router] -= amount
            self.weth_event("deposit", router, amount)
            self.move(token, router, POOL, amount)
            return
        if self.allowances.get((token, payer, router), 0) < amount or self.balances.get((token, payer), 0) < amount:
            raise Revert("STF")
        self.allowances[(token, payer, router)] -= amount
        self.move(token, payer, POOL, amount)

    def unwrap_weth9(self, amount_min: int, recipient: str) -> tuple[bytes, int]:
        """PeripheryPayments.unwrapWETH9: ALL the router's WETH9, at least amountMinimum, as ETH."""
        router = self.chain.router.lower()
        held = self.balances.get((self.weth, router), 0)
        if held < amount_min:
            raise Revert("Insufficient WETH9")
        if held:
            self.weth_event("withdraw", router, held)
            self.native[recipient] = self.native.get(recipient, 0) + held
        return b"", 30000

    def weth_event(self, kind: str, owner: str, amount: int) -> None:
        """Wrap/unwrap as the chain's WETH logs it: Ethereum's WETH9 Deposit/Withdrawal events,
        Arbitrum's aeWETH a mint/burn Transfer from/to the zero address."""
        key = (self.weth, owner)
        self.balances[key] = self.balances.get(key, 0) + (amount if kind == "deposit" else -amount)
        if self.chain.name == "arbitrum":
            src, dst = (ZERO, owner) if kind == "deposit" else (owner, ZERO)
            self._logs.append(self.transfer(self.weth, src, dst, amount))
        else:
            event = "Deposit(address,uint256)" if kind == "deposit" else "Withdrawal(address,uint256)"
            self._logs.append({"address": self.weth, "topics": ["0x" + keccak256(event.encode()).hex(), topic(owner)],
                               "data": "0x" + amount.to_bytes(32, "big").hex()})

    def move(self, token: str, src: str, dst: str, amount: int) -> None:
        self.balances[(token, src)] = self.balances.get((token, src), 0) - amount
        self.balances[(token, dst)] = self.balances.get((token, dst), 0) + amount
        self._logs.append(self.transfer(token, src, dst, amount))

    def timestamp(self) -> int:
        return 1_760_000_000 + self.block_number

    @staticmethod
    def transfer(token: str, src: str, dst: str, value: int) -> dict:
        return {"address": token, "topics": [c.TRANSFER_TOPIC, topic(src), topic(dst)], "data": "0x" + value.to_bytes(32, "big").hex()}

    # -- sending and mining ----------------------------------------------------------------------
    def rpc_eth_sendRawTransaction(self, raw_hex):
        self.sent.append(raw_hex)
        try:
            signed = decode(bytes.fromhex(raw_hex.removeprefix("0x")))
        except ValueError as exc:
            raise NodeError(-32000, f"invalid sender: {exc}") from None
        if signed.tx.chain_id != self.chain_id:
            raise NodeError(-32000, "invalid sender: invalid chain id for signer")
        h, who = signed.hash.lower(), signed.sender.lower()
        if h in self.pool or h in self.mined:
            raise NodeError(-32000, "already known")
        state_nonce = self.nonces.get(who, 0)
        if signed.tx.nonce < state_nonce:
            raise NodeError(-32000, f"nonce too low: address {signed.sender}, tx: {signed.tx.nonce} state: {state_nonce}")
        if signed.tx.max_fee < self.base_fee:
            raise NodeError(-32000, f"max fee per gas less than block base fee: address {signed.sender}, "
                                    f"maxFeePerGas: {signed.tx.max_fee}, baseFee: {self.base_fee}")
        cost = signed.tx.gas * signed.tx.max_fee + signed.tx.value
        if self.native.get(who, 0) < cost:
            raise NodeError(-32000, f"insufficient funds for gas * price + value: address {signed.sender} "
                                    f"have {self.native.get(who, 0)} want {cost}")
        same = [k for k, s in self.pool.items() if s.sender.lower() == who and s.tx.nonce == signed.tx.nonce]
        for k in same:
            old = self.pool[k]
            if signed.tx.max_fee * 10 < old.tx.max_fee * 11 or signed.tx.max_priority_fee * 10 < old.tx.max_priority_fee * 11:
                raise NodeError(-32000, "replacement transaction underpriced")
            del self.pool[k]
        self.pool[h] = signed
        if not self.hold:
            self.mine()
        return signed.hash

    def mine(self) -> None:
        """Mine every pending transaction whose nonce is next, in nonce order."""
        progress = True
        while progress:
            progress = False
            for h, s in sorted(self.pool.items(), key=lambda kv: kv[1].tx.nonce):
                if s.tx.nonce == self.nonces.get(s.sender.lower(), 0):
                    del self.pool[h]
                    self._mine_one(s)
                    progress = True
                    break
        stale = [h for h, s in self.pool.items() if s.tx.nonce < self.nonces.get(s.sender.lower(), 0)]
        for h in stale:                                  # a nonce taken elsewhere: dropped
            del self.pool[h]

    def _mine_one(self, s) -> None:
        self.block_number += 1
        who = s.sender.lower()
        self._logs, self.trace = [], []
        status = 1
        try:
            if self.revert_next and s.tx.data[:4] in (selector(c.SWAP_IN), selector(c.SWAP_OUT), selector(c.MULTICALL)):
                self.revert_next -= 1
                raise Revert("Too little received")
            _, gas_used = self.execute(who, s.tx.to, s.tx.data, dry=False, value=s.tx.value)
        except Revert:
            status, gas_used, self._logs = 0, 60000, []
        price = min(s.tx.max_fee, self.base_fee + s.tx.max_priority_fee)
        self.native[who] = self.native.get(who, 0) - gas_used * price
        self.nonces[who] = s.tx.nonce + 1
        receipt = {"transactionHash": s.hash, "blockNumber": hex(self.block_number), "from": s.sender, "to": s.tx.to,
                   "status": hex(status), "gasUsed": hex(gas_used), "effectiveGasPrice": hex(price), "type": "0x2",
                   "logs": [{**log, "transactionHash": s.hash} for log in self._logs]}
        self.mined[s.hash.lower()] = (s, receipt)
        self.executed[s.hash.lower()] = list(self.trace) if status else []
        self.trace = []


ROUTER_FUNCTIONS = {selector(sig): name for sig, name in (
    (c.SWAP_IN, "exactInputSingle"), (c.SWAP_OUT, "exactOutputSingle"), (c.MULTICALL, "multicall"),
    ("multicall(uint256,bytes[])", "multicall(deadline)"), (c.UNWRAP_WETH9, "unwrapWETH9"),
    ("unwrapWETH9(uint256)", "unwrapWETH9(msg.sender)"), (c.REFUND_ETH, "refundETH"))}


class NodeError(Exception):
    def __init__(self, code: int, message: str):
        self.code, self.message = code, message
