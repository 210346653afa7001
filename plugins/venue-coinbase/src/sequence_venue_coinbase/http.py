"""Coinbase Advanced Trade REST client (https://docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/introduction).

Base ``https://api.coinbase.com/api/v3/brokerage``. Public (no JWT): ``GET /time``,
``/market/products``, ``/market/product_book``, ``/market/products/{id}/ticker``. Signed:
``GET /accounts`` (cursor pages), ``/transaction_summary`` (the key's fee tier),
``/best_bid_ask``, ``/orders/historical/{order_id}``, ``/orders/historical/batch`` (list; filters
``product_ids``, ``order_status``; no client-order-id filter), ``/orders/historical/fills``
(``order_ids``); ``POST /orders`` (create), ``/orders/batch_cancel``, ``/orders/edit``.

Answers: a refused create is HTTP 200 ``{"success": false, "error_response": {"error",
"message", "new_order_failure_reason", "preview_failure_reason"}}``; a refused edit is
``{"success": false, "errors": [{"edit_failure_reason", ...}]}``; a cancel answers
``{"results": [{"success", "failure_reason", "order_id"}]}``. Other failures are 4xx with
``{"error": "NOT_FOUND" | "INVALID_ARGUMENT" | "PERMISSION_DENIED" ..., "message"}``; a bad or
expired JWT is HTTP 401 (body ``Unauthorized``).
Rate limits (https://docs.cloud.coinbase.com/advanced-trade/docs/rest-api-rate-limits; NautilusTrader's
adapter uses the same 30/s): private endpoints 30 requests/s per user, public 10/s per IP; past
them HTTP 429, body ``{"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}``
(https://docs.cdp.coinbase.com/coinbase-app/api-architecture/rate-limiting). The client keeps both budgets and follows the SDK's
``x-ratelimit-limit``/``x-ratelimit-remaining`` headers when Coinbase sends them.
Clock: the JWT carries ``nbf``/``exp`` (120 s); a 401 makes the client learn Coinbase's time
(``GET /time``) and, if its clock was off by more than a second, sign once more.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from sequence_core.errors import AuthenticationError, ErrorCodes, SequenceError, VenueError
from sequence_core.rest import RateLimiter, VenueClient

from .signing import headers, load_key

DEFAULT_BASE_URL = "https://api.coinbase.com"
PREFIX = "/api/v3/brokerage"
PRIVATE_PER_S, PUBLIC_PER_S = 30, 10

CODES = ErrorCodes(
    "coinbase",
    auth={"UNAUTHENTICATED", "PERMISSION_DENIED", "HTTP 401"},
    # a cancel of an order that is gone or already done: the session reads its state instead
    not_found={"NOT_FOUND", "ORDER_NOT_FOUND", "CALLER_ID_MISMATCH", "UNKNOWN_CANCEL_ORDER", "ORDER_IS_FULLY_FILLED",
               "DUPLICATE_CANCEL_REQUEST"},
    funds={"INSUFFICIENT_FUND", "INSUFFICIENT_FUNDS", "PREVIEW_INSUFFICIENT_FUND", "REJECT_REASON_INSUFFICIENT_FUNDS",
           "INVALID_LEDGER_BALANCE"},
    invalid={"INVALID_ARGUMENT", "INVALID_REQUEST", "UNSUPPORTED_ORDER_CONFIGURATION", "INVALID_SIDE", "INVALID_PRODUCT_ID",
             "INVALID_SIZE_PRECISION", "INVALID_PRICE_PRECISION", "INVALID_LIMIT_PRICE_POST_ONLY", "INVALID_LIMIT_PRICE",
             "INVALID_NO_LIQUIDITY", "UNTRADABLE_PRODUCT", "ORDER_ENTRY_DISABLED", "INELIGIBLE_PAIR",
             "PREVIEW_INVALID_ORDER_CONFIG", "PREVIEW_INVALID_SIZE_PRECISION", "PREVIEW_INVALID_PRICE_PRECISION",
             "PREVIEW_INVALID_PRODUCT_ID", "PREVIEW_INVALID_SIDE", "CANNOT_EDIT_TO_BELOW_FILLED_SIZE",
             "ONLY_LIMIT_ORDER_EDITS_SUPPORTED", "INVALID_EDITED_SIZE", "INVALID_EDITED_PRICE",
             "ONLY_OPEN_ORDERS_CAN_BE_EDITED", "EDIT_REQUEST_EQUAL_TO_ORIGINAL_REQUEST", "SIZE_IN_QUOTE_EDITS_NOT_ALLOWED",
             "ORDER_IS_ALREADY_BEING_REPLACED", "CANNOT_EDIT_ORDER_PENDING_CANCEL", "EXCEEDED_MAX_ALLOWED_EDIT_REQUEST_COUNT"},
    rate={"RESOURCE_EXHAUSTED", "rate_limit_exceeded", "RATE_LIMIT_EXCEEDED"},
    auth_what="the CDP API key (name, private key or its permissions)",
)


UNKNOWN = {"", "UNKNOWN_FAILURE_REASON", "UNKNOWN_PREVIEW_FAILURE_REASON", "UNKNOWN_EDIT_ORDER_FAILURE_REASON"}


def error_from(status: int, body: Any) -> SequenceError:
    """A 4xx answer: ``{"error", "message"}``, the 429 ``{"errors": [{"id", "message"}]}``, or
    the 401's plain ``Unauthorized``."""
    body = body if isinstance(body, dict) else {}
    first = (body.get("errors") or [{}])[0] if isinstance(body.get("errors"), list) else {}
    code = str(body.get("error") or first.get("id") or f"HTTP {status}")
    message = body.get("message") or body.get("error_details") or first.get("message") or ""
    return CODES.error(code, message or ("Unauthorized" if status == 401 else "request refused"), auth=status == 401)


