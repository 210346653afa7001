"""A fake Polymarket (CLOB V2 + Gamma + Data API + relayer + market websocket) on 127.0.0.1
that checks requests the way the venue documents them.

CLOB at ``/``: L1 ``POLY_SIGNATURE`` is the ClobAuth EIP-712 signature of ``POLY_ADDRESS`` (401
"Invalid L1 Request headers"); L2 ``POLY_SIGNATURE`` = urlsafe-base64 HMAC-SHA256 with the
base64url secret over timestamp + METHOD + path + body, with the key's passphrase and address
(401 "Unauthorized/Invalid api key"); timestamps more than 30 s from the fake's clock are
refused the same way (Polymarket does not publish its window). ``POST /order`` recovers the
EIP-712 signer of the order with the exchange of the token (neg-risk or not) and the fake's
``version``; an order signed for the other version, or V1-shaped, is "order_version_mismatch".
Orders match a small fixed book per token; taker fees follow the market's ``fd``. Errors are
``{"error": msg}`` with the venue's messages (https://docs.polymarket.com/resources/error-codes).
Gamma at ``/gamma``, Data API at ``/data-api``, relayer at ``/relayer`` (builder HMAC checked,
Safe/proxy signatures recovered, the redeem calldata decoded). Websockets ``/ws/market`` and
``/ws/user``: the user channel takes the API key, secret and passphrase in its subscribe message,
answers nothing, and drops the connection without a close frame when they are not a key it
issued (the venue's behaviour as users report it); it answers ``PING`` with ``PONG`` and pushes
``order`` events (PLACEMENT, UPDATE, CANCELLATION) and ``trade`` events (the same trade records
``/data/trades`` returns) for the key's orders; ``fill_resting`` has someone take a resting order,
``advance_trade`` moves a trade to MINED, CONFIRMED, ... and pushes it again.
Protocol V2: Gamma sends each market's ``version`` ("v1": ``clobTokenIds``; "v2": ``positionIds``,
with bookless ``clobTokenIds`` beside them, as v1 markets carry bookless ``positionIds``), and an
order for a V2 position id must be signed for Exchange V3 (domain "3") whatever ``version`` is;
``gamma_legacy`` drops ``version`` and ``positionIds`` (Gamma before Protocol V2).
Faults: ``rate_limit_next``, ``malformed_next``, ``clock_offset_ms``, ``delay_next_s``, ``lose_next_answer_s``, ``fail_next``,
``refuse_next_place``, ``restriction_next`` (425 restart, 503 post-only or cancel-only mode on
``/order``), ``relayer_error_next``, ``relayer_tx_fails``, ``corrupt_next_top``, ``drop_sockets()``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
from decimal import Decimal

from aiohttp import web

from sequence_core.keys import keccak256
from sequence_core.testing import FakeVenueServer
from sequence_core import evm as eip712
from sequence_venue_polymarket import relayer, signing

FED = "fed-decision-in-october"
FED_YES = "21742633143463906290569050155826241533067272736897614950488156847949938836455"
FED_NO = "48331043336612883890938759509493159234755048973500640148014422747788308965732"
FED_CID = "0x" + "fe" * 32
RAIN = "will-it-rain-in-paris-tomorrow"
RAIN_YES, RAIN_NO = "11" * 20, "22" * 20
RAIN_CID = "0x" + "ab" * 32
# a Polymarket Protocol V2 market: its outcomes are position ids (bits 40..103 clear), signed for
# Exchange V3; Gamma also lists CTF token ids for it that have no book (chosen by ``version``)
SNOW = "will-it-snow-in-paris-tomorrow"
SNOW_BASE = 1 << 248 | int("5e" * 16, 16) << 120        # module 1 (binary), event bits, outcome in the low byte
SNOW_CID = f"0x{SNOW_BASE:064x}"
SNOW_YES, SNOW_NO = str(SNOW_BASE), str(SNOW_BASE | 1)
SNOW_CTF = ("77" * 20, "88" * 20)
BOOKLESS_POSITIONS = [str(1 << 248 | int("6f" * 16, 16) << 120 | i) for i in (0, 1)]    # what v1 markets also list
RELAY = "0xae700edfd9ab986395f3999fe11177b9903a52f1"
UNIT = Decimal(10) ** 6


def err(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


class FakePolymarket(FakeVenueServer):
    def __init__(self, builder=("builder-key-1", base64.urlsafe_b64encode(b"b" * 32).decode(), "builder pass")):
        super().__init__()
        self.version = 2
        self.builder = builder
        self.keys: dict[str, tuple[str, str, str]] = {}        # api key -> (address, secret, passphrase)
        self.key_exists = True                                  # derive answers (False: create first)
        self.markets = {FED_YES: (FED, FED_CID, "Yes", "0.01", False, {}), FED_NO: (FED, FED_CID, "No", "0.01", False, {}),
                        RAIN_YES: (RAIN, RAIN_CID, "Yes", "0.01", True, {"r": 0.02, "e": 1, "to": True}),
                        RAIN_NO: (RAIN, RAIN_CID, "No", "0.01", True, {"r": 0.02, "e": 1, "to": True}),
                        SNOW_YES: (SNOW, SNOW_CID, "Yes", "0.01", False, {}), SNOW_NO: (SNOW, SNOW_CID, "No", "0.01", False, {})}
        self.gamma_legacy = False                               # Gamma as before Protocol V2: no ``version``
        self.restriction_next: str | None = None                # "restart" (425), "post_only" or "cancel_only" (503)
        self.books = {t: {"bids": {"0.50": "100", "0.49": "200"}, "asks": {"0.52": "100", "0.53": "200"}}
                      for t in self.markets}
        self.cash = Decimal(1000)
        self.holdings: dict[str, Decimal] = {}
        self.orders: dict[str, dict] = {}
        self.trades: list[dict] = []
        self.winners: dict[str, str] = {}                       # condition id -> winning token
        self.redeemed: list[dict] = []
        self.relayer_nonce = 0
        self.relayer_txs: dict[str, dict] = {}
        self.relayer_error_next: str | None = None
        self.relayer_tx_fails = False
        self.refuse_next_place: str | None = None
        self.delay_next_s = 0.0
        self.lose_next_answer_s = 0.0
        self.fail_next: int = 0                                 # answer the next request with this 5xx
        self.corrupt_next_top = False
        self.subscriptions: list[list] = []
        self.pings = 0
        self.private: list = []                                 # user-channel sockets: (ws, api key, markets)
        self.logins: list[bool] = []                            # each user-channel subscribe: key accepted or not
        self.position_user = None
        self._ids = itertools.count(1)

    def rate_limited(self):
        return web.json_response({"error": "Too Many Requests"}, status=429, headers={"Retry-After": "0.05"})

    def fault(self, request):
        if self.restriction_next and request.path == "/order":  # trading restrictions answer order endpoints
            kind, self.restriction_next = self.restriction_next, None
            if kind == "restart":
                return err("matching engine is restarting", 425)
            if kind == "post_only":
                return web.json_response({"code": "post_only_mode", "error": "only post-only orders are accepted",
                                          "retry_after_seconds": 95}, status=503)
            return err("Trading is currently cancel-only. New orders are not accepted, but cancels are allowed.", 503)
        if self.fail_next:
            status, self.fail_next = self.fail_next, 0
            return err("Internal server error", status)             # http_order_response_error_500.json
        return None

    def app(self) -> web.Application:
        @web.middleware
        async def delays(request, handler):
            if self.delay_next_s:
                delay, self.delay_next_s = self.delay_next_s, 0.0
                await asyncio.sleep(delay)
            response = await handler(request)
            if self.lose_next_answer_s:                     # done, but the answer comes too late
                delay, self.lose_next_answer_s = self.lose_next_answer_s, 0.0
                await asyncio.sleep(delay)
            return response

        app = web.Application(middlewares=[self.faults, delays])
        r = app.router
        for path, handler in (("/time", self.time), ("/version", self.get_version), ("/book", self.book),
                              ("/tick-size", self.tick), ("/neg-risk", self.neg_risk), ("/fee-rate", self.fee_rate),
                              ("/clob-markets/{cid}", self.clob_market), ("/markets/{cid}", self.clob_market_full),
                              ("/auth/derive-api-key", self.derive), ("/data/order/{id}", self.get_order),
                              ("/data/orders", self.get_orders), ("/data/trades", self.get_trades),
                              ("/balance-allowance", self.balance), ("/gamma/markets", self.gamma),
                              ("/data-api/positions", self.positions), ("/relayer/deployed", self.deployed),
                              ("/relayer/nonce", self.nonce), ("/relayer/relay-payload", self.relay_payload),
                              ("/relayer/transaction", self.transaction), ("/ws/market", self.ws),
                              ("/ws/user", self.user_ws)):
            r.add_get(path, handler)
        r.add_post("/auth/api-key", self.create_key)
        r.add_post("/order", self.place)
        r.add_delete("/order", self.cancel)
        r.add_post("/relayer/submit", self.submit)
        return app

    # -- auth -------------------------------------------------------------------------------------
    def _fresh(self, ts: str) -> bool:
        return ts.isdigit() and abs(int(ts) - self.now_ms() // 1000) <= 30

    def _l1(self, request) -> str | None:
        h = request.headers
        ts, nonce, address = h.get("POLY_TIMESTAMP", ""), h.get("POLY_NONCE", "0"), h.get("POLY_ADDRESS", "")
        try:
            digest = signing.clob_auth_digest(address, int(ts), int(nonce), signing.POLYGON)
            who = eip712.recover(digest, bytes.fromhex(h.get("POLY_SIGNATURE", "")[2:]))
        except (ValueError, IndexError):
            return None
        return address if who == address and self._fresh(ts) else None

    def _creds_for(self, address: str) -> dict:
        seed = hashlib.sha256(address.lower().encode()).digest()
        key = f"{seed[:4].hex()}-0000-4000-8000-{seed[4:10].hex()}"
        secret, passphrase = base64.urlsafe_b64encode(seed).decode(), seed[10:20].hex()
        self.keys[key] = (address, secret, passphrase)
        return {"apiKey": key, "secret": secret, "passphrase": passphrase}

    async def derive(self, request):
        address = self._l1(request)
        if address is None:
            return err("Invalid L1 Request headers", 401)
        if not self.key_exists:
            return err("Could not derive api key!", 400)
        return web.json_response(self._creds_for(address))

    async def create_key(self, request):
        address = self._l1(request)
        if address is None:
            return err("Invalid L1 Request headers", 401)
        self.key_exists = True
        return web.json_response(self._creds_for(address))

    async def _l2(self, request, prefix: str = "") -> tuple[str, str] | web.Response:
        h = request.headers
        known = self.keys.get(h.get("POLY_API_KEY", ""))
        body = await request.text()
        if known is None or h.get("POLY_PASSPHRASE") != known[2] or h.get("POLY_ADDRESS") != known[0]:
            return err("Unauthorized/Invalid api key", 401)
        ts = h.get("POLY_TIMESTAMP", "")
        expected = signing.hmac_signature(known[1], ts, request.method, request.path.removeprefix(prefix), body)
        if not self._fresh(ts) or not hmac.compare_digest(h.get("POLY_SIGNATURE", ""), expected):
            return err("Unauthorized/Invalid api key", 401)
        return known[0], body

    # -- public -----------------------------------------------------------------------------------
    async def time(self, request):
        return web.json_response(self.now_ms() // 1000)

    async def get_version(self, request):
        return web.json_response({"version": self.version})

    def _token(self, request):
        return request.query.get("token_id", "") if request.query.get("token_id") in self.markets else None

    def _summary(self, token: str) -> dict:
        slug, cid, _, tick, neg, _ = self.markets[token]
        book = self.books[token]
        return {"market": cid, "asset_id": token, "timestamp": str(self.now_ms()), "hash": "0" * 40,
                "bids": [{"price": p, "size": s} for p, s in sorted(book["bids"].items(), key=lambda kv: Decimal(kv[0]))],
                "asks": [{"price": p, "size": s} for p, s in sorted(book["asks"].items(), key=lambda kv: -Decimal(kv[0]))],
                "min_order_size": "5", "tick_size": tick, "neg_risk": neg, "last_trade_price": "0.51"}

    async def book(self, request):
        token = self._token(request)
        return web.json_response(self._summary(token)) if token else err("No orderbook exists for the requested token id", 404)

    async def tick(self, request):
        token = self._token(request)
        return web.json_response({"minimum_tick_size": float(self.markets[token][3])}) if token else err("Invalid token id")

    async def neg_risk(self, request):
        token = self._token(request)
        return web.json_response({"neg_risk": self.markets[token][4]}) if token else err("Invalid token id")

    async def fee_rate(self, request):
        return web.json_response({"base_fee": 0}) if self._token(request) else err("Invalid token id")

    def _tokens(self, cid: str) -> list:
        return [(t, m) for t, m in self.markets.items() if m[1] == cid]

    async def clob_market(self, request):
        rows = self._tokens(request.match_info["cid"])
        if not rows:
            return err("market not found", 404)
        m = rows[0][1]
        return web.json_response({"c": m[1], "t": [{"t": t, "o": x[2]} for t, x in rows], "mts": float(m[3]),
                                  "nr": m[4], "fd": m[5], "r": None, "mos": 5})

    async def clob_market_full(self, request):
        cid = request.match_info["cid"]
        rows = self._tokens(cid)
        if not rows:
            return err("market not found", 404)
        winner = self.winners.get(cid)
        return web.json_response({"condition_id": cid, "market_slug": rows[0][1][0], "closed": winner is not None,
                                  "neg_risk": rows[0][1][4], "minimum_tick_size": float(rows[0][1][3]),
                                  "tokens": [{"token_id": t, "outcome": m[2], "winner": t == winner,
                                              "price": 1 if t == winner else 0 if winner else 0.5} for t, m in rows]})

    async def gamma(self, request):
        slug = request.query.get("slug")
        rows = [(t, m) for t, m in self.markets.items() if m[0] == slug]
        if not rows:
            return web.json_response([])
        m = rows[0][1]
        ids = [t for t, _ in rows]
        row = {"id": "1557558", "question": f"Question of {slug}?", "conditionId": m[1], "slug": slug,
               "outcomes": json.dumps([x[2] for _, x in rows]), "clobTokenIds": json.dumps(ids),
               "orderPriceMinTickSize": float(m[3]), "orderMinSize": 5, "negRisk": m[4],
               "closed": cid_closed(self, m[1]), "active": True, "acceptingOrders": True, "version": "v1",
               "positionIds": BOOKLESS_POSITIONS}
        if signing.is_v2_position_id(ids[0]):                  # v2: positionIds trade; its clobTokenIds have no book
            row.update(version="v2", positionIds=ids, clobTokenIds=json.dumps(list(SNOW_CTF)))
        if self.gamma_legacy:
            for key in ("version", "positionIds"):
                row.pop(key)
        return web.json_response([row])

    # -- trading ----------------------------------------------------------------------------------
    def _signer_ok(self, order: dict, neg: bool, version: int) -> str | None:
        """The address that signed this order for this exchange version (None: not a valid signature)."""
        sig = bytes.fromhex(order["signature"][2:])
        try:
            dom = signing.domain(version, neg)
            message = signing.order_message(order)
            if int(order["signatureType"]) == signing.POLY_1271:
                inner, sep, contents = sig[:65], sig[65:97], sig[97:129]
                if sep != eip712.domain_separator(dom) or contents != eip712.hash_struct("Order", message, signing.ORDER_TYPES):
                    return None
                return eip712.recover(eip712.digest(dom, "TypedDataSign", {
                    "contents": message, "name": "DepositWallet", "version": "1", "chainId": signing.POLYGON,
                    "verifyingContract": message["signer"], "salt": signing.ZERO32}, signing.ORDER_TYPES), inner)
            return eip712.recover(eip712.digest(dom, "Order", message, signing.ORDER_TYPES), sig)
        except (ValueError, KeyError):
            return None

    async def place(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        owner_address, body = auth
        p = json.loads(body)
        order, kind = p.get("order") or {}, p.get("orderType")
        if self.keys.get(p.get("owner", ""), ("",))[0] != owner_address:
            return err("the order owner has to be the owner of the API KEY")
        if "timestamp" not in order or any(k in order for k in ("nonce", "feeRateBps", "taker")):
            return err("order_version_mismatch")
        token = order.get("tokenId")
        if token not in self.markets or kind not in ("GTC", "GTD", "FOK", "FAK"):
            return err("Invalid order payload")
        slug, cid, outcome, tick, neg, fd = self.markets[token]
        version = 3 if signing.is_v2_position_id(token) else self.version     # positions settle on Exchange V3
        who = self._signer_ok(order, neg, version)
        if who is None or (int(order["signatureType"]) != 3 and who != order["signer"]):
            other = 3 if version == 2 else 2
            if self._signer_ok(order, neg, other) in (order["signer"], owner_address):
                return err("order_version_mismatch")
            return err("invalid signature")
        if who != owner_address:
            return err("the order signer address has to be the address of the API KEY")
        if int(order["signatureType"]) == 0 and order["maker"] != order["signer"]:
            return err("invalid signature")
        oid = signing.order_hash(order, version, neg)
        if oid in self.orders:
            return err(f"order {oid} is invalid. Duplicated.")
        if self.refuse_next_place:
            message, self.refuse_next_place = self.refuse_next_place, None
            return err(message)
        side, maker, taker = order["side"], Decimal(order["makerAmount"]) / UNIT, Decimal(order["takerAmount"]) / UNIT
        shares, price = (taker, maker / taker) if side == "BUY" else (maker, taker / maker)
        if kind in ("GTC", "GTD") and price % Decimal(tick):
            return err(f"order {oid} is invalid. Price ({price}) breaks minimum tick size rule: {tick}")
        if shares < 5:
            return err(f"order {oid} is invalid. Size ({shares}) lower than the minimum: 5")
        if (side == "BUY" and maker > self.cash) or (side == "SELL" and shares > self.holdings.get(token, 0)):
            return err("not enough balance / allowance")
        fills = self._match(token, side, shares, price)
        filled = sum((q for _, q in fills), Decimal(0))
        if p.get("postOnly") and fills:
            return err("invalid post-only order: order crosses book")
        if kind == "FAK" and not fills:
            return err("no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.")
        if kind == "FOK" and filled < shares:
            return err("order couldn't be fully filled. FOK orders are fully filled or killed.")
        trade_ids = [self._trade(oid, token, side, px, q, fd) for px, q in fills]
        for px, q in fills:
            self._take(token, side, px, q)
        status = "MATCHED" if filled >= shares or kind in ("FAK", "FOK") else "LIVE"
        self.orders[oid] = {"id": oid, "status": status, "owner": p["owner"], "maker_address": order["maker"], "market": cid,
                            "asset_id": token, "side": side, "original_size": f"{shares:f}", "size_matched": f"{filled:f}",
                            "price": f"{price.quantize(Decimal(tick)) if kind in ('GTC', 'GTD') else price:f}",
                            "associate_trades": trade_ids, "outcome": outcome, "created_at": self.now_ms() // 1000,
                            "expiration": order.get("expiration", "0"), "order_type": kind}
        for trade in (t for t in self.trades if t["id"] in trade_ids):
            self._push_trade(trade)
        self._push_order(self.orders[oid], "PLACEMENT" if status == "LIVE" else "UPDATE")
        return web.json_response({"success": True, "errorMsg": "", "orderID": oid, "status": status.lower(),
                                  "takingAmount": "", "makingAmount": "", "tradeIDs": trade_ids, "transactionsHashes": []})

    def _match(self, token: str, side: str, shares: Decimal, limit: Decimal) -> list:
        book = self.books[token]["asks" if side == "BUY" else "bids"]
        levels = sorted(((Decimal(p), Decimal(s)) for p, s in book.items()), reverse=side != "BUY")
        out, left = [], shares
        for px, size in levels:
            if left <= 0 or (px > limit if side == "BUY" else px < limit):
                break
            q = min(size, left)
            out.append((px, q))
            left -= q
        return out

    def _take(self, token: str, side: str, px: Decimal, q: Decimal) -> None:
        book = self.books[token]["asks" if side == "BUY" else "bids"]
        key = next(k for k in book if Decimal(k) == px)
        rest = Decimal(book[key]) - q
        if rest > 0:
            book[key] = f"{rest:f}"
        else:
            del book[key]
        fee = self._fee(token, px, q)
        if side == "BUY":
            self.cash -= px * q + fee
            self.holdings[token] = self.holdings.get(token, Decimal(0)) + q
        else:
            self.cash += px * q - fee
            self.holdings[token] -= q

    def _fee(self, token: str, px: Decimal, q: Decimal) -> Decimal:
        fd = self.markets[token][5]
        if not fd.get("r"):
            return Decimal(0)
        return (q * Decimal(str(fd["r"])) * (px * (1 - px)) ** int(fd["e"])).quantize(Decimal("0.00001"), rounding="ROUND_FLOOR")

    def _trade(self, oid: str, token: str, side: str, px: Decimal, q: Decimal, fd: dict) -> str:
        tid = f"trade-{next(self._ids):04d}"
        slug, cid, outcome, *_ = self.markets[token]
        self.trades.append({"id": tid, "taker_order_id": oid, "market": cid, "asset_id": token, "side": side, "size": f"{q:f}",
                            "fee_rate_bps": "0", "price": f"{px:f}", "status": "MATCHED", "match_time": str(self.now_ms() // 1000),
                            "last_update": str(self.now_ms() // 1000), "outcome": outcome, "bucket_index": 0, "owner": "",
                            "maker_address": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "transaction_hash": "",
                            "maker_orders": [{"order_id": "0x" + "cd" * 32, "owner": "someone", "matched_amount": f"{q:f}",
                                              "price": f"{px:f}", "fee_rate_bps": "0", "asset_id": token, "outcome": outcome,
                                              "side": "SELL" if side == "BUY" else "BUY"}],
                            "trader_side": "TAKER"})
        return tid

    async def cancel(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        oid = json.loads(auth[1]).get("orderID", "")
        order = self.orders.get(oid)
        if order is None or order["status"] != "LIVE":
            return web.json_response({"canceled": [], "not_canceled": {oid: "already canceled or matched" if order else "order not found"}})
        order["status"] = "CANCELED"
        self._push_order(order, "CANCELLATION")
        return web.json_response({"canceled": [oid], "not_canceled": {}})

    async def get_order(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        order = self.orders.get(request.match_info["id"])
        return web.json_response(order) if order else err("order not found", 404)

    def _page(self, request, rows: list) -> web.Response:
        start = int(base64.b64decode(request.query.get("next_cursor", "MA==")).decode() or 0)
        chunk, nxt = rows[start:start + 2], start + 2
        cursor = base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else "LTE="
        return web.json_response({"data": chunk, "next_cursor": cursor, "limit": 2, "count": len(chunk)})

    async def get_orders(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        token = request.query.get("asset_id")
        return self._page(request, [o for o in self.orders.values() if o["status"] == "LIVE" and o["asset_id"] == token])

    async def get_trades(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        return self._page(request, [t for t in self.trades if t["asset_id"] == request.query.get("asset_id")])

    async def balance(self, request):
        auth = await self._l2(request)
        if isinstance(auth, web.Response):
            return auth
        if request.query.get("asset_type") != "COLLATERAL":
            return err("Invalid asset type")
        return web.json_response({"balance": str(int(self.cash * UNIT)), "allowances": {signing.CONTRACTS[137]["exchange_v2"]: "1" * 20}})

    async def positions(self, request):
        self.position_user = request.query.get("user")
        rows = []
        for token, size in self.holdings.items():
            slug, cid, outcome, _, neg, _ = self.markets[token]
            if size > 0:
                rows.append({"proxyWallet": self.position_user, "asset": token, "conditionId": cid, "size": float(size),
                             "avgPrice": 0.52, "initialValue": float(size) * 0.52, "currentValue": float(size) * 0.51,
                             "cashPnl": round(float(size) * -0.01, 6), "curPrice": 0.51, "redeemable": cid in self.winners,
                             "mergeable": False, "title": slug, "slug": slug, "outcome": outcome, "negativeRisk": neg})
        return web.json_response(rows)

    # -- relayer ----------------------------------------------------------------------------------
    async def deployed(self, request):
        return web.json_response({"deployed": True})

    async def nonce(self, request):
        return web.json_response({"address": request.query.get("address"), "nonce": str(self.relayer_nonce)})

    async def relay_payload(self, request):
        return web.json_response({"address": RELAY, "nonce": str(self.relayer_nonce)})

    async def submit(self, request):
        h, body = request.headers, await request.text()
        key, secret, passphrase = self.builder
        ts = h.get("POLY_BUILDER_TIMESTAMP", "")
        expected = signing.hmac_signature(secret, ts, "POST", "/submit", body)
        if h.get("POLY_BUILDER_API_KEY") != key or h.get("POLY_BUILDER_PASSPHRASE") != passphrase or \
                not hmac.compare_digest(h.get("POLY_BUILDER_SIGNATURE", ""), expected):
            return err("invalid builder credentials", 401)
        if self.relayer_error_next:
            message, self.relayer_error_next = self.relayer_error_next, None
            return err(message)
        p = json.loads(body)
        problem = self._check_redeem(p)
        if problem:
            return err(problem)
        self.relayer_nonce += 1
        tid = f"0190{next(self._ids):04d}-relay"
        cid = "0x" + bytes.fromhex(p["data"][2:] if p["type"] == "SAFE" else self._inner_call(p["data"])[2:])[4 + 64:4 + 96].hex()
        self.relayer_txs[tid] = {"transactionID": tid, "transactionHash": "0x" + keccak256(tid.encode()).hex(), "from": p["from"],
                                 "to": p["to"], "proxyAddress": p["proxyWallet"], "state": "STATE_NEW", "type": p["type"]}
        if not self.relayer_tx_fails:
            self._pay(cid)
        return web.json_response({"transactionID": tid, "state": "STATE_NEW"})

    @staticmethod
    def _inner_call(data: str) -> str:
        raw = bytes.fromhex(data[2:])[4:]                      # proxy((uint8,address,uint256,bytes)[])
        array = int.from_bytes(raw[:32], "big")
        first = array + 32 + int.from_bytes(raw[array + 32:array + 64], "big")
        tup = raw[first:]
        offset = int.from_bytes(tup[96:128], "big")
        length = int.from_bytes(tup[offset:offset + 32], "big")
        return "0x" + tup[offset + 32:offset + 32 + length].hex()

    def _check_redeem(self, p: dict) -> str:
        """What the relayer and the chain would refuse in this submission ("" if nothing)."""
        sender = p.get("from", "")
        if p.get("nonce") != str(self.relayer_nonce):
            return "invalid nonce"
        if p.get("type") == "SAFE":
            if p.get("proxyWallet") != relayer.derive_safe(sender):
                return "proxyWallet is not the Safe of the signer"
            sig = bytes.fromhex(p["signature"][2:])
            sig = sig[:64] + bytes([sig[64] - 4])
            digest = relayer.safe_tx_digest(p["proxyWallet"], p["to"], p["data"], int(p["nonce"]))
            call, to = p["data"], p["to"]
        elif p.get("type") == "PROXY":
            sig = bytes.fromhex(p["signature"][2:])
            sp = p["signatureParams"]
            digest = relayer.proxy_struct_hash(sender, p["data"], int(sp["gasLimit"]), int(p["nonce"]), sp["relay"])
            call = self._inner_call(p["data"])
            to = "0x" + bytes.fromhex(p["data"][2:])[4:][32 * 4 + 12:32 * 5].hex()
        else:
            return "unknown transaction type"
        if eip712.recover(eip712.personal_digest(digest), sig) != sender:
            return "invalid signature"
        raw = bytes.fromhex(call[2:])
        if raw[:4] != eip712.selector(relayer.REDEEM):
            return "not a redeemPositions call"
        cid = "0x" + raw[4 + 64:4 + 96].hex()
        neg = any(m[4] for m in self.markets.values() if m[1] == cid)
        adapter = relayer.NEG_RISK_CTF_COLLATERAL_ADAPTER if neg else relayer.CTF_COLLATERAL_ADAPTER
        if to.lower() != adapter.lower():
            return "wrong collateral adapter for this market"
        if cid not in self.winners:
            return "execution reverted: result for condition not received yet"
        return ""

    def _pay(self, cid: str) -> None:
        for token, (_, c, *_rest) in self.markets.items():
            if c == cid and self.holdings.get(token):
                if self.winners.get(cid) == token:
                    self.cash += self.holdings[token]
                self.redeemed.append({"token": token, "size": self.holdings[token]})
                self.holdings[token] = Decimal(0)

    async def transaction(self, request):
        tx = self.relayer_txs.get(request.query.get("id", ""))
        if tx is None:
            return web.json_response([])
        tx["state"] = "STATE_FAILED" if self.relayer_tx_fails else "STATE_MINED"
        return web.json_response([tx])

    # -- websocket --------------------------------------------------------------------------------
    async def _opened(self, request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        return ws

    async def _bodies(self, ws):
        """Each message but the keepalive (``PING``, answered ``PONG`` on both channels), decoded."""
        async for msg in ws:
            if msg.data == "PING":
                self.pings += 1
                await ws.send_str("PONG")
                continue
            yield json.loads(msg.data)

    async def ws(self, request):
        ws = await self._opened(request)
        async for body in self._bodies(ws):
            assets = [a for a in body.get("assets_ids", []) if a in self.markets]
            self.subscriptions.append(assets)
            await ws.send_json([{"event_type": "book", **self._summary(a)} for a in assets])
        return ws

    async def user_ws(self, request):
        ws = await self._opened(request)
        async for body in self._bodies(ws):
            if body.get("type") != "user":
                continue
            auth = body.get("auth") or {}
            known = self.keys.get(auth.get("apiKey", ""))
            accepted = known is not None and hmac.compare_digest(str(auth.get("secret", "")), known[1]) \
                and hmac.compare_digest(str(auth.get("passphrase", "")), known[2])
            self.logins.append(accepted)
            if not accepted:
                request.transport.close()                   # no answer, no close frame: the connection ends
                break
            self.private.append((ws, auth["apiKey"], set(body.get("markets") or ())))
        return ws

    def _push_user(self, api_key: str, event: dict) -> None:
        """A user-channel event to the sockets logged in with that key (on the server's loop)."""
        for ws, key, markets in self.private:
            if key == api_key and not ws.closed and (not markets or event["market"] in markets):
                asyncio.ensure_future(ws.send_json(event))

    def _push_order(self, order: dict, kind: str) -> None:
        self._push_user(order["owner"], {**order, "event_type": "order", "type": kind, "order_owner": order["owner"],
                                         "timestamp": str(self.now_ms())})

    def _push_trade(self, trade: dict) -> None:
        """The trade to the owner of each of its orders the fake holds, from that order's side."""
        sides = [("TAKER", trade["taker_order_id"])] + [("MAKER", m["order_id"]) for m in trade["maker_orders"]]
        for side, oid in sides:
            order = self.orders.get(oid)
            if order is not None:
                self._push_user(order["owner"], {**trade, "event_type": "trade", "type": "TRADE", "trader_side": side,
                                                 "owner": order["owner"], "trade_owner": order["owner"],
                                                 "timestamp": str(self.now_ms())})

    def fill_resting(self, oid: str, qty: str) -> None:
        """Someone takes ``qty`` of our resting order at its price (we are the maker: no fee), from any thread."""
        def go():
            order = self.orders[oid]
            token, side, q, px = order["asset_id"], order["side"], Decimal(qty), Decimal(order["price"])
            _, cid, outcome, *_ = self.markets[token]
            tid, now = f"trade-{next(self._ids):04d}", str(self.now_ms() // 1000)
            trade = {"id": tid, "taker_order_id": "0x" + "ef" * 32, "market": cid, "asset_id": token,
                     "side": "SELL" if side == "BUY" else "BUY", "size": f"{q:f}", "fee_rate_bps": "0", "price": f"{px:f}",
                     "status": "MATCHED", "match_time": now, "last_update": now, "outcome": outcome, "bucket_index": 0,
                     "owner": "someone", "maker_address": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "transaction_hash": "",
                     "maker_orders": [{"order_id": oid, "owner": order["owner"], "maker_address": order["maker_address"],
                                       "matched_amount": f"{q:f}", "price": f"{px:f}", "fee_rate_bps": "0",
                                       "asset_id": token, "outcome": outcome, "side": side}],
                     "trader_side": "TAKER"}
            self.trades.append(trade)
            matched = Decimal(order["size_matched"]) + q
            order.update(size_matched=f"{matched:f}", associate_trades=[*(order["associate_trades"] or []), tid],
                         status="MATCHED" if matched >= Decimal(order["original_size"]) else "LIVE")
            if side == "BUY":
                self.cash -= px * q
                self.holdings[token] = self.holdings.get(token, Decimal(0)) + q
            else:
                self.cash += px * q
                self.holdings[token] -= q
            self._push_trade(trade)
            self._push_order(order, "UPDATE")
        self.soon(go)

    def advance_trade(self, tid: str, status: str) -> None:
        """A trade moves on (MINED, CONFIRMED, RETRYING, FAILED) and is pushed again, from any thread."""
        def go():
            trade = next(t for t in self.trades if t["id"] == tid)
            trade.update(status=status, last_update=str(self.now_ms() // 1000))
            self._push_trade(trade)
        self.soon(go)

    def push_change(self, token: str, side: str, price: str, size: str) -> None:
        """Change one level and send the price_change (size "0" removes it), from any thread."""
        def go():
            book = self.books[token]["bids" if side == "BUY" else "asks"]
            if Decimal(size):
                book[price] = size
            else:
                book.pop(price, None)
            bids, asks = self.books[token]["bids"], self.books[token]["asks"]
            best_bid = max(bids, key=Decimal) if bids else "0"
            best_ask = min(asks, key=Decimal) if asks else "1"
            if self.corrupt_next_top:
                self.corrupt_next_top = False
                best_bid = "0.01"
            self.broadcast({"event_type": "price_change", "market": self.markets[token][1], "timestamp": str(self.now_ms()),
                            "price_changes": [{"asset_id": token, "price": price, "size": size, "side": side,
                                               "hash": "0" * 40, "best_bid": best_bid, "best_ask": best_ask}]})
        self.soon(go)

    def change_quietly(self, token: str, side: str, price: str, size: str) -> None:
        """Change the book without telling the socket (a lost message)."""
        book = self.books[token]["bids" if side == "BUY" else "asks"]
        self.soon(lambda: book.__setitem__(price, size) if Decimal(size) else book.pop(price, None))

    def push_trade(self, token: str, price: str, size: str, side: str) -> None:
        self.broadcast({"event_type": "last_trade_price", "asset_id": token, "market": self.markets[token][1],
                        "price": price, "size": size, "side": side, "fee_rate_bps": "0", "timestamp": str(self.now_ms())})


def cid_closed(fake: FakePolymarket, cid: str) -> bool:
    return cid in fake.winners
