"""A fake Hyperliquid API on 127.0.0.1 that checks actions the way Hyperliquid does.

``POST /exchange``: the action is rebuilt in the venue's own field order (as its server
deserialises it into structs), hashed with msgpack + nonce + vault flag, wrapped in the phantom
agent and the EIP-712 ``Agent`` digest; the signer is *recovered* from the signature and must be
the account or an API wallet it approved (``approveAgent``, a user-signed action), else
``{"status": "err", "response": "User or API Wallet 0x.. does not exist."}``. Nonces must be
unique per signer and within (T - 2 days, T + 1 day) of its clock. Answers carry per-order
``statuses`` with the error strings of https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/error-responses.
``POST /info``: meta, l2Book, allMids, clearinghouseState, spotClearinghouseState, userAbstraction
(``abstraction``: "default" as an account that never chose a mode, "disabled", "unifiedAccount",
"portfolioMargin"; in the last two the USDC sits in the spot state, ``total`` the cash and ``hold``
the margin in use, and the perp state holds none of it, its ``withdrawable`` 0, as the venue shows a
unified account; otherwise the spot state holds ``spot_usdc`` only, and the perp state's
``accountValue`` is ``cash`` (fees taken) plus unrealized P&L, ``totalRawUsd`` that less each position's
signed notional, as the official SDK's recorded answer has them), openOrders, orderStatus (oid or
cloid), userFills, userRole, userFunding (``funding`` rows, added by ``add_funding``: those with
``startTime`` <= time <= ``endTime`` (default now), oldest first, at most 500, the hash all zeros as
today's venue sends it; a body without a 42-character address or an integer ``startTime`` is the
venue's 422; ``funding_asked`` records each ``startTime``). Orders match a fixed BTC book (asks
91000 x 2, 91010 x 3; bids 90990 x 2, 90980 x 3), taker fee 0.045 % in USDC; positions are kept per coin.
``/ws``: greets with the text "Websocket connection established.", then l2Book (whole book per
message), trades, ``{"method": "ping"}`` -> ``{"channel": "pong"}``, and the account's own feeds:
``orderUpdates`` (every change of an order: placed, filled, cancelled, a modify's old leg
``canceled`` then its new leg) and ``userFills`` (a snapshot ``isSnapshot: true`` of past fills on
subscribing, then each fill: the very rows ``userFills`` over REST answers, same ``tid``). A user
subscription the venue cannot parse is answered ``{"channel": "error", "data": "Invalid
subscription {...}"}``; more than ``max_users`` addresses tracked (``tracked_users``, across
sockets, never freed here) ``Cannot track more than 10 total users.``. ``logins`` records each
``orderUpdates`` subscription (accepted or not), ``private`` the accepted (socket, feed, user);
``fill_resting(cloid, qty)`` has a taker hit our resting order (maker fee 0.015 %).
``batchModify`` as since June 2026 (exchange-endpoint#modify-multiple-orders): ``a`` (always place) is
hashed last when sent and refused when false; without it each new order must be a non-trigger
``Alo``, or a ``Gtc`` that would not match at once (it then rests as ``Alo``), else the modify is
refused and the old order stays (the venue's words for that refusal are not documented: ours).
Spot (``spotMeta``, asset = 10000 + a pair's ``index``; coin ``PURR/USDC`` for pair 0, ``@<index>``
otherwise): ``spot_tokens`` and ``spot_pairs`` as the venue numbers them on mainnet (HYPE token 150
in pair 107, UBTC 197 in 142, USOL 254 in 156), a HYPE book (bids 29.99 x 50, 29.98 x 100; asks
30.01 x 40, 30.02 x 100), prices to 8 - szDecimals decimals, "Order must have minimum value of 10
USDC", "Order has insufficient spot balance to trade" against free = total - hold (resting spot
orders hold their USDC or base), fees taken in the asset received (a buy's in the base, a sell's
in USDC), ``spot_holdings`` per token (USDC itself is ``cash`` in a unified account, else ``spot_usdc``).
Faults: ``rate_limit_next`` (HTTP 429), ``malformed_next``, ``clock_offset_ms``,
``refuse_next_place`` (an error status), ``slow_next_s`` (answer late), ``lose_next_answer`` (the action is done, the answer is a
502), ``address_limited`` (the address-based action limit), ``drop_sockets()``.
``updateLeverage`` (``asset``, ``isCross``, ``leverage``, hashed in that order): a perp's leverage
is kept in ``leverage`` (coin -> (leverage, isCross)); above ``max_leverage`` (each coin's
``maxLeverage`` in ``meta``) it is refused ``{"status": "err", "response": "Invalid leverage value"}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from decimal import Decimal

from aiohttp import web

from sequence_core.keys import keccak256, to_checksum_address
from sequence_core.testing import FakeVenueServer
from sequence_venue_hyperliquid import signing

UNIVERSE = [("BTC", 5), ("ETH", 4), ("ATOM", 2), ("MATIC", 1), ("DYDX", 1), ("SOL", 2)]
SPOT_TOKENS = {0: ("USDC", 8), 1: ("PURR", 0), 150: ("HYPE", 2), 197: ("UBTC", 5), 254: ("USOL", 3)}
SPOT_PAIRS = {0: (1, 0), 107: (150, 0), 142: (197, 0), 156: (254, 0)}     # pair index -> (base token, quote token)
SPOT_OFFSET = 10_000
SPOT_TAKER_FEE = Decimal("0.0007")
SPOT_MAKER_FEE = Decimal("0.0004")
DAY_MS = 86_400_000
TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
LEVERAGE = 20
FUNDING_PAGE = 500
NOT_DESERIALIZED = "Failed to deserialize the JSON body into the target type"


def ok(kind: str, statuses: list | None = None) -> web.Response:
    response = {"type": kind} if statuses is None else {"type": kind, "data": {"statuses": statuses}}
    return web.json_response({"status": "ok", "response": response})


def err(message: str) -> web.Response:
    return web.json_response({"status": "err", "response": message})


def canonical_order(o: dict) -> dict:
    t = o["t"]
    kind = {"limit": {"tif": t["limit"]["tif"]}} if "limit" in t else \
        {"trigger": {"isMarket": t["trigger"]["isMarket"], "triggerPx": t["trigger"]["triggerPx"], "tpsl": t["trigger"]["tpsl"]}}
    out = {"a": o["a"], "b": o["b"], "p": o["p"], "s": o["s"], "r": o["r"], "t": kind}
    if o.get("c") is not None:
        out["c"] = o["c"]
    return out


def canonical(action: dict) -> dict:
    """The action in the field order the venue's structs have (what it hashes)."""
    kind = action["type"]
    if kind == "order":
        out = {"type": kind, "orders": [canonical_order(o) for o in action["orders"]], "grouping": action["grouping"]}
        if action.get("builder"):
            out["builder"] = {"b": action["builder"]["b"], "f": action["builder"]["f"]}
        return out
    if kind == "cancel":
        return {"type": kind, "cancels": [{"a": c["a"], "o": c["o"]} for c in action["cancels"]]}
    if kind == "cancelByCloid":
        return {"type": kind, "cancels": [{"asset": c["asset"], "cloid": c["cloid"]} for c in action["cancels"]]}
    if kind == "updateLeverage":
        return {"type": kind, "asset": action["asset"], "isCross": action["isCross"], "leverage": action["leverage"]}
    if kind == "batchModify":
        out = {"type": kind, "modifies": [{"oid": m["oid"], "order": canonical_order(m["order"])} for m in action["modifies"]]}
        if "a" in action:
            out["a"] = action["a"]
        return out
    raise KeyError(kind)


