"""The chains, contracts, tokens and calldata this adapter uses (Uniswap v3 on Ethereum-family chains).

Addresses:
- QuoterV2 and SwapRouter02 per chain: https://docs.uniswap.org/contracts/v3/reference/deployments/
  (arbitrum-deployments, ethereum-deployments): both ``0x61fFE014bA17989E743c5F6cB21bF9697530B21e``
  and ``0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45`` on Arbitrum One (42161) and Ethereum (1);
  the same pages list WETH9 (Ethereum ``0xC02a...6Cc2``, Arbitrum ``0x82aF...Bab1``).
- Native USDC (6 decimals): https://developers.circle.com/stablecoins/usdc-contract-addresses
  (Ethereum ``0xA0b8...eB48``, Arbitrum ``0xaf88...5831``; not the bridged USDC.e).
- WBTC (8 decimals): Ethereum ``0x2260...C599``; Arbitrum ``0x2f2a...5B0f`` as the Uniswap
  interface lists it (github.com/Uniswap/interface, constants/tokens.ts WBTC_ARBITRUM_ONE).
- Pool fee tiers (https://docs.uniswap.org/concepts/protocol/fees): 100, 500, 3000, 10000 in
  hundredths of a bip. The pools traded: WETH/USDC 0.05% on both chains, WBTC/USDC 0.05% on
  Arbitrum and 0.30% on Ethereum (the deep pools of those pairs).
Functions (the selector is keccak256 of the signature's first 4 bytes; tests compare them with the
values 4byte.directory publishes):
- QuoterV2 (github.com/Uniswap/v3-periphery contracts/interfaces/IQuoterV2.sol):
  ``quoteExactInputSingle((address tokenIn,address tokenOut,uint256 amountIn,uint24 fee,uint160
  sqrtPriceLimitX96))`` 0xc6a5026a and ``quoteExactOutputSingle((address,address,uint256 amount,
  uint24,uint160))`` 0xbd21704a, each returning (amount, sqrtPriceX96After, ticksCrossed,
  gasEstimate). They are called with ``eth_call`` (they revert internally; not view functions).
- SwapRouter02 as deployed (swap-router-contracts v1.1.0, IV3SwapRouter.sol; no deadline field):
  ``exactInputSingle((address tokenIn,address tokenOut,uint24 fee,address recipient,uint256
  amountIn,uint256 amountOutMinimum,uint160 sqrtPriceLimitX96))`` 0x04e45aaf and
  ``exactOutputSingle((...,uint256 amountOut,uint256 amountInMaximum,uint160))`` 0x5023b4df.
  Both are ``payable``. A ``recipient`` of ``Constants.ADDRESS_THIS`` = ``address(2)`` (and
  ``MSG_SENDER`` = ``address(1)``) is replaced by the router itself (by msg.sender) before the
  pool is called (libraries/Constants.sol; V3SwapRouter.sol exactInputInternal /
  exactOutputInternal). With no price limit, exact output requires the full amountOut.
- Native ETH through SwapRouter02 (github.com/Uniswap/swap-router-contracts at tag v1.1.0, whose
  package.json pins @uniswap/v3-periphery 1.3.0): the router pays the pool in
  ``PeripheryPayments.pay`` (v3-periphery base/PeripheryPayments.sol): when the token is WETH9 and
  the router's own ETH balance (msg.value) covers the amount it ``deposit``s (wraps) exactly that
  amount and transfers the WETH to the pool; otherwise it pulls the token from the payer with
  ``transferFrom`` (the allowance path). So selling native ETH is ``exactInputSingle(tokenIn =
  WETH)`` sent with ``value = amountIn``: exact input spends the whole value, nothing is left to
  refund. ETH that an exact-output swap leaves at the router is returned only by ``refundETH()``
  0x12210e8a (sends the router's whole ETH balance to msg.sender); the router-sdk adds it only
  when the input is native and the trade is exact output (github.com/Uniswap/router-sdk
  src/swapRouter.ts swapCallParameters). This adapter never pays an exact-output swap in ETH,
  so it never needs it.
  Receiving native ETH: the swap's recipient is ADDRESS_THIS, then ``unwrapWETH9(uint256
  amountMinimum, address recipient)`` 0x49404b7c (PeripheryPayments: requires the router's WETH9
  balance >= amountMinimum, "Insufficient WETH9", withdraws ALL of it and sends the ETH to
  recipient); PeripheryPaymentsExtended adds ``unwrapWETH9(uint256)`` 0x49616997 paying
  msg.sender, PeripheryPaymentsWithFeeExtended the fee variants (not used). The two run in one
  ``multicall(bytes[] data)`` 0xac9650d8 (v3-periphery base/Multicall.sol: each element
  delegatecalled in order, so msg.sender and msg.value are the caller's; the first failure
  reverts all, bubbling its reason); MulticallExtended adds ``multicall(uint256 deadline,
  bytes[])`` 0x5ae401dc and ``multicall(bytes32 previousBlockhash, bytes[])`` 0x1f0464d1. The
  deadline form is not used: like the single swaps here, a pending multicall is ended by a
  same-nonce replacement, not by time (router-sdk's MulticallExtended.encodeMulticall, too,
  encodes the plain form when it is given no deadline: src/multicallExtended.ts).
  How WETH shows in logs: Ethereum's WETH9 emits ``Deposit``/``Withdrawal`` (no Transfer) when it
  wraps/unwraps; Arbitrum's WETH is aeWETH (github.com/OffchainLabs/token-bridge-contracts,
  tokenbridge/libraries/aeWETH.sol: deposit = ``_mint``, withdraw = ``_burn``), i.e. Transfer
  from/to the zero address. Either way the router <-> pool Transfer is the swap's WETH leg.
- ERC-20 (https://eips.ethereum.org/EIPS/eip-20): balanceOf 0x70a08231, allowance 0xdd62ed3e,
  approve 0x095ea7b3, event Transfer(address indexed,address indexed,uint256) topic
  0xddf252ad...b3ef.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from sequence_core.evm import abi_encode, call_data, selector
from sequence_core.keys import keccak256


class Token(msgspec.Struct, frozen=True):
    symbol: str
    address: str
    decimals: int


class Pair(msgspec.Struct, frozen=True):
    base: str            # canonical asset (ETH)
    quote: str
    base_token: Token    # what the pool trades (WETH)
    quote_token: Token
    fee: int             # pool fee tier, hundredths of a bip (500 = 0.05%)

    @property
    def fee_rate(self) -> Decimal:
        return Decimal(self.fee) / Decimal(1_000_000)


class Chain(msgspec.Struct, frozen=True):
    name: str            # arbitrum | ethereum
    chain_id: int
    label: str           # positions label (the spec's dex:arb)
    quoter: str
    router: str
    pairs: tuple[Pair, ...]
    default_rpc: str = ""

    def pair(self, venue_symbol: str) -> Pair:
        for p in self.pairs:
            if venue_symbol_of(self, p) == venue_symbol:
                return p
        raise KeyError(venue_symbol)


QUOTER_V2 = "0x61fFE014bA17989E743c5F6cB21bF9697530B21e"
SWAP_ROUTER_02 = "0x68b3465833fb72A70ecDF485E0e4C7bD8665Fc45"

_ARB = {"WETH": Token("WETH", "0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", 18),
        "USDC": Token("USDC", "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
        "WBTC": Token("WBTC", "0x2f2a2543B76A4166549F7aaB2e75Bef0aefC5B0f", 8)}
_ETH = {"WETH": Token("WETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18),
        "USDC": Token("USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
        "WBTC": Token("WBTC", "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", 8)}

CHAINS = {
    # Arbitrum's own public endpoint (https://docs.arbitrum.io/build-decentralized-apps/reference/node-providers)
    "arbitrum": Chain("arbitrum", 42161, "dex:arb", QUOTER_V2, SWAP_ROUTER_02,
                      (Pair("ETH", "USDC", _ARB["WETH"], _ARB["USDC"], 500), Pair("BTC", "USDC", _ARB["WBTC"], _ARB["USDC"], 500)),
                      "https://arb1.arbitrum.io/rpc"),
    "ethereum": Chain("ethereum", 1, "dex:eth", QUOTER_V2, SWAP_ROUTER_02,
                      (Pair("ETH", "USDC", _ETH["WETH"], _ETH["USDC"], 500), Pair("BTC", "USDC", _ETH["WBTC"], _ETH["USDC"], 3000))),
}


def chain_of(settings) -> Chain:
    from sequence_core.errors import ConfigError

    name = str((settings or {}).get("chain", "arbitrum")).lower()
    if name not in CHAINS:
        raise ConfigError(f"[venues.dex_ethereum] chain = '{name}' is not supported; accepted: {', '.join(CHAINS)}")
    return CHAINS[name]


def venue_symbol_of(chain: Chain, p: Pair) -> str:
    return f"{chain.name}:{p.base_token.symbol}/{p.quote_token.symbol}:{p.fee}"


# -- amounts ----------------------------------------------------------------------------------------
def to_units(amount: Decimal, decimals: int, up: bool = False) -> int:
    """A token amount in its smallest units (rounded down, or up for a bound we must cover)."""
    return int((amount * (Decimal(10) ** decimals)).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR))


def from_units(units: int, decimals: int) -> Decimal:
    return Decimal(units).scaleb(-decimals)


# -- calldata ---------------------------------------------------------------------------------------
Q_IN = "quoteExactInputSingle((address,address,uint256,uint24,uint160))"
Q_OUT = "quoteExactOutputSingle((address,address,uint256,uint24,uint160))"
SWAP_IN = "exactInputSingle((address,address,uint24,address,uint256,uint256,uint160))"
SWAP_OUT = "exactOutputSingle((address,address,uint24,address,uint256,uint256,uint160))"
MULTICALL = "multicall(bytes[])"
UNWRAP_WETH9 = "unwrapWETH9(uint256,address)"
REFUND_ETH = "refundETH()"
ADDRESS_THIS = "0x0000000000000000000000000000000000000002"   # Constants.ADDRESS_THIS: the router itself
ZERO_ADDRESS = "0x" + "00" * 20
BALANCE_OF, ALLOWANCE, APPROVE = "balanceOf(address)", "allowance(address,address)", "approve(address,uint256)"
TRANSFER_TOPIC = "0x" + keccak256(b"Transfer(address,address,uint256)").hex()
_QUOTE = ("address", "address", "uint256", "uint24", "uint160")
_SWAP = ("address", "address", "uint24", "address", "uint256", "uint256", "uint160")


def quote_in(token_in: Token, token_out: Token, amount_in: int, fee: int) -> bytes:
    return call_data(Q_IN, [_QUOTE], [(token_in.address, token_out.address, amount_in, fee, 0)])


def quote_out(token_in: Token, token_out: Token, amount_out: int, fee: int) -> bytes:
    return call_data(Q_OUT, [_QUOTE], [(token_in.address, token_out.address, amount_out, fee, 0)])


def swap_exact_in(token_in: Token, token_out: Token, fee: int, recipient: str, amount_in: int, min_out: int) -> bytes:
    return call_data(SWAP_IN, [_SWAP], [(token_in.address, token_out.address, fee, recipient, amount_in, min_out, 0)])


def swap_exact_out(token_in: Token, token_out: Token, fee: int, recipient: str, amount_out: int, max_in: int) -> bytes:
    return call_data(SWAP_OUT, [_SWAP], [(token_in.address, token_out.address, fee, recipient, amount_out, max_in, 0)])


def multicall(calls: list[bytes]) -> bytes:
    return call_data(MULTICALL, ["bytes[]"], [calls])


def unwrap_weth9(amount_min: int, recipient: str) -> bytes:
    return call_data(UNWRAP_WETH9, ["uint256", "address"], [amount_min, recipient])


def balance_of(owner: str) -> bytes:
    return call_data(BALANCE_OF, ["address"], [owner])


def allowance(owner: str, spender: str) -> bytes:
    return call_data(ALLOWANCE, ["address", "address"], [owner, spender])


def approve(spender: str, amount: int) -> bytes:
    return call_data(APPROVE, ["address", "uint256"], [spender, amount])


def words(hex_data: str) -> list[int]:
    """A returned ABI tuple of static values as its 32-byte words."""
    raw = bytes.fromhex(str(hex_data).removeprefix("0x"))
    if not raw or len(raw) % 32:
        raise ValueError(f"not ABI words ({len(raw)} bytes)")
    return [int.from_bytes(raw[i:i + 32], "big") for i in range(0, len(raw), 32)]


def revert_reason(data) -> str:
    """``Error(string)`` revert data (0x08c379a0 + ABI string) as its text, else the hex."""
    text = str(data or "")
    raw = bytes.fromhex(text.removeprefix("0x")) if text.startswith("0x") else b""
    if raw[:4] == selector("Error(string)") and len(raw) >= 68:
        n = int.from_bytes(raw[36:68], "big")
        return raw[68:68 + n].decode(errors="replace")
    return text


def error_data(reason: str) -> str:
    """``Error(string)`` revert data for a reason (what a contract's ``require`` returns)."""
    return "0x" + (selector("Error(string)") + abi_encode(["string"], [reason])).hex()


def topic_address(topic: str) -> str:
    return "0x" + str(topic)[-40:].lower()
