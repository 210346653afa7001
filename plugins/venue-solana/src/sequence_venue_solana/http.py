"""The two remote things a Solana swap needs: a JSON-RPC node and Jupiter's swap API.

JSON-RPC (https://solana.com/docs/rpc): POST ``{"jsonrpc": "2.0", "id", "method", "params"}``
to the node URL; answers are ``{"result": ...}`` or ``{"error": {"code", "message", "data"}}``
inside HTTP 200. Methods used: ``getVersion``, ``getBlockHeight``, ``getBalance`` (lamports),
``getTokenAccountsByOwner`` (``{"mint"}`` filter, ``jsonParsed``: ``tokenAmount``),
``sendTransaction`` (base64, ``skipPreflight`` false, ``preflightCommitment``, ``maxRetries``:
how long the node itself re-broadcasts), ``getSignatureStatuses`` (``searchTransactionHistory``;
``confirmationStatus`` processed|confirmed|finalized, ``err``), ``getTransaction``
(``jsonParsed``, ``maxSupportedTransactionVersion`` 0). Errors by code
(https://github.com/anza-xyz/agave/blob/master/rpc-client-types/src/custom_error.rs):
-32002 preflight (simulation) failure with ``data.err`` (a TransactionError), -32003 signature
verification failure, -32005 node unhealthy, -32602 invalid params. Public mainnet limits
(https://solana.com/docs/references/clusters): 100 requests per 10 s per IP, 40 per 10 s for a
single method; past them HTTP 429.

Jupiter Metis swap API (https://dev.jup.ag/docs/swap, reference
https://dev.jup.ag/api-reference/swap/quote and /swap): ``GET /swap/v1/quote`` (inputMint,
outputMint, amount in token units, swapMode ExactIn|ExactOut, slippageBps) answers a
quoteResponse (inAmount, outAmount, otherAmountThreshold: the minimum out for ExactIn, the
maximum in for ExactOut); ``POST /swap/v1/swap`` with that quoteResponse and userPublicKey
answers ``swapTransaction`` (base64, unsigned) and ``lastValidBlockHeight``. Host
``https://api.jup.ag`` with the ``x-api-key`` header (lite-api.jup.ag, keyless, was retired on
2025-12-31: https://dev.jup.ag/docs/api-rate-limit); the free tier allows 60 requests per 60 s,
paid tiers more (setting ``aggregator_rate_per_min``). Refusals are HTTP 4xx with
``{"error": "...", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"}`` and the like
(https://dev.jup.ag/docs/swap/common-errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec

from sequence_core.errors import (AuthenticationError, InsufficientFunds, InvalidOrder, NetworkError, RateLimitExceeded,
                                  SequenceError, VenueError)
from sequence_core.rest import RateLimiter, VenueClient

DEFAULT_RPC_URL = "https://api.mainnet-beta.solana.com"
DEFAULT_AGGREGATOR_URL = "https://api.jup.ag"
PREFLIGHT, SIGNATURE, UNHEALTHY, INVALID_PARAMS = -32002, -32003, -32005, -32602
#: Jupiter program errors (https://dev.jup.ag/docs/swap/common-errors)
JUPITER_ERRORS = {6001: "SlippageToleranceExceeded", 6008: "NotEnoughAccountKeys", 6014: "IncorrectTokenProgramID",
                  6017: "ExactOutAmountNotMatched"}
NO_ROUTE = {"COULD_NOT_FIND_ANY_ROUTE", "NO_ROUTES_FOUND", "TOKEN_NOT_TRADABLE", "MARKET_NOT_FOUND",
            "ROUTE_PLAN_DOES_NOT_CONSUME_ALL_THE_AMOUNT", "CIRCULAR_ARBITRAGE_IS_DISABLED"}


def describe(err: Any) -> str:
    """A TransactionError as the node sends it, in words (the program's own name where known)."""
    if isinstance(err, str):
        return {"BlockhashNotFound": "blockhash not found (the transaction expired before it was sent)",
                "AccountNotFound": "the wallet has no SOL (no account to debit the fee from)",
                "InsufficientFundsForFee": "not enough SOL for the network fee",
                "AlreadyProcessed": "this transaction has already been processed"}.get(err, err)
    if isinstance(err, dict) and "InstructionError" in err:
        index, inner = (err["InstructionError"] + [None, None])[:2]
        if isinstance(inner, dict) and "Custom" in inner:
            code = int(inner["Custom"])
            name = JUPITER_ERRORS.get(code) or ("InsufficientFunds" if code == 1 else "")
            return f"instruction {index} failed: custom program error {code} ({hex(code)}{', ' + name if name else ''})"
        return f"instruction {index} failed: {inner}"
    return msgspec.json.encode(err).decode()


def tx_error(err: Any, prefix: str) -> VenueError:
    """The core error for a TransactionError: funds, a price bound, or a plain refusal."""
    text = describe(err)
    if "InsufficientFunds" in text or err in ("AccountNotFound", "InsufficientFundsForFee", "InsufficientFundsForRent"):
        return InsufficientFunds(f"solana: {prefix}: insufficient balance: {text}")
    if "Slippage" in text or "ExactOutAmountNotMatched" in text:
        return InvalidOrder(f"solana: {prefix}: the price moved beyond the order's bound: {text}")
    return VenueError(f"solana: {prefix}: {text}")


def rpc_error(error: dict) -> SequenceError:
    code, message = error.get("code"), str(error.get("message", ""))
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    if code == PREFLIGHT and data.get("err") is not None:
        return tx_error(data["err"], "the node refused the transaction in simulation")
    if code == SIGNATURE:
        return AuthenticationError(f"solana rejected the transaction's signature: {message} ({code})")
    if code == UNHEALTHY:
        return NetworkError(f"solana: the RPC node is unhealthy: {message} ({code})")
    if code == 429 or "rate" in message.lower():
        return RateLimitExceeded(f"solana: the RPC node rate-limited us: {message} ({code})")
    if code == INVALID_PARAMS:
        return InvalidOrder(f"solana: the RPC node refused the request: {message} ({code})")
    return VenueError(f"solana: the RPC node refused the request: {message} ({code})")


def rpc_unwrap(body: Any) -> Any:
    if not isinstance(body, dict) or ("result" not in body and "error" not in body):
        raise NetworkError("solana: the RPC node sent an answer that is not JSON-RPC")
    if body.get("error") is not None:
        raise rpc_error(body["error"] if isinstance(body["error"], dict) else {"message": str(body["error"])})
    return body["result"]


def rpc_http_error(status: int, body: Any) -> SequenceError:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return rpc_error(body["error"])
    if status in (401, 403):
        return AuthenticationError(f"solana: the RPC node refused access (HTTP {status}); check rpc_url")
    return VenueError(f"solana: the RPC node answered HTTP {status}")


class RpcClient(VenueClient):
    """A Solana JSON-RPC node. Reads are retried; ``sendTransaction`` never is (the session
    re-broadcasts the same bytes itself after asking the chain)."""

    venue = "solana"
    #: per method (public mainnet: 40 per 10 s), besides the 100 per 10 s for the whole node
    method_limit = (40, 10.0)

    def __init__(self, url: str = DEFAULT_RPC_URL, timeout_s: float = 10.0, rate_per_10s: int = 100):
        super().__init__(url, rpc_http_error, timeout_s, unwrap=rpc_unwrap)
        self.node_limit = RateLimiter(rate_per_10s, 10.0)
        self._methods: dict[str, RateLimiter] = {}

    async def server_time_ms(self) -> int:     # the chain's clock is not needed to sign
        raise NotImplementedError

    async def call(self, method: str, params: list | None = None, idempotent: bool = True) -> Any:
        await self.node_limit.acquire()
        limiter = self._methods.setdefault(method, RateLimiter(*self.method_limit))
        return await self.json_rpc(method, params or [], idempotent, limiter)

    async def version(self) -> dict:
        return await self.call("getVersion")

    async def block_height(self) -> int:
        return int(await self.call("getBlockHeight", [{"commitment": "confirmed"}]))

    async def balance(self, owner: str) -> int:
        return int((await self.call("getBalance", [owner, {"commitment": "confirmed"}]))["value"])

    async def token_accounts(self, owner: str, mint: str) -> list:
        found = await self.call("getTokenAccountsByOwner", [owner, {"mint": mint},
                                                             {"encoding": "jsonParsed", "commitment": "confirmed"}])
        return found["value"]

    async def send(self, raw_b64: str, max_retries: int | None = None) -> str:
        opts: dict = {"encoding": "base64", "skipPreflight": False, "preflightCommitment": "confirmed"}
        if max_retries is not None:
            opts["maxRetries"] = max_retries
        return await self.call("sendTransaction", [raw_b64, opts], idempotent=False)

    async def statuses(self, signatures: list[str]) -> list:
        return (await self.call("getSignatureStatuses", [signatures, {"searchTransactionHistory": True}]))["value"]

    async def transaction(self, signature: str) -> dict | None:
        return await self.call("getTransaction", [signature, {"encoding": "jsonParsed", "commitment": "confirmed",
                                                              "maxSupportedTransactionVersion": 0}])


def jupiter_error(status: int, body: Any) -> SequenceError:
    body = body if isinstance(body, dict) else {}
    code, message = str(body.get("errorCode") or body.get("code") or status), str(body.get("error") or body.get("message") or "")
    if status in (401, 403):
        return AuthenticationError(f"solana: Jupiter rejected the API key (x-api-key): {message or 'unauthorized'} (HTTP {status})")
    if code in NO_ROUTE:
        return InvalidOrder(f"solana: Jupiter found no route: {message} ({code})")
    return InvalidOrder(f"solana: Jupiter refused the request: {message or 'bad request'} ({code})")


class JupiterClient(VenueClient):
    venue = "solana"

    def __init__(self, base_url: str = DEFAULT_AGGREGATOR_URL, api_key: str = "", timeout_s: float = 10.0,
                 rate_per_min: int = 60):
        super().__init__(base_url, jupiter_error, timeout_s, limiter=RateLimiter(rate_per_min, 60.0))
        self._key = api_key

    def __repr__(self) -> str:
        return f"JupiterClient({self.rest.base_url})"

    async def server_time_ms(self) -> int:
        raise NotImplementedError

    def _headers(self) -> dict:
        return {"x-api-key": self._key} if self._key else {}

    async def quote(self, input_mint: str, output_mint: str, amount: int, mode: str, slippage_bps: int) -> dict:
        query = urlencode({"inputMint": input_mint, "outputMint": output_mint, "amount": amount, "swapMode": mode,
                           "slippageBps": slippage_bps})
        return await self.rest.request("GET", "/swap/v1/quote", query=query, headers=self._headers(), idempotent=True)

    async def swap(self, quote: dict, user: str) -> dict:
        """Building the transaction changes nothing anywhere, so it is retried like a read."""
        body = msgspec.json.encode({"quoteResponse": quote, "userPublicKey": user, "wrapAndUnwrapSol": True,
                                    "dynamicComputeUnitLimit": True})
        return await self.rest.request("POST", "/swap/v1/swap", body=body,
                                       headers={"Content-Type": "application/json", **self._headers()}, idempotent=True)