class FakeHyperliquid(FakeVenueServer):
    def __init__(self, account: str, mainnet: bool = True, usdc: str = "100000"):
        super().__init__()
        self.account = to_checksum_address(account)
        self.mainnet = mainnet
        self.agents: set[str] = set()
        self.cash = Decimal(usdc)
        self.abstraction = "default"                 # userAbstraction
        self.spot_usdc = Decimal(0)                  # spot-side USDC of a standard account
        self.nonces: dict[str, set[int]] = {}
        self.orders: dict[int, dict] = {}            # oid -> {"order": ..., "status": ..., "statusTimestamp": ...}
        self.fills: list[dict] = []
        self.funding: list[dict] = []                # userFunding rows
        self.funding_asked: list[int] = []           # each userFunding startTime
        self.positions: dict[str, dict] = {}         # coin -> {"szi", "entryPx"}
        self.books = {"BTC": ({"90990": "2", "90980": "3"}, {"91000": "2", "91010": "3"}),
                      "@107": ({"29.99": "50", "29.98": "100"}, {"30.01": "40", "30.02": "100"})}
        self.spot_tokens = dict(SPOT_TOKENS)
        self.spot_pairs = dict(SPOT_PAIRS)
        self.spot_holdings: dict[str, Decimal] = {}  # base tokens held in spot (USDC: see spot_cash)
        self.refuse_next_place: str | None = None
        self.lose_next_answer = False
        self.address_limited = False
        self.subscriptions: list[dict] = []
        self.private: list[tuple] = []               # (socket, "orderUpdates" | "userFills", user) accepted
        self.logins: list[bool] = []                 # each orderUpdates subscription: accepted or not
        self.tracked_users: set[str] = set()
        self.max_users = 10
        self.pings = 0
        self.actions: list[dict] = []
        self.leverage: dict[str, tuple[int, bool]] = {}    # coin -> (leverage, isCross)
        self.max_leverage = 40
        self.info_types: list[str] = []
        self.slow_next_s = 0.0
        self._ids = itertools.count(77738308)

    def rate_limited(self):
        return web.Response(status=429, text="null", content_type="application/json")

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults])
        app.router.add_post("/info", self.info)
        app.router.add_post("/exchange", self.exchange)
        app.router.add_get("/ws", self.ws)
        return app

    # -- book --------------------------------------------------------------------------------------
    def levels(self, coin: str, with_n: bool = False) -> list:
        bids, asks = self.books.get(coin, ({}, {}))
        sides = (sorted(bids.items(), key=lambda kv: -Decimal(kv[0])), sorted(asks.items(), key=lambda kv: Decimal(kv[0])))
        return [[{"px": p, "sz": s, **({"n": 1} if with_n else {})} for p, s in side] for side in sides]

    def mid(self, coin: str) -> Decimal:
        bids, asks = self.levels(coin)
        return (Decimal(bids[0]["px"]) + Decimal(asks[0]["px"])) / 2 if bids and asks else Decimal("100")

    # -- info --------------------------------------------------------------------------------------
    async def slow(self) -> None:
        if self.slow_next_s:
            delay, self.slow_next_s = self.slow_next_s, 0.0
            await asyncio.sleep(delay)

    async def info(self, request):
        await self.slow()
        try:
            body = json.loads(await request.text())
            kind = body["type"]
        except (ValueError, KeyError):
            return web.Response(status=422, text=NOT_DESERIALIZED)
        self.info_types.append(kind)
        if kind == "meta":
            return web.json_response({"universe": [{"name": n, "szDecimals": d, "maxLeverage": self.max_leverage} for n, d in UNIVERSE]})
        if kind == "spotMeta":
            return web.json_response(self.spot_meta())
        if kind == "l2Book":
            return web.json_response({"coin": body["coin"], "time": self.now_ms(), "levels": self.levels(body["coin"], True)})
        if kind == "allMids":
            coins = [c for c, _ in UNIVERSE] + [self.pair_name(i) for i in self.spot_pairs]
            return web.json_response({c: str(self.mid(c)) for c in coins})
        if kind == "userRole":
            user = to_checksum_address(body["user"])
            role = {"role": "user"} if user == self.account else \
                {"role": "agent", "data": {"user": self.account.lower()}} if user in self.agents else {"role": "missing"}
            return web.json_response(role)
        if kind == "userFunding":
            return self.user_funding(body)
        if kind == "userAbstraction":
            return web.json_response(self.abstraction if to_checksum_address(body["user"]) == self.account else "default")
        if to_checksum_address(body.get("user", "0x" + "0" * 40)) != self.account:
            if kind == "spotClearinghouseState":
                return web.json_response({"balances": []})
            return web.json_response([] if kind in ("openOrders", "userFills") else
                                     {"status": "unknownOid"} if kind == "orderStatus" else self.state(empty=True))
        if kind == "clearinghouseState":
            return web.json_response(self.state())
        if kind == "spotClearinghouseState":
            return web.json_response(self.spot_state())
        if kind == "openOrders":
            return web.json_response([{k: o["order"][k] for k in ("coin", "limitPx", "oid", "side", "sz", "timestamp", "origSz", "cloid")}
                                      for o in self.orders.values() if o["status"] == "open"])
        if kind == "orderStatus":
            found = self.find(body["oid"])
            if found:                        # the venue's order fields only ("spot" is this fake's note)
                found = {**found, "order": {k: v for k, v in found["order"].items() if k != "spot"}}
            return web.json_response({"status": "order", "order": found} if found else {"status": "unknownOid"})
        if kind == "userFills":
            return web.json_response(sorted(self.fills, key=lambda f: -f["time"]))
        return web.Response(status=422, text=NOT_DESERIALIZED)

    def user_funding(self, body: dict) -> web.Response:
        user, start, end = body.get("user"), body.get("startTime"), body.get("endTime")
        if not (isinstance(user, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", user)) or not isinstance(start, int) \
                or not (end is None or isinstance(end, int)):
            return web.Response(status=422, text=NOT_DESERIALIZED)
        self.funding_asked.append(start)
        if to_checksum_address(user) != self.account:
            return web.json_response([])
        end = self.now_ms() if end is None else end
        rows = sorted((r for r in self.funding if start <= r["time"] <= end), key=lambda r: r["time"])
        return web.json_response(rows[:FUNDING_PAGE])

    def add_funding(self, coin: str, usdc: str, time_ms: int, szi: str = "0.5", rate: str = "0.0000125") -> dict:
        """Book a funding payment on the account (``usdc`` signed: received > 0, paid < 0)."""
        row = {"time": time_ms, "hash": "0x" + "0" * 64,
               "delta": {"type": "funding", "coin": coin, "usdc": usdc, "szi": szi, "fundingRate": rate, "nSamples": 1}}
        self.funding.append(row)
        return row

    def find(self, oid) -> dict | None:
        if isinstance(oid, str):
            matches = [o for o in self.orders.values() if o["order"]["cloid"] == oid]
            return matches[-1] if matches else None     # after a modify: the live leg
        return self.orders.get(oid)

    def state(self, empty: bool = False) -> dict:
        rows, upnl, margin, ntl, signed = [], Decimal(0), Decimal(0), Decimal(0), Decimal(0)
        for coin, p in ({} if empty else self.positions).items():
            szi, entry = p["szi"], p["entryPx"]
            if not szi:
                continue
            mark = self.mid(coin)
            pnl, value = szi * (mark - entry), abs(szi) * mark
            used = value / LEVERAGE
            upnl, margin, ntl, signed = upnl + pnl, margin + used, ntl + value, signed + szi * mark
            liq = entry * (1 - Decimal("0.95") / LEVERAGE) if szi > 0 else entry * (1 + Decimal("0.95") / LEVERAGE)
            rows.append({"type": "oneWay", "position": {
                "coin": coin, "szi": f"{szi}", "leverage": {"type": "cross", "value": LEVERAGE}, "entryPx": f"{entry}",
                "positionValue": f"{value}", "unrealizedPnl": f"{pnl}", "returnOnEquity": f"{pnl / used if used else 0}",
                "liquidationPx": f"{liq:.2f}", "marginUsed": f"{used}", "maxLeverage": 40,
                "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}}})
        value = (Decimal(0) if empty or self.unified() else self.cash) + upnl
        summary = {"accountValue": f"{value}", "totalNtlPos": f"{ntl}", "totalRawUsd": f"{value - signed}",
                   "totalMarginUsed": f"{margin}"}
        return {"marginSummary": summary, "crossMarginSummary": summary, "crossMaintenanceMarginUsed": f"{margin / 2}",
                "withdrawable": f"{max(Decimal(0), value - margin)}", "assetPositions": rows, "time": self.now_ms()}

    def unified(self) -> bool:
        return self.abstraction in ("unifiedAccount", "portfolioMargin")

    def spot_state(self) -> dict:
        margin = sum((abs(p["szi"]) * self.mid(c) / LEVERAGE for c, p in self.positions.items()), Decimal(0))
        holds = self.spot_holds()
        hold = holds.get("USDC", Decimal(0)) + (margin if self.unified() else Decimal(0))
        rows = [{"coin": "USDC", "token": 0, "total": f"{self.spot_cash()}", "hold": f"{hold}", "entryNtl": "0.0"}]
        tokens = {name: index for index, (name, _) in self.spot_tokens.items()}
        rows += [{"coin": c, "token": tokens[c], "total": f"{t}", "hold": f"{holds.get(c, Decimal(0))}", "entryNtl": "0.0"}
                 for c, t in self.spot_holdings.items()]
        return {"balances": rows}

    # -- spot ----------------------------------------------------------------------------------------
    def spot_meta(self) -> dict:
        tokens = [{"name": n, "szDecimals": d, "weiDecimals": 8, "index": i, "tokenId": f"0x{i:032x}", "isCanonical": True}
                  for i, (n, d) in sorted(self.spot_tokens.items())]
        universe = [{"name": self.pair_name(i), "tokens": list(t), "index": i, "isCanonical": i == 0}
                    for i, t in sorted(self.spot_pairs.items())]
        return {"tokens": tokens, "universe": universe}

    @staticmethod
    def pair_name(index: int) -> str:
        return "PURR/USDC" if index == 0 else f"@{index}"

    def spot_pair(self, asset: int) -> tuple[str, str, int] | None:
        """(coin on the wire, base token, base szDecimals) of a spot asset id."""
        pair = self.spot_pairs.get(asset - SPOT_OFFSET)
        if pair is None:
            return None
        base, sz_decimals = self.spot_tokens[pair[0]]
        return self.pair_name(asset - SPOT_OFFSET), base, sz_decimals

    def spot_cash(self) -> Decimal:
        return self.cash if self.unified() else self.spot_usdc

    def add_spot_cash(self, delta: Decimal) -> None:
        if self.unified():
            self.cash += delta
        else:
            self.spot_usdc += delta

    def spot_holds(self) -> dict[str, Decimal]:
        """What resting spot orders hold: a buy its USDC, a sell its base."""
        out: dict[str, Decimal] = {}
        for o in self.orders.values():
            order = o["order"]
            if o["status"] != "open" or not order.get("spot"):
                continue
            left = Decimal(order["sz"])
            asset, amount = ("USDC", left * Decimal(order["limitPx"])) if order["side"] == "B" else (order["spot"], left)
            out[asset] = out.get(asset, Decimal(0)) + amount
        return out

    def check_spot(self, o: dict) -> str | None:
        found = self.spot_pair(o["a"])
        if found is None:
            return f"Invalid asset {o['a']}"
        _, base, sz_decimals = found
        px, sz = Decimal(o["p"]), Decimal(o["s"])
        if sz <= 0 or sz != sz.quantize(Decimal(1).scaleb(-sz_decimals)):
            return "Order has invalid size."
        digits = len(px.normalize().as_tuple().digits)
        decimals = max(0, -px.normalize().as_tuple().exponent)
        if px <= 0 or decimals > 8 - sz_decimals or (px != px.to_integral_value() and digits > 5):
            return f"Price must be divisible by tick size. asset={o['a']}"
        if px * sz < 10:
            return f"Order must have minimum value of 10 USDC. asset={o['a']}"
        holds = self.spot_holds()
        if o["b"]:
            short = px * sz > self.spot_cash() - holds.get("USDC", Decimal(0))
        else:
            short = sz > self.spot_holdings.get(base, Decimal(0)) - holds.get(base, Decimal(0))
        return f"Order has insufficient spot balance to trade. asset={o['a']}" if short else None

    def spot_fill(self, base: str, buy: bool, px: Decimal, sz: Decimal, maker: bool) -> tuple[Decimal, str, Decimal]:
        """Move the tokens of a spot fill; (fee, fee token, the base held before)."""
        rate = SPOT_MAKER_FEE if maker else SPOT_TAKER_FEE
        start = self.spot_holdings.get(base, Decimal(0))
        if buy:                                                    # the fee is taken from the base received
            fee = (sz * rate).quantize(Decimal("0.00000001"))
            self.spot_holdings[base] = start + sz - fee
            self.add_spot_cash(-px * sz)
            return fee, base, start
        fee = (px * sz * rate).quantize(Decimal("0.000001"))        # from the USDC received
        self.spot_holdings[base] = start - sz
        self.add_spot_cash(px * sz - fee)
        return fee, "USDC", start

    # -- exchange ------------------------------------------------------------------------------------
    async def exchange(self, request):
        await self.slow()
        try:
            body = json.loads(await request.text())
            action, nonce, signature = body["action"], int(body["nonce"]), body["signature"]
            if action["type"] == "approveAgent":
                fields, primary = signing.APPROVE_AGENT_FIELDS, "HyperliquidTransaction:ApproveAgent"
                digest = signing.user_signed_digest(action, fields, primary)
            else:
                digest = signing.l1_digest(canonical(action), body.get("vaultAddress"), nonce, self.mainnet,
                                           body.get("expiresAfter"))
            signer = signing.recover_address(digest, signature)
        except (ValueError, KeyError, TypeError):
            return web.Response(status=422, text=NOT_DESERIALIZED)
        if signer != self.account and signer not in self.agents:
            return err(f"User or API Wallet {signer.lower()} does not exist.")
        now = self.now_ms()
        if not now - 2 * DAY_MS < nonce < now + DAY_MS:
            return err(f"Invalid nonce: nonce {nonce} is outside the allowed window of the block time {now}")
        used = self.nonces.setdefault(signer, set())
        if nonce in used:
            return err("Invalid nonce: duplicate nonce")
        used.add(nonce)
        if body.get("expiresAfter") is not None and now > int(body["expiresAfter"]):
            return err("Action expired")
        self.actions.append(action)
        if self.address_limited and action["type"] in ("order", "batchModify"):
            return err("Too many cumulative requests sent (10001 > 10000) for cumulative volume traded $0.00. "
                       "Place taker orders to free up 1 request per USDC traded.")
        answer = self.act(action, signer)
        if self.lose_next_answer:
            self.lose_next_answer = False
            return web.Response(status=502, text="<html>bad gateway</html>")
        return answer

    def act(self, action: dict, signer: str) -> web.Response:
        kind = action["type"]
        if kind == "approveAgent":
            if signer != self.account:
                return err("Only the main account can approve an API wallet.")
            self.agents.add(to_checksum_address(action["agentAddress"]))
            return ok("default")
        if kind == "order":
            return ok("order", [self.place(o) for o in action["orders"]])
        if kind == "cancelByCloid":
            return ok("cancel", [self.cancel(self.find(c["cloid"]), c["asset"]) for c in action["cancels"]])
        if kind == "cancel":
            return ok("cancel", [self.cancel(self.find(int(c["o"])), c["a"]) for c in action["cancels"]])
        if kind == "batchModify":
            if "a" in action and action["a"] is not True:
                return err("Failed to deserialize the action: always place must be omitted when false")
            return ok("order", [self.modify(m, action.get("a", False)) for m in action["modifies"]])
        if kind == "updateLeverage":
            asset, leverage = action["asset"], action["leverage"]
            if not isinstance(asset, int) or not 0 <= asset < len(UNIVERSE) or not isinstance(leverage, int) or leverage < 1:
                return web.Response(status=422, text=NOT_DESERIALIZED)
            if leverage > self.max_leverage:
                return err("Invalid leverage value")
            self.leverage[UNIVERSE[asset][0]] = (leverage, action["isCross"] is True)
            return web.json_response({"status": "ok", "response": {"type": "default"}})
        return err(f"Unknown action {kind}")

    def cancel(self, found: dict | None, asset: int):
        if found is None or found["status"] != "open":
            return {"error": f"Order was never placed, already canceled, or filled. asset={asset}"}
        found["status"], found["statusTimestamp"] = "canceled", self.now_ms()
        self.push_order(found["order"]["oid"])
        return "success"

    def modify(self, m: dict, always_place: bool):
        found = self.find(m["oid"])
        if found is None or found["status"] != "open":
            return {"error": "Cannot modify canceled or filled order"}
        checked = self.check(m["order"])
        if checked:
            return {"error": checked}
        order = m["order"]
        if not always_place:
            tif = order["t"].get("limit", {}).get("tif")
            if tif not in ("Alo", "Gtc") or (tif == "Gtc" and self.crossing(order)):
                return {"error": "Modify without always place needs a non-trigger Alo order or a Gtc order that "
                                 f"would not match at once. asset={order['a']}"}
            order = {**order, "t": {"limit": {"tif": "Alo"}}}           # a Gtc that would rest rests as Alo
        found["status"], found["statusTimestamp"] = "canceled", self.now_ms()      # the venue replaces it
        self.push_order(found["order"]["oid"])
        return self.place(order, checked_already=True)

    def crossing(self, o: dict) -> list:
        """The opposite levels order *o* would take at once."""
        bids, asks = self.levels(self.coin_of(o["a"]))
        px = Decimal(o["p"])
        return [lv for lv in (asks if o["b"] else bids) if (Decimal(lv["px"]) <= px if o["b"] else Decimal(lv["px"]) >= px)]

    def coin_of(self, asset: int) -> str:
        return self.spot_pair(asset)[0] if asset >= SPOT_OFFSET else UNIVERSE[asset][0]

    def check(self, o: dict) -> str | None:
        asset = o["a"]
        if asset >= SPOT_OFFSET:
            return self.check_spot(o)
        if not 0 <= asset < len(UNIVERSE):
            return f"Invalid asset {asset}"
        coin, sz_decimals = UNIVERSE[asset]
        px, sz = Decimal(o["p"]), Decimal(o["s"])
        if sz <= 0 or sz != sz.quantize(Decimal(1).scaleb(-sz_decimals)):
            return "Order has invalid size."
        digits = len(px.normalize().as_tuple().digits)
        decimals = max(0, -px.normalize().as_tuple().exponent)
        if px <= 0 or decimals > 6 - sz_decimals or (px != px.to_integral_value() and digits > 5):
            return f"Price must be divisible by tick size. asset={asset}"
        if px * sz < 10:
            return f"Order must have minimum value of $10. asset={asset}"
        margin_used = sum((abs(p["szi"]) * self.mid(c) / LEVERAGE for c, p in self.positions.items()), Decimal(0))
        if px * sz / LEVERAGE > self.cash - margin_used:
            return f"Insufficient margin to place order. asset={asset}"
        return None

    def place(self, o: dict, checked_already: bool = False):
        if self.refuse_next_place:
            message, self.refuse_next_place = self.refuse_next_place, None
            return {"error": message}
        problem = None if checked_already else self.check(o)
        if problem:
            return {"error": problem}
        coin = self.coin_of(o["a"])
        spot = self.spot_pair(o["a"])[1] if o["a"] >= SPOT_OFFSET else None
        buy, sz, tif, cloid = o["b"], Decimal(o["s"]), o["t"]["limit"]["tif"], o.get("c")
        bids, asks = self.levels(coin)
        crossing = self.crossing(o)
        if tif == "Alo" and crossing:
            bbo = f"{bids[0]['px'] if bids else '-'}@{asks[0]['px'] if asks else '-'}"
            return {"error": f"Post only order would have immediately matched, bbo was {bbo}. asset={o['a']}"}
        if tif == "Ioc" and not crossing:
            return {"error": f"Order could not immediately match against any resting orders. asset={o['a']}"}
        oid, now = next(self._ids), self.now_ms()
        left, fills = sz, []
        for level in crossing:
            take = min(left, Decimal(level["sz"]))
            if take <= 0:
                break
            fills.append(self.fill(coin, buy, Decimal(level["px"]), take, oid, cloid, now, spot=spot))
            left -= take
        status = "filled" if left == 0 else ("canceled" if tif == "Ioc" else "open")
        self.orders[oid] = {"order": {"coin": coin, "side": "B" if buy else "A", "limitPx": o["p"], "sz": f"{left}",
                                      "oid": oid, "timestamp": now, "origSz": o["s"], "tif": tif, "cloid": cloid,
                                      "reduceOnly": o["r"], "orderType": "Limit", "triggerCondition": "N/A",
                                      "isTrigger": False, "triggerPx": "0.0", "children": [], "isPositionTpsl": False,
                                      **({"spot": spot} if spot else {})},
                            "status": status, "statusTimestamp": now}
        self.push_order(oid, fills)             # the order's change first, its fills after: the harder order
        if left < sz:
            filled = sz - left
            avg = sum(Decimal(f["px"]) * Decimal(f["sz"]) for f in self.fills if f["oid"] == oid) / filled
            return {"filled": {"totalSz": f"{filled}", "avgPx": f"{avg}", "oid": oid, **({"cloid": cloid} if cloid else {})}}
        return {"resting": {"oid": oid, **({"cloid": cloid} if cloid else {})}}

    def fill(self, coin: str, buy: bool, px: Decimal, sz: Decimal, oid: int, cloid, now: int, maker: bool = False,
             spot: str | None = None) -> dict:
        if spot:
            fee, token, start = self.spot_fill(spot, buy, px, sz, maker)
            row = {"coin": coin, "px": f"{px}", "sz": f"{sz}", "side": "B" if buy else "A", "time": now,
                   "startPosition": f"{start}", "dir": "Buy" if buy else "Sell", "closedPnl": "0.0",
                   "hash": "0x" + keccak256(f"{oid}:{len(self.fills)}".encode()).hex(), "oid": oid,
                   "crossed": not maker, "fee": f"{fee}", "tid": next(self._ids), "feeToken": token,
                   **({"cloid": cloid} if cloid else {})}
            self.fills.append(row)
            return row
        p = self.positions.setdefault(coin, {"szi": Decimal(0), "entryPx": Decimal(0)})
        start, signed = p["szi"], sz if buy else -sz
        if start == 0 or (start > 0) == buy:
            p["entryPx"] = (abs(start) * p["entryPx"] + sz * px) / (abs(start) + sz)
        elif abs(signed) > abs(start):
            p["entryPx"] = px                                      # flipped through zero
        p["szi"] = start + signed
        fee = (px * sz * (MAKER_FEE if maker else TAKER_FEE)).quantize(Decimal("0.000001"))
        self.cash -= fee
        row = {"coin": coin, "px": f"{px}", "sz": f"{sz}", "side": "B" if buy else "A", "time": now,
               "startPosition": f"{start}", "dir": "Open Long" if buy else "Open Short", "closedPnl": "0.0",
               "hash": "0x" + keccak256(f"{oid}:{len(self.fills)}".encode()).hex(), "oid": oid,
               "crossed": not maker, "fee": f"{fee}", "tid": next(self._ids), "feeToken": "USDC",
               **({"cloid": cloid} if cloid else {})}
        self.fills.append(row)
        return row

    def fill_resting(self, cloid: str, qty: str) -> None:
        """A taker hits our resting order ``cloid`` for ``qty`` at its price, from any thread."""
        def go():
            order = next(o for o in self.orders.values() if o["order"]["cloid"] == cloid and o["status"] == "open")
            o, q = order["order"], Decimal(qty)
            row = self.fill(o["coin"], o["side"] == "B", Decimal(o["limitPx"]), q, o["oid"], cloid, self.now_ms(), maker=True,
                            spot=o.get("spot"))
            o["sz"] = f"{Decimal(o['sz']) - q}"
            if Decimal(o["sz"]) == 0:
                order["status"] = "filled"
            order["statusTimestamp"] = row["time"]
            self.push_order(o["oid"], [row])
        self.soon(go)

    def push_order(self, oid: int, fills: list | None = None) -> None:
        """The account's pushes for a change of order ``oid`` (on the server's loop)."""
        o = self.orders[oid]
        update = {"order": {k: o["order"][k] for k in ("coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz", "cloid")},
                  "status": o["status"], "statusTimestamp": o["statusTimestamp"]}
        self._push("orderUpdates", [update])
        if fills:
            self._push("userFills", {"user": self.account.lower(), "fills": fills})

    def _push(self, feed: str, data) -> None:
        for ws, subscribed, user in self.private:
            if subscribed == feed and user == self.account.lower() and not ws.closed:
                asyncio.ensure_future(ws.send_json({"channel": feed, "data": data}))

    def refusal(self, sub: dict) -> str | None:
        """Why the venue refuses a per-user subscription (None: it does not)."""
        user = str(sub.get("user", ""))
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", user):
            return "Invalid subscription " + json.dumps(sub, separators=(",", ":"))
        if len(self.tracked_users | {user.lower()}) > self.max_users:
            return f"Cannot track more than {self.max_users} total users."
        self.tracked_users.add(user.lower())
        return None

    # -- websocket ------------------------------------------------------------------------------------
    async def ws(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_str("Websocket connection established.")
        async for msg in ws:
            body = json.loads(msg.data)
            if body.get("method") == "ping":
                self.pings += 1
                await ws.send_json({"channel": "pong"})
                continue
            sub = body.get("subscription", {})
            kind = sub.get("type")
            refused = self.refusal(sub) if body.get("method") == "subscribe" and kind in ("orderUpdates", "userFills") else None
            if kind == "orderUpdates" and body.get("method") == "subscribe":
                self.logins.append(refused is None)
            if refused:
                await ws.send_json({"channel": "error", "data": refused})
                continue
            await ws.send_json({"channel": "subscriptionResponse", "data": body})
            if body.get("method") == "subscribe":
                self.subscriptions.append(sub)
                if kind == "l2Book":
                    await ws.send_json(self.book_message(sub["coin"]))
                elif kind in ("orderUpdates", "userFills"):
                    self.private.append((ws, kind, sub["user"].lower()))
                if kind == "userFills":
                    mine = to_checksum_address(sub["user"]) == self.account
                    await ws.send_json({"channel": "userFills", "data": {"isSnapshot": True, "user": sub["user"],
                                                                         "fills": self.fills[-2000:] if mine else []}})
        return ws

    def book_message(self, coin: str, time_ms: int | None = None) -> dict:
        return {"channel": "l2Book", "data": {"coin": coin, "time": time_ms or self.now_ms(), "levels": self.levels(coin, True)}}

    def push_book(self, bids=None, asks=None, coin: str = "BTC") -> None:
        """Change the book (size "0" removes a level) and send the whole of it, from any thread."""
        def go():
            for side, changes in zip(self.books[coin], (bids or {}, asks or {})):
                for p, s in changes.items():
                    if Decimal(s):
                        side[p] = s
                    else:
                        side.pop(p, None)
            self.broadcast(self.book_message(coin))
        self.soon(go)

    def push_trade(self, px: str, sz: str, side: str, coin: str = "BTC") -> None:
        self.broadcast({"channel": "trades", "data": [{"coin": coin, "side": side, "px": px, "sz": sz,
                                                       "hash": "0x" + "0" * 64, "time": self.now_ms(),
                                                       "tid": next(self._ids), "users": ["0xbuyer", "0xseller"]}]})

