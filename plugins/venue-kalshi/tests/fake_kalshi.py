"""A fake Kalshi Trade API v2 on 127.0.0.1 that checks requests as Kalshi does: the key id
must be known, ``KALSHI-ACCESS-SIGNATURE`` must verify with that key's *public* key (RSA-PSS
SHA-256, MGF1-SHA-256, salt = digest length; or Ed25519) over ``timestamp + METHOD + path``
(path with ``/trade-api/v2``, no query), and the timestamp must be within 30 s of its clock.
Refusals are HTTP 401 with the documented error body ``{"code", "message", "details",
"service"}``; Kalshi documents no distinct code for a stale timestamp, so this fake says
``authentication_error`` with a message naming the timestamp (the fake's choice).
Order writes exist only on the V2 ``/portfolio/events/orders`` family (YES-book ``bid``/``ask``,
YES prices, string counts); the legacy ``POST /portfolio/orders`` answers 410
``deprecated_v1_order_endpoint``. One market, KXBTCZ-26DEC31-T99000, has a fixed book: YES bids
0.40 x 100, 0.39 x 200; NO bids 0.58 x 150, 0.57 x 300 (so YES asks 0.42, NO asks 0.60).
Series, public and unsigned as Kalshi serves them (``GET /events/{event_ticker}`` ->
``event.series_ticker``, ``GET /series/{series_ticker}`` -> ``series.fee_type``/
``fee_multiplier``; ``series_reads`` counts the latter): KXBTCZ (TICKER's)
``quadratic_with_maker_fees`` x1, KXETHZ (SETTLED_TICKER's) ``flat`` x0 (no fee), KXMLBHR
(PLAIN_TICKER's) ``quadratic`` x1; ``series`` may be edited, and ``event_overrides`` (event
ticker -> ``fee_type_override``/``fee_multiplier_override``) layers an event's terms on top,
as Kalshi documents. Fills pay those terms, ceiled to the cent, reported per fill as
``fee_cost``: takers 0.07 x multiplier x C x P x (1 - P), makers (resting orders that
``fill_resting()`` fills) the maker share of that (0.25 with maker fees, 0.5 with combo maker
fees, else nothing; a non-zero ``flat`` series charges like ``quadratic``, and a series deleted
from ``series``, whose read answers 404, charges the general terms: the fake's choices).
A fill's ``fill_id`` and ``trade_id`` are one value, as the docs say of REST's ``Fill``.
Balance: ``balance`` is the account's cash; ``GET /portfolio/balance`` reports what is available,
that less the cash resting orders hold (``held()``: a resting bid holds its YES price a contract,
an ask its NO price, except contracts that close ones held), and an order that would hold more
than is available is refused ``insufficient_balance``. Orders carry ``book_side``/``outcome_side``.
Rate limit: 429 ``{"error": "too many requests"}`` without Retry-After, as documented.
Websocket ``/trade-api/ws/v2``: signed handshake (refused with the REST 401, so aiohttp sees
a failed handshake; ``handshake_refusal`` changes the status); ``orderbook_delta`` (snapshot then deltas, ``seq`` per ``sid``) and
``trade``; the private ``user_orders`` and ``fill`` channels push every order change made
through REST (``user_order``, YES price only) and every fill (``fill``, its ``trade_id`` the
REST fill id). ``logins``: False per refused handshake, True per socket's first private
subscription; ``private``: those sockets. Faults: ``rate_limit_next``, ``malformed_next``,
``clock_offset_ms``, ``slow_next_s``, ``server_error_next``, ``skip_next_seq``, ``drop_sockets()``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import datetime, timezone
from decimal import ROUND_CEILING, Decimal
from email.utils import formatdate

from aiohttp import web

from sequence_core.testing import FakeVenueServer, signed
from sequence_venue_kalshi.signing import verify

P = "/trade-api/v2"
TICKER = "KXBTCZ-26DEC31-T99000"
SETTLED_TICKER = "KXETHZ-26DEC31-T4000"
PLAIN_TICKER = "KXMLBHR-26APR292140KCATH-ATHLBUTLER4-1"
MAKER_SHARE = {"quadratic": Decimal(0), "quadratic_with_maker_fees": Decimal("0.25"),
               "quadratic_with_combo_maker_fees": Decimal("0.5"), "flat": Decimal(0)}
PRIVATE = ("user_orders", "fill")
ONE = Decimal(1)


def err(status: int, code: str, message: str, details: str = "") -> web.Response:
    return web.json_response({"code": code, "message": message, "details": details, "service": "trade-api"}, status=status)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def fp(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01')):f}"


def dollars(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.0001')):f}"


def ms_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def schedule_fee(price: Decimal, count: Decimal, coefficient: Decimal) -> Decimal:
    """coefficient x C x P x (1 - P), ceiled to the cent."""
    raw = coefficient * count * price * (ONE - price)
    return (raw / Decimal("0.01")).to_integral_value(rounding=ROUND_CEILING) * Decimal("0.01")


class FakeKalshi(FakeVenueServer):
    def __init__(self, key_id: str, public_key):
        super().__init__()
        self.key_id, self.public_key = key_id, public_key
        self.yes = {Decimal("0.40"): Decimal("100"), Decimal("0.39"): Decimal("200")}
        self.no = {Decimal("0.58"): Decimal("150"), Decimal("0.57"): Decimal("300")}
        self.balance = Decimal("1000.00")      # cash; GET /portfolio/balance reports it less what resting orders hold
        self.position = Decimal(0)              # signed YES position in TICKER
        self.exposure = Decimal(0)
        self.orders: dict[str, dict] = {}       # order id -> order (Get Order shape)
        self.fills: list[dict] = []
        self.markets = {t: self._market(t, "active", "") for t in (TICKER, SETTLED_TICKER, PLAIN_TICKER)}
        self.series = {"KXBTCZ": self._series("KXBTCZ", "quadratic_with_maker_fees", 1),
                       "KXETHZ": self._series("KXETHZ", "flat", 0), "KXMLBHR": self._series("KXMLBHR", "quadratic", 1)}
        self.series_reads: list[str] = []
        self.event_overrides: dict[str, dict] = {}
        self.settlements: list[dict] = []
        self.bodies: list[tuple[str, str, dict]] = []
        self.slow_next_s = 0.0
        self.server_error_next = 0
        self.skip_next_seq = 0
        self.subs: list[dict] = []              # websocket subscriptions: sid, channel, tickers, seq, ws
        self.commands: list[dict] = []
        self._sids = itertools.count(1)
        self.private: list = []                 # sockets subscribed to user_orders / fill
        self.logins: list[bool] = []
        self.handshake_refusal = 401            # 403: as Kalshi's CDN has answered a refused handshake

    # -- plumbing --------------------------------------------------------------------------------
    def rate_limited(self):
        return web.json_response({"error": "too many requests"}, status=429)

    def fault(self, request):
        if self.server_error_next:
            self.server_error_next -= 1
            return err(500, "internal_server_error", "internal error")
        return None

    def app(self) -> web.Application:
        @web.middleware
        async def slow(request, handler):
            if self.slow_next_s:
                delay, self.slow_next_s = self.slow_next_s, 0.0
                await asyncio.sleep(delay)
            return await handler(request)

        async def date_header(request, response):
            # Kalshi's clock, as the client learns it (the fake's may be skewed)
            response.headers["Date"] = formatdate(self.now_ms() / 1000, usegmt=True)

        app = web.Application(middlewares=[self.faults, slow])
        app.on_response_prepare.append(date_header)
        r = app.router
        r.add_get("/trade-api/ws/v2", self.ws)
        r.add_get(P + "/exchange/status", self.status)
        r.add_get(P + "/markets", self.list_markets)
        r.add_get(P + "/markets/{ticker}", self.get_market)
        r.add_get(P + "/markets/{ticker}/orderbook", self.orderbook)
        r.add_get(P + "/events/{event_ticker}", self.get_event)
        r.add_get(P + "/series/{series_ticker}", self.get_series)
        r.add_get(P + "/portfolio/balance", self.get_balance)
        r.add_get(P + "/portfolio/positions", self.get_positions)
        r.add_get(P + "/portfolio/settlements", self.get_settlements)
        r.add_get(P + "/portfolio/orders", self.list_orders)
        r.add_post(P + "/portfolio/orders", self.legacy_create)
        r.add_get(P + "/portfolio/orders/{order_id}", self.get_order)
        r.add_get(P + "/portfolio/fills", self.get_fills)
        r.add_post(P + "/portfolio/events/orders", self.create)
        r.add_delete(P + "/portfolio/events/orders/{order_id}", self.cancel)
        r.add_post(P + "/portfolio/events/orders/{order_id}/amend", self.amend)
        r.add_post(P + "/portfolio/events/orders/{order_id}/decrease", self.decrease)
        return app

    def check_headers(self, h, method: str, path: str) -> web.Response | None:
        if not all(k in h for k in ("KALSHI-ACCESS-KEY", "KALSHI-ACCESS-TIMESTAMP", "KALSHI-ACCESS-SIGNATURE")):
            return err(401, "authentication_error", "missing authentication headers")
        if h["KALSHI-ACCESS-KEY"] != self.key_id:
            return err(401, "authentication_error", "unknown API key id")
        ts = h["KALSHI-ACCESS-TIMESTAMP"]
        if not ts.isdigit() or abs(self.now_ms() - int(ts)) > 30_000:
            return err(401, "authentication_error", "request timestamp is outside the allowed window")
        if not verify(self.public_key, h["KALSHI-ACCESS-SIGNATURE"], ts, method, path):
            return err(401, "authentication_error", "invalid signature")
        return None

    async def verify(self, request) -> web.Response | dict:
        refused = self.check_headers(request.headers, request.method, request.path)
        if refused is not None:
            return refused
        text = await request.text()
        body = json.loads(text) if text else {}
        self.bodies.append((request.method, request.path, body))
        return {**dict(request.query), **body}

    # -- public ------------------------------------------------------------------------------------
    def _market(self, ticker, status, result) -> dict:
        return {"ticker": ticker, "event_ticker": ticker.rsplit("-", 1)[0], "market_type": "binary", "status": status,
                "result": result, "title": "fake market", "notional_value_dollars": "1.0000",
                "price_level_structure": "linear_cent", "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
                "fractional_trading_enabled": False, "close_time": "2026-12-31T23:00:00Z",
                "expiration_time": "2027-01-01T15:00:00Z"}

    @staticmethod
    def _series(ticker: str, fee_type: str, multiplier) -> dict:
        return {"ticker": ticker, "frequency": "daily", "title": f"fake series {ticker}", "category": "Fake", "tags": [],
                "settlement_sources": [], "contract_url": "", "contract_terms_url": "", "fee_type": fee_type,
                "fee_multiplier": multiplier, "additional_prohibitions": []}

    @staticmethod
    def series_of(event_ticker: str) -> str:
        return event_ticker.split("-", 1)[0]             # this fake's events sit in the series their ticker starts with

    async def get_event(self, request):
        event_ticker = request.match_info["event_ticker"]
        if not any(m["event_ticker"] == event_ticker for m in self.markets.values()):
            return err(404, "not_found", "event not found")
        return web.json_response({"event": {"event_ticker": event_ticker, "series_ticker": self.series_of(event_ticker),
                                            "title": "fake event", "sub_title": "", "mutually_exclusive": False,
                                            "collateral_return_type": "binary", "fee_type_override": None,
                                            "fee_multiplier_override": None, **self.event_overrides.get(event_ticker, {})},
                                  "markets": []})

    async def get_series(self, request):
        ticker = request.match_info["series_ticker"]
        self.series_reads.append(ticker)
        return web.json_response({"series": self.series[ticker]}) if ticker in self.series else err(404, "not_found", "series not found")

    def coefficient(self, market_ticker: str, taker: bool) -> Decimal:
        event_ticker = self.markets[market_ticker]["event_ticker"]
        series = self.series_of(event_ticker)
        # a series deleted from ``series`` (its read answers 404) still charges: the general terms
        s = self.series.get(series) or self._series(series, "quadratic", 1)
        o = self.event_overrides.get(event_ticker, {})
        fee_type = o.get("fee_type_override") or s["fee_type"]
        multiplier = o["fee_multiplier_override"] if o.get("fee_multiplier_override") is not None else s["fee_multiplier"]
        return Decimal("0.07") * Decimal(str(multiplier)) * (ONE if taker else MAKER_SHARE[fee_type])

    async def status(self, request):
        return web.json_response({"exchange_active": True, "trading_active": True})

    async def list_markets(self, request):
        tickers = request.query.get("tickers", "").split(",")
        return web.json_response({"markets": [m for t, m in self.markets.items() if t in tickers], "cursor": ""})

    async def get_market(self, request):
        m = self.markets.get(request.match_info["ticker"])
        return web.json_response({"market": m}) if m else err(404, "not_found", "market not found")

    @staticmethod
    def _rows(side: dict) -> list:
        return [[dollars(p), fp(s)] for p, s in sorted(side.items())]      # best bid last, as Kalshi sends

    async def orderbook(self, request):
        if request.match_info["ticker"] != TICKER:
            return web.json_response({"orderbook_fp": {"yes_dollars": [], "no_dollars": []}})
        return web.json_response({"orderbook_fp": {"yes_dollars": self._rows(self.yes), "no_dollars": self._rows(self.no)}})

    def settle_market(self, ticker: str, result: str) -> None:
        self.markets[ticker].update(status="finalized", result=result)
        self.settlements.append({"ticker": ticker, "event_ticker": ticker.rsplit("-", 1)[0], "market_result": result,
                                 "yes_count_fp": "0.00", "no_count_fp": "0.00", "revenue": 0, "fee_cost": "0.0000",
                                 "settled_time": "2027-01-01T16:00:00Z", "value": 100 if result == "yes" else 0})

    # -- account -----------------------------------------------------------------------------------
    def held(self, extra: dict | None = None) -> Decimal:
        """Cash the resting orders (and ``extra``, one about to rest) hold: each resting contract
        at its cost (the YES price for a bid, 1 - it for an ask), except those that close
        contracts held (an ask against YES, a bid against NO), taken in the order placed (the
        fake's choice: Kalshi documents no rule)."""
        free = {TICKER: self.position}
        total = Decimal(0)
        for o in [o for o in self.orders.values() if o["status"] == "resting"] + ([extra] if extra else []):
            bid, left, owned = o["_side"] == "bid", Decimal(o["remaining_count_fp"]), free.get(o["ticker"], Decimal(0))
            closes = min(left, max(-owned if bid else owned, Decimal(0)))
            free[o["ticker"]] = owned + closes if bid else owned - closes
            total += (left - closes) * Decimal(o["yes_price_dollars" if bid else "no_price_dollars"])
        return total

    def available(self) -> Decimal:
        """What Kalshi reports as the balance: the cash (``balance``) less what resting orders hold."""
        return self.balance - self.held()

    @signed
    async def get_balance(self, request, p):
        available = self.available()
        return web.json_response({"balance": int(available * 100), "balance_dollars": dollars(available),
                                  "portfolio_value": 0, "updated_ts": self.now_ms() // 1000})

    @signed
    async def get_positions(self, request, p):
        rows = [{"ticker": TICKER, "position_fp": fp(self.position), "market_exposure_dollars": dollars(self.exposure),
                 "total_traded_dollars": dollars(self.exposure), "realized_pnl_dollars": "0.0000",
                 "fees_paid_dollars": dollars(sum((Decimal(f["fee_cost"]) for f in self.fills), Decimal(0))),
                 "last_updated_ts": iso(self.now_ms())}] if self.position else []
        return web.json_response({"market_positions": rows, "event_positions": [], "cursor": ""})

    @signed
    async def get_settlements(self, request, p):
        rows = [s for s in self.settlements if s["ticker"] == p.get("ticker", s["ticker"])]
        return web.json_response({"settlements": rows, "cursor": ""})

    # -- orders ------------------------------------------------------------------------------------
    def _order_view(self, o: dict) -> dict:
        """Get Order's fields, with the direction as ``book_side``/``outcome_side``
        (https://docs.kalshi.com/getting_started/order_direction: bid = yes, ask = no)."""
        return {**{k: v for k, v in o.items() if not k.startswith("_")}, "book_side": o["_side"],
                "outcome_side": "yes" if o["_side"] == "bid" else "no"}

    @signed
    async def list_orders(self, request, p):
        rows = [self._order_view(o) for o in self.orders.values()
                if o["ticker"] == p.get("ticker", o["ticker"]) and o["status"] == p.get("status", o["status"])]
        return web.json_response({"orders": rows, "cursor": ""})

    @signed
    async def get_order(self, request, p):
        o = self.orders.get(request.match_info["order_id"])
        return web.json_response({"order": self._order_view(o)}) if o else err(404, "not_found", "order not found")

    @signed
    async def get_fills(self, request, p):
        return web.json_response({"fills": [f for f in self.fills if f["order_id"] == p.get("order_id", f["order_id"])],
                                  "cursor": ""})

    @signed
    async def legacy_create(self, request, p):
        return err(410, "deprecated_v1_order_endpoint", "Please switch to the V2 endpoints")

    def _match(self, o: dict, limit: Decimal) -> None:
        """Take from the fixed book what ``o`` crosses, up to its remaining count."""
        bid = o["_side"] == "bid"
        book = self.no if bid else self.yes         # a YES bid lifts NO bids (YES asks at 1 - p)
        for level in sorted(book, reverse=True):
            yes_price = ONE - level if bid else level
            if (bid and yes_price > limit) or (not bid and yes_price < limit):
                break
            remaining = Decimal(o["remaining_count_fp"])
            if not remaining:
                break
            take = min(remaining, book[level])
            self._fill(o, yes_price, take)
            book[level] -= take
            if not book[level]:
                del book[level]

    def _fill(self, o: dict, yes_price: Decimal, count: Decimal, taker: bool = True) -> None:
        bid = o["_side"] == "bid"
        fee = schedule_fee(yes_price, count, self.coefficient(o["ticker"], taker))
        cost = count * (yes_price if bid else ONE - yes_price)        # buying YES, or buying NO
        signed_count = count if bid else -count
        pairs = min(count, abs(self.position)) if self.position * signed_count < 0 else Decimal(0)
        self.balance += pairs - cost - fee          # a YES and a NO held together net to $1 at once
        self.exposure += cost - pairs
        self.position += signed_count
        now, fill_id, role = self.now_ms(), str(uuid.uuid4()), "taker" if taker else "maker"
        self.fills.append({"fill_id": fill_id, "trade_id": fill_id, "order_id": o["order_id"],
                           "ticker": o["ticker"], "market_ticker": o["ticker"], "count_fp": fp(count),
                           "yes_price_dollars": dollars(yes_price), "no_price_dollars": dollars(ONE - yes_price),
                           "outcome_side": "yes" if bid else "no", "book_side": o["_side"],
                           "is_taker": taker, "fee_cost": dollars(fee), "created_time": iso(now), "ts": now // 1000})
        filled = Decimal(o["fill_count_fp"]) + count
        o.update({"fill_count_fp": fp(filled), "remaining_count_fp": fp(Decimal(o["remaining_count_fp"]) - count),
                  f"{role}_fees_dollars": dollars(Decimal(o[f"{role}_fees_dollars"]) + fee),
                  f"{role}_fill_cost_dollars": dollars(Decimal(o[f"{role}_fill_cost_dollars"]) + cost),
                  "last_update_time": iso(now)})
        if not Decimal(o["remaining_count_fp"]):
            o["status"] = "executed"
        self._push("fill", {"trade_id": fill_id, "order_id": o["order_id"], "market_ticker": o["ticker"], "exchange_index": 0,
                            "is_taker": taker, "side": "yes" if bid else "no", "action": "buy",
                            "outcome_side": "yes" if bid else "no", "book_side": o["_side"],
                            "purchased_side": "yes" if bid else "no", "yes_price_dollars": dollars(yes_price),
                            "count_fp": fp(count), "fee_cost": dollars(fee), "ts": now // 1000, "ts_ms": now,
                            "post_position_fp": fp(self.position),
                            **({"client_order_id": o["client_order_id"]} if o["client_order_id"] else {})})

    def _crosses(self, side: str, price: Decimal) -> bool:
        if side == "bid":
            return bool(self.no) and price >= ONE - max(self.no)
        return bool(self.yes) and price <= max(self.yes)

    def _invalid(self, p: dict) -> web.Response | None:
        try:
            count, price = Decimal(p["count"]), Decimal(p["price"])
        except (KeyError, ArithmeticError, TypeError, ValueError):
            return err(400, "invalid_parameters", "count and price are required fixed-point strings")
        if p.get("side") not in ("bid", "ask"):
            return err(400, "invalid_parameters", "side must be bid or ask")
        if count <= 0 or count % Decimal("0.01") or count % 1:      # this market takes whole contracts
            return err(400, "invalid_parameters", f"invalid count {p['count']}")
        if not Decimal(0) < price < ONE or price % Decimal("0.01"):
            return err(400, "invalid_parameters", f"invalid price {p['price']} for a linear_cent market")
        return None

    @signed
    async def create(self, request, p):
        for field in ("ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type"):
            if field not in p:
                return err(400, "invalid_parameters", f"{field} is required")
        if p["ticker"] not in self.markets or self.markets[p["ticker"]]["status"] != "active":
            return err(400, "market_closed", f"market {p['ticker']} is not open")
        bad = self._invalid(p)
        if bad:
            return bad
        cid = p.get("client_order_id") or ""
        if cid and any(o["client_order_id"] == cid for o in self.orders.values()):
            return err(409, "order_already_exists", "an order with this client_order_id already exists")
        count, price, side = Decimal(p["count"]), Decimal(p["price"]), p["side"]
        crosses = self._crosses(side, price)
        if p.get("post_only") and crosses:
            return err(400, "invalid_order", "post only order would cross the book")
        now = self.now_ms()
        oid = str(uuid.uuid4())
        o = {"order_id": oid, "user_id": "fake-user", "client_order_id": cid, "ticker": p["ticker"], "status": "resting",
             "yes_price_dollars": dollars(price), "no_price_dollars": dollars(ONE - price),
             "fill_count_fp": "0.00", "remaining_count_fp": fp(count), "initial_count_fp": fp(count),
             "taker_fill_cost_dollars": "0.0000", "maker_fill_cost_dollars": "0.0000", "taker_fees_dollars": "0.0000",
             "maker_fees_dollars": "0.0000", "expiration_time": None, "created_time": iso(now), "last_update_time": iso(now),
             "order_group_id": None, "cancel_order_on_pause": False, "subaccount_number": 0, "exchange_index": 0,
             "self_trade_prevention_type": p["self_trade_prevention_type"], "_side": side}
        if self.held(extra=o) - self.held() > self.available():      # what it would cost, less what it closes
            return err(400, "insufficient_balance", "insufficient balance")
        tif = p["time_in_force"]
        if tif == "fill_or_kill" and not self._fok_fills(side, price, count):
            o.update(status="canceled", remaining_count_fp="0.00")
        else:
            self._match(o, price)
            if tif in ("immediate_or_cancel", "fill_or_kill") and o["status"] == "resting":
                o.update(status="canceled", remaining_count_fp="0.00")
        self.orders[oid] = o
        self._push_order(o)
        answer = {"order_id": oid, "client_order_id": cid, "fill_count": o["fill_count_fp"],
                  "remaining_count": o["remaining_count_fp"], "ts_ms": now}
        if Decimal(o["fill_count_fp"]):
            filled = Decimal(o["fill_count_fp"])
            answer["average_fill_price"] = dollars(Decimal(o["taker_fill_cost_dollars"]) / filled)
            answer["average_fee_paid"] = dollars(Decimal(o["taker_fees_dollars"]) / filled)
        return web.json_response(answer, status=201)

    def _fok_fills(self, side, price, count) -> bool:
        book = self.no if side == "bid" else self.yes
        ok = [s for lv, s in book.items() if (ONE - lv <= price if side == "bid" else lv >= price)]
        return sum(ok, Decimal(0)) >= count

    def _resting(self, request) -> dict | web.Response:
        o = self.orders.get(request.match_info["order_id"])
        if o is None or o["status"] != "resting":
            return err(404, "not_found", "order not found or no longer resting")
        return o

    @signed
    async def cancel(self, request, p):
        o = self._resting(request)
        if isinstance(o, web.Response):
            return o
        reduced = o["remaining_count_fp"]
        o.update(status="canceled", remaining_count_fp="0.00", last_update_time=iso(self.now_ms()))
        self._push_order(o)
        return web.json_response({"order_id": o["order_id"], "client_order_id": o["client_order_id"],
                                  "reduced_by": reduced, "ts_ms": self.now_ms()})

    @signed
    async def amend(self, request, p):
        o = self._resting(request)
        if isinstance(o, web.Response):
            return o
        bad = self._invalid(p)
        if bad:
            return bad
        if p.get("ticker") != o["ticker"] or p.get("side") != o["_side"]:
            return err(400, "invalid_parameters", "ticker and side must match the order")
        if p.get("client_order_id") not in (None, o["client_order_id"]):
            return err(400, "invalid_parameters", "client_order_id does not match the order")
        filled, total = Decimal(o["fill_count_fp"]), Decimal(p["count"])
        if total <= filled:
            return err(400, "invalid_parameters", "count must exceed the filled count")
        price = Decimal(p["price"])
        o.update(yes_price_dollars=dollars(price), no_price_dollars=dollars(ONE - price), remaining_count_fp=fp(total - filled),
                 client_order_id=p.get("updated_client_order_id") or o["client_order_id"], last_update_time=iso(self.now_ms()))
        self._match(o, price)
        self._push_order(o)
        return web.json_response({"order_id": o["order_id"], "client_order_id": o["client_order_id"],
                                  "remaining_count": o["remaining_count_fp"], "fill_count": o["fill_count_fp"],
                                  "ts_ms": self.now_ms()})

    @signed
    async def decrease(self, request, p):
        o = self._resting(request)
        if isinstance(o, web.Response):
            return o
        if ("reduce_by" in p) == ("reduce_to" in p):
            return err(400, "invalid_parameters", "exactly one of reduce_by or reduce_to must be provided")
        remaining = Decimal(o["remaining_count_fp"])
        left = remaining - Decimal(p["reduce_by"]) if "reduce_by" in p else Decimal(p["reduce_to"])
        if not Decimal(0) <= left <= remaining:
            return err(400, "invalid_parameters", "a decrease cannot increase the order")
        o.update(remaining_count_fp=fp(left), last_update_time=iso(self.now_ms()))
        if not left:
            o["status"] = "canceled"
        self._push_order(o)
        return web.json_response({"order_id": o["order_id"], "client_order_id": o["client_order_id"],
                                  "remaining_count": o["remaining_count_fp"], "ts_ms": self.now_ms()})

    # -- websocket ---------------------------------------------------------------------------------
    async def ws(self, request):
        refused = self.check_headers(request.headers, "GET", "/trade-api/ws/v2")
        if refused is not None:
            self.logins.append(False)
            refused.set_status(self.handshake_refusal)
            return refused                      # the handshake itself is refused
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            cmd = json.loads(msg.data)
            self.commands.append(cmd)
            params = cmd.get("params", {})
            if cmd.get("cmd") == "subscribe":
                for channel in params.get("channels", []):
                    sub = {"sid": next(self._sids), "channel": channel, "tickers": params.get("market_tickers", []),
                           "seq": 0, "ws": ws}
                    self.subs.append(sub)
                    if channel in PRIVATE and ws not in self.private:
                        self.private.append(ws)
                        self.logins.append(True)
                    await ws.send_json({"id": cmd.get("id"), "type": "subscribed", "msg": {"channel": channel, "sid": sub["sid"]}})
                    if channel == "orderbook_delta":
                        for t in sub["tickers"]:
                            await ws.send_json(self._next(sub, "orderbook_snapshot", {
                                "market_ticker": t, "market_id": "fake-" + t,
                                "yes_dollars_fp": self._rows(self.yes) if t == TICKER else [],
                                "no_dollars_fp": self._rows(self.no) if t == TICKER else []}))
            elif cmd.get("cmd") == "unsubscribe":
                for sid in params.get("sids", []):
                    self.subs = [s for s in self.subs if s["sid"] != sid]
                    await ws.send_json({"id": cmd.get("id"), "sid": sid, "seq": 0, "type": "unsubscribed"})
        return ws

    def _next(self, sub: dict, kind: str, msg: dict) -> dict:
        sub["seq"] += 1 + self.skip_next_seq if kind != "orderbook_snapshot" else 1
        if kind != "orderbook_snapshot":
            self.skip_next_seq = 0
        return {"type": kind, "sid": sub["sid"], "seq": sub["seq"], "msg": msg}

    def push_delta(self, side: str, price: str, delta: str) -> None:
        """Change a bid level of the fixed book and send the delta (from any thread)."""
        def go():
            book, p = (self.yes if side == "yes" else self.no), Decimal(price)
            size = book.get(p, Decimal(0)) + Decimal(delta)
            if size > 0:
                book[p] = size
            else:
                book.pop(p, None)
            for sub in self.subs:
                if sub["channel"] == "orderbook_delta" and TICKER in sub["tickers"] and not sub["ws"].closed:
                    message = self._next(sub, "orderbook_delta", {
                        "market_ticker": TICKER, "price_dollars": dollars(p), "delta_fp": fp(Decimal(delta)), "side": side,
                        "ts": iso(self.now_ms()), "ts_ms": self.now_ms()})
                    asyncio.ensure_future(sub["ws"].send_json(message))
        self.soon(go)

    def push_trade(self, yes_price: str, count: str, taker_side: str, legacy: bool = False) -> None:
        """A public trade; the taker's side as Kalshi names it now (``taker_outcome_side``,
        ``taker_book_side``) or, with *legacy*, only as the deprecated ``taker_side``."""
        sides = {"taker_side": taker_side} if legacy else {
            "taker_outcome_side": taker_side, "taker_book_side": "bid" if taker_side == "yes" else "ask"}

        def go():
            for sub in self.subs:
                if sub["channel"] == "trade" and TICKER in sub["tickers"] and not sub["ws"].closed:
                    asyncio.ensure_future(sub["ws"].send_json({"type": "trade", "sid": sub["sid"], "msg": {
                        "trade_id": str(uuid.uuid4()), "market_ticker": TICKER, "yes_price_dollars": yes_price,
                        "no_price_dollars": dollars(ONE - Decimal(yes_price)), "count_fp": count, **sides,
                        "ts": self.now_ms() // 1000, "ts_ms": self.now_ms()}}))
        self.soon(go)

    # -- the private channels ------------------------------------------------------------------------
    def _push(self, channel_type: str, msg: dict) -> None:
        """Send a private message to every socket subscribed to its channel (on the server's loop)."""
        channel = "user_orders" if channel_type == "user_order" else channel_type
        for sub in self.subs:
            if sub["channel"] == channel and not sub["ws"].closed:
                asyncio.ensure_future(sub["ws"].send_json({"type": channel_type, "sid": sub["sid"], "msg": msg}))

    def _push_order(self, o: dict) -> None:
        """The ``user_order`` message: Get Order's fields, YES price only, ``*_ts_ms`` times."""
        bid = o["_side"] == "bid"
        msg = {k: v for k, v in self._order_view(o).items() if k not in ("no_price_dollars", "exchange_index")}
        msg.update(side="yes" if bid else "no", is_yes=bid, outcome_side="yes" if bid else "no", book_side=o["_side"],
                   created_ts_ms=ms_of(o["created_time"]), last_updated_ts_ms=ms_of(o["last_update_time"]))
        self._push("user_order", msg)

    def fill_resting(self, cid: str, qty: str) -> None:
        """A counterparty hits our resting order for ``qty`` at its price: a maker fill, pushed
        as ``fill`` then ``user_order`` (from any thread)."""
        def go():
            o = next(o for o in self.orders.values() if o["client_order_id"] == cid and o["status"] == "resting")
            self._fill(o, Decimal(o["yes_price_dollars"]), Decimal(qty), taker=False)
            self._push_order(o)
        self.soon(go)
