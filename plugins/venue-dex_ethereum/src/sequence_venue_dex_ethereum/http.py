"""Ethereum JSON-RPC over HTTP (https://ethereum.org/en/developers/docs/apis/json-rpc/, the
execution-apis spec https://ethereum.github.io/execution-apis/api-documentation/) on the core's
RestClient: every call has a timeout, reads are retried with backoff (timeouts, 5xx, 429 with
Retry-After, malformed answers), ``eth_sendRawTransaction`` never is (the session re-sends the
SAME signed bytes from its journal instead, which a node recognises).

Errors arrive inside HTTP 200 as ``{"jsonrpc":"2.0","id":n,"error":{"code","message","data"}}``.
Geth answers most refusals with code -32000 and a fixed message (core/txpool/errors.go,
core/error.go): "nonce too low", "already known", "replacement transaction underpriced",
"insufficient funds for gas * price + value", "max fee per gas less than block base fee",
"invalid sender" (a bad signature or another chain's id); a revert in ``eth_call`` /
``eth_estimateGas`` is code 3 "execution reverted: <reason>" with the revert data
(EIP-1474 / execution-apis). Providers rate-limit with HTTP 429 or code -32005 (Infura
"limit exceeded"), and refuse a wrong project key in the URL with HTTP 401/403.
The RPC URL often carries the provider's key in its path: it never appears in a message or repr.
"""

from __future__ import annotations

from typing import Any

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, RateLimitExceeded,
                                  SequenceError, VenueError)
from sequence_core.rest import RateLimiter, VenueClient

V = "dex_ethereum"


class NonceTaken(InvalidOrder):
    """The node has a mined transaction at this nonce already ("nonce too low")."""


class NonceContested(InvalidOrder):
    """Another pending transaction of the wallet holds this nonce with higher fees ("replacement
    transaction underpriced"): which of them lands is decided by mining, not by this answer."""


class AlreadyKnown(VenueError):
    """The node already has exactly this transaction (a re-send of the same bytes)."""