def _reason(*candidates) -> str:
    """The first specific failure reason (Coinbase fills the others with UNKNOWN_...)."""
    return next((str(c) for c in candidates if c and c not in UNKNOWN), "UNKNOWN_FAILURE_REASON")


def refused_create(body: dict) -> VenueError:
    err = body.get("error_response") or {}
    code = _reason(err.get("error"), err.get("new_order_failure_reason"), err.get("preview_failure_reason"),
                   body.get("failure_reason"))
    return CODES.error(code, err.get("message") or err.get("error_details") or "order refused")


def usage(resp_headers, limiter: RateLimiter) -> None:
    """Follow the remaining budget Coinbase reports (the SDK reads these headers)."""
    limit, remaining = resp_headers.get("x-ratelimit-limit"), resp_headers.get("x-ratelimit-remaining")
    try:
        if limit and remaining is not None:
            limiter.used(float(limit) - float(remaining), float(limit))
    except ValueError:
        pass


class CoinbaseClient(VenueClient):
    venue = "coinbase"

    def __init__(self, key_name: str, private_key: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 10.0):
        super().__init__(base_url, error_from, timeout_s, usage=usage)
        self._key_name = key_name
        self._key = load_key(private_key) if private_key else None      # parsed once; the text is not kept
        self._host = urlsplit(self.rest.base_url).netloc
        self.private_limiter, self.public_limiter = RateLimiter(PRIVATE_PER_S), RateLimiter(PUBLIC_PER_S)

    async def server_time_ms(self) -> int:
        return int((await self.public("/time"))["epochMillis"])

    async def public(self, path: str, params: dict | None = None, weight: float = 1.0) -> Any:
        return await self.rest.request("GET", PREFIX + path, query=urlencode(params or {}, doseq=True), idempotent=True,
                                       limiter=self.public_limiter)

    async def signed(self, method: str, path: str, params: dict | None = None, idempotent: bool = True) -> Any:
        """One signed call (``params`` the query of a GET, the JSON body otherwise). A 401 may be
        our clock: learn Coinbase's and, if it moved, sign once more (a refused call did nothing)."""
        if self._key is None:
            raise AuthenticationError("coinbase: this call needs the API key; run `sequence connect coinbase`")
        full = PREFIX + path
        query = urlencode(params or {}, doseq=True) if method == "GET" else ""
        body = "" if method == "GET" else msgspec.json.encode(params or {}).decode()

        async def send():
            h = headers(self._key_name, self._key, method, self._host, full, self.clock.now_ms() // 1000)
            return await self.rest.request(method, full, query=query, body=body.encode() if body else None, headers=h,
                                           idempotent=idempotent, limiter=self.private_limiter)
        try:
            return await send()
        except AuthenticationError:
            before = self.clock.offset_ms
            await self.clock.sync()
            if abs(self.clock.offset_ms - before) < 1000:
                raise
            return await send()

    # -- public ---------------------------------------------------------------------------------
    async def products(self) -> list:
        from .symbols import from_products

        return from_products((await self.public("/market/products", {"product_type": "SPOT"}))["products"])

    async def product_book(self, product_id: str, limit: int = 50) -> dict:
        return (await self.public("/market/product_book", {"product_id": product_id, "limit": limit}))["pricebook"]

    async def ticker(self, product_id: str) -> dict:
        return await self.public(f"/market/products/{product_id}/ticker", {"limit": 1})

    # -- signed ---------------------------------------------------------------------------------
    async def best_bid_ask(self, product_ids: list[str]) -> list:
        return (await self.signed("GET", "/best_bid_ask", {"product_ids": product_ids}))["pricebooks"]

    async def accounts(self) -> list:
        out, cursor = [], ""
        for _ in range(20):                      # 250 a page: 5,000 wallets is plenty
            page = await self.signed("GET", "/accounts", {"limit": 250, **({"cursor": cursor} if cursor else {})})
            out += page.get("accounts", [])
            cursor = page.get("cursor") or ""
            if not page.get("has_next") or not cursor:
                break
        return out

    async def transaction_summary(self) -> dict:
        return await self.signed("GET", "/transaction_summary", {"product_type": "SPOT"})

    async def create_order(self, body: dict) -> dict:
        answer = await self.signed("POST", "/orders", body, idempotent=False)
        if not answer.get("success"):
            raise refused_create(answer)
        return answer["success_response"]

    async def cancel(self, order_id: str) -> dict:
        (result,) = (await self.signed("POST", "/orders/batch_cancel", {"order_ids": [order_id]}))["results"]
        if not result.get("success"):
            raise CODES.error(str(result.get("failure_reason")), "cancel refused")
        return result

    async def edit(self, order_id: str, price: str, size: str) -> None:
        answer = await self.signed("POST", "/orders/edit", {"order_id": order_id, "price": price, "size": size}, idempotent=False)
        if not answer.get("success"):
            err = (answer.get("errors") or [{}])[0]
            raise CODES.error(_reason(err.get("edit_failure_reason"), err.get("preview_failure_reason")), "edit refused")

    async def order(self, order_id: str) -> dict:
        return (await self.signed("GET", f"/orders/historical/{order_id}"))["order"]

    async def orders(self, product_id: str, status: str | None = None, pages: int = 1) -> list:
        """Newest first; ``pages`` of 100 (a lost order is looked for among the latest ones)."""
        out, cursor = [], ""
        for _ in range(pages):
            params = {"product_ids": [product_id], "limit": 100, **({"order_status": [status]} if status else {}),
                      **({"cursor": cursor} if cursor else {})}
            page = await self.signed("GET", "/orders/historical/batch", params)
            out += page.get("orders", [])
            cursor = page.get("cursor") or ""
            if not page.get("has_next") or not cursor:
                break
        return out

    async def fills(self, order_id: str) -> list:
        return (await self.signed("GET", "/orders/historical/fills", {"order_ids": [order_id], "limit": 100}))["fills"]