class Reverted(InvalidOrder):
    """``eth_call`` / ``eth_estimateGas`` say the call reverts; ``reason`` is the contract's."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def rpc_error(err: dict) -> SequenceError:
    """A JSON-RPC error object as the core error a user can act on."""
    from .contracts import revert_reason

    code, msg = err.get("code"), str(err.get("message") or "refused")
    low = msg.lower()
    if code == 3 or "execution reverted" in low or "revert" in low:
        reason = revert_reason(err.get("data")) if err.get("data") else msg.split(":", 1)[-1].strip()
        return Reverted(f"{V}: the transaction would revert ({reason or 'no reason given'})", reason)
    if "nonce too low" in low:
        return NonceTaken(f"{V}: {msg} ({code})")
    if "replacement transaction underpriced" in low:
        return NonceContested(f"{V}: {msg} ({code})")
    if "already known" in low or "known transaction" in low:
        return AlreadyKnown(f"{V}: {msg} ({code})")
    if "insufficient funds" in low:
        return InsufficientFunds(f"{V}: the wallet cannot pay for this transaction: {msg} ({code})")
    if "invalid sender" in low or "invalid signature" in low:
        return AuthenticationError(f"{V} node rejected the transaction signature: {msg} ({code})")
    if code in (-32005, 429) or "rate limit" in low or "limit exceeded" in low:
        return RateLimitExceeded(f"{V}: the RPC node rate-limited the call: {msg} ({code})")
    if code in (-32601, -32602, -32600, -32700):
        return VenueError(f"{V}: the RPC node refused the request: {msg} ({code})")
    return InvalidOrder(f"{V}: {msg} ({code})")


def http_error(status: int, data: Any) -> SequenceError:
    """A 4xx from the RPC endpoint (most often: the provider key in the URL is wrong)."""
    msg = ""
    if isinstance(data, dict):
        e = data.get("error")
        msg = str(e.get("message") if isinstance(e, dict) else e or data.get("message") or "")
    if status in (401, 403):
        return AuthenticationError(f"{V}: the RPC provider refused the key in the configured RPC URL "
                                   f"(HTTP {status}{': ' + msg if msg else ''})")
    return VenueError(f"{V}: the RPC node answered HTTP {status}{': ' + msg if msg else ''}")


def _unwrap(data: Any) -> Any:
    if not isinstance(data, dict) or ("result" not in data and "error" not in data):
        raise NetworkError(f"{V}: the RPC node sent an answer that is not JSON-RPC")
    if data.get("error") is not None:
        raise rpc_error(data["error"] if isinstance(data["error"], dict) else {"message": str(data["error"])})
    return data["result"]


def _hex(n: int) -> str:
    return hex(int(n))


def _int(v) -> int:
    if v is None:
        raise NetworkError(f"{V}: the RPC node sent no number where one was expected")
    try:
        return int(v, 16) if isinstance(v, str) else int(v)
    except ValueError:
        raise NetworkError(f"{V}: the RPC node sent {v!r} where a hex number was expected") from None


class RpcClient(VenueClient):
    venue = V

    def __init__(self, url: str, timeout_s: float = 10.0, requests_per_s: float = 25.0):
        super().__init__(url, http_error, timeout_s=timeout_s, unwrap=_unwrap,
                         limiter=RateLimiter(requests_per_s, 1.0))

    def __repr__(self) -> str:            # the URL may carry the provider's key
        return "RpcClient(<rpc url>)"

    async def rpc(self, method: str, params: list, idempotent: bool = True) -> Any:
        try:
            return await self.json_rpc(method, params, idempotent)
        except (NetworkError, RateLimitExceeded) as exc:
            # the transport names the call "POST " + path; say which RPC method it was
            text = str(exc).replace("POST  ", f"{method} ").replace("POST ", f"{method} ")
            raise (RateLimitExceeded(text, exc.retry_after) if isinstance(exc, RateLimitExceeded) else NetworkError(text)) from None

    async def server_time_ms(self) -> int:
        return _int((await self.latest_block())["timestamp"]) * 1000

    # -- reads -------------------------------------------------------------------------------------
    async def chain_id(self) -> int:
        return _int(await self.rpc("eth_chainId", []))

    async def block_number(self) -> int:
        return _int(await self.rpc("eth_blockNumber", []))

    async def latest_block(self) -> dict:
        block = await self.rpc("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise NetworkError(f"{V}: the RPC node has no latest block")
        return block

    async def block(self, number: int) -> dict | None:
        return await self.rpc("eth_getBlockByNumber", [_hex(number), False])

    async def balance(self, address: str) -> int:
        return _int(await self.rpc("eth_getBalance", [address, "latest"]))

    async def call(self, to: str, data: bytes, sender: str | None = None) -> str:
        tx = {"to": to, "data": "0x" + data.hex(), **({"from": sender} if sender else {})}
        return await self.rpc("eth_call", [tx, "latest"])

    async def estimate_gas(self, sender: str, to: str, data: bytes, value: int = 0) -> int:
        return _int(await self.rpc("eth_estimateGas", [{"from": sender, "to": to, "data": "0x" + data.hex(), "value": _hex(value)}]))

    async def nonce(self, address: str, tag: str = "pending") -> int:
        return _int(await self.rpc("eth_getTransactionCount", [address, tag]))

    async def max_priority_fee(self) -> int:
        return _int(await self.rpc("eth_maxPriorityFeePerGas", []))

    async def receipt(self, tx_hash: str) -> dict | None:
        return await self.rpc("eth_getTransactionReceipt", [tx_hash])

    async def transaction(self, tx_hash: str) -> dict | None:
        return await self.rpc("eth_getTransactionByHash", [tx_hash])

    # -- the one write -----------------------------------------------------------------------------
    async def send_raw(self, raw: bytes) -> str:
        """Broadcast signed bytes; never retried here (a lost answer is resolved from the journal)."""
        return str(await self.rpc("eth_sendRawTransaction", ["0x" + raw.hex()], idempotent=False))
