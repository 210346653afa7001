"""Binance spot user data stream over the WebSocket API (the listenKey streams for spot were
retired on 2026-02-20; https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api/user-data-stream-requests).

Connect to ``wss://ws-api.binance.com:443/ws-api/v3`` and send ``userDataStream.subscribe.signature``
with ``apiKey``, ``timestamp`` and ``signature`` = hex(HMAC-SHA256(secret, the other params
sorted by name as ``key=value`` joined by ``&``)), as every signed WebSocket API request is
(https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api/request-security).
The answer is ``{"id", "status": 200, "result": {"subscriptionId"}}``; a refusal carries a
non-200 status and ``error: {code, msg}`` (-1022 bad signature, -1021 stale timestamp, -2015
bad key). Events then arrive as ``{"subscriptionId", "event": {...}}``; ``executionReport``
(https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream#order-update)
carries ``c`` client order id (``C`` the original one on a cancel), ``X`` order status, ``z``
cumulative filled, and for ``x: TRADE`` the fill: ``t`` trade id (the id ``myTrades`` reports,
so a fill seen here and by a poll counts once), ``L`` price, ``l`` quantity, ``n`` commission
in ``N``, ``m`` maker, ``T`` time; ``r`` the reject reason (``NONE`` when not rejected) and, on an
expired order, ``eR`` the expiry reason (e.g. ``EXECUTION_RULE_PRICE_RANGE_EXCEEDED``, the Price Range
Execution Rule of 2026-03; added 2026-03-26, spot CHANGELOG
https://developers.binance.com/docs/binance-spot-api-docs/CHANGELOG and the "Order Expiry Reason"
table of the user-data-stream page), read as the state's reason. The server pings; aiohttp
answers the frames. ``{"event": {"e": "serverShutdown", "E"}}`` is sent when that WebSocket API
server is about to shut down: "please disconnect and open a new connection" (added 2026-05-08,
reworded 2026-06-09, same CHANGELOG;
https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/general-api-information),
so it ends the session and the runner subscribes again on a new one (the engine's catch-up poll
then covers the moment between).

USD-M perp orders are not on this socket but on a listenKey stream of their own
(``BinanceFuturesUserStream``), each a runner of the engine (``BinanceSession.user_streams``):
- the key: ``POST /fapi/v1/listenKey`` (API key header only), valid 60 minutes; a POST while the
  account has an active key returns that key and extends it 60 minutes; ``PUT /fapi/v1/listenKey``
  extends it too, or answers -1125 "This listenKey does not exist." (then POST a new one); "A
  single connection is only valid for 24 hours"
  (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Connect).
  Each (re)connect POSTs (so a reconnect always carries a valid key) and starts a keepalive that
  PUTs every 30 minutes for as long as that socket is up; the UserStream hooks have no timer for
  a REST call (``ping`` is a socket message), so the keepalive is a task of the stream, restarted
  by ``url()`` and cancelled by ``close()``. Nothing DELETEs the key: it is the account's one key,
  which another program on the same account may be reading.
- the socket: ``wss://fstream.binance.com/private/ws?listenKey=<key>&events=ORDER_TRADE_UPDATE``
  (``[venues.binance] fapi_private_ws_url``), the private route of the USD-M URL split (legacy URLs
  retired 2026-04-23; https://developers.binance.com/docs/derivatives/usds-margined-futures/
  websocket-market-streams/Important-WebSocket-Change-Notice, "Private supports listenKey + events
  subscription"); ``/ws`` mode sends raw events (``/stream`` mode wraps them as ``{"stream",
  "data"}``, also read). No login message: the key in the URL authenticates.
- ``listenKeyExpired`` (``{"e": "listenKeyExpired", "E", "listenKey"}``; "No more user data event
  will be updated after this event received until a new valid listenKey used",
  https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/
  Event-User-Data-Stream-Expired; ``E`` is a string there, an integer in Binance's own SDK models
  since 2026-05-22, binance-connector-python derivatives_trading_usds_futures CHANGELOG 10.3.0; not
  read here) ends the session, and the runner reconnects with a new key; so does the first message
  after a refused keepalive.
- ``ORDER_TRADE_UPDATE`` (https://developers.binance.com/docs/derivatives/usds-margined-futures/
  user-data-streams/Event-Order-Update): ``E`` event time, ``T`` transaction time, ``o`` the order:
  ``s`` symbol, ``c`` client order id, ``S`` side, ``o`` type, ``f`` time in force, ``q`` original
  quantity, ``p`` price, ``x`` execution type (NEW, CANCELED, CALCULATED (liquidation), EXPIRED,
  TRADE, AMENDMENT (order modified)), ``X`` status (NEW, PARTIALLY_FILLED, FILLED, CANCELED,
  EXPIRED, EXPIRED_IN_MATCH), ``i`` order id, ``l`` last filled quantity, ``z`` cumulative filled,
  ``L`` last filled price, ``N``/``n`` commission asset and amount ("will not push if no
  commission"), ``T`` trade time, ``t`` trade id, ``m`` "Is this trade the maker side?". A
  ``TRADE`` update's fill is read by the same parser as a ``GET /fapi/v1/userTrades`` row
  (``execution.perp_fill``: ``t`` = ``id``, ``L`` = ``price``, ``l`` = ``qty``, ``n``/``N`` =
  ``commission``/``commissionAsset``, ``m`` = ``maker``, ``T`` = ``time``), so a fill pushed here
  and read again by a poll is one fill. Event symbols are USD-M's (``BTCUSDT``), the perp of
  that name here (``BTCUSDT_PERP``), never the spot book.
- a key without futures permission: the POST is refused (-2015, "Invalid API-key, IP, or
  permissions for action."); this stream says so (never the key) and retries with the runner's
  backoff, while the spot stream, another runner on another socket, goes on. Each stream says
  which books it covers (spot / perp): the engine slows its REST polling of spot orders while
  the spot stream is live, and polls perp orders every tick while this one is down.
  ``[venues.binance] usdm_stream = false`` leaves this stream out (no retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from urllib.parse import urlencode

from sequence_core.errors import AuthenticationError, NetworkError, SequenceError
from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .execution import STATUS, commission, perp_fill
from .signing import signature
from .symbols import PERP_SUFFIX

log = logging.getLogger("sequence.venue.binance")
DEFAULT_WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
DEFAULT_FAPI_PRIVATE_WS_URL = "wss://fstream.binance.com/private/ws"
SUBSCRIBE_ID = "sequence-user-data"
KEEPALIVE_S = 30 * 60.0          # well inside the key's 60 minutes


def signed_params(api_key: str, secret: str, timestamp_ms: int) -> dict:
    params = {"apiKey": api_key, "timestamp": timestamp_ms}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": signature(secret, payload)}


def _state(e: dict, inst) -> OrderState:
    cid = e["C"] if e["X"] == "CANCELED" and e.get("C") else e["c"]
    fills = ()
    if e.get("x") == "TRADE" and inst is not None and Decimal(e["l"]):
        fills = (VenueFill(str(e["t"]), Decimal(e["L"]), Decimal(e["l"]), *commission(e, inst, "n", "N"),
                           "maker" if e.get("m") else "taker", int(e["T"]) * 1_000_000),)
    reason = next((r for r in (e.get("r"), e.get("eR")) if r and r != "NONE"), "")
    return OrderState(cid, str(e["i"]), STATUS.get(e["X"], "NEW"), Decimal(e["z"]), fills, reason=reason,
                      price=Decimal(e["p"]) if Decimal(e.get("p") or "0") else None, qty=Decimal(e["q"]),
                      venue_ts_ns=int(e.get("T") or e["E"]) * 1_000_000)


class BinanceUserStream(UserStream):
    venue = "binance"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

    def covers(self, inst) -> bool:
        return inst.kind != "perp"             # spot orders; USD-M ones are BinanceFuturesUserStream's

    async def url(self) -> str:
        return self.settings.get("ws_api_url", DEFAULT_WS_API_URL)

    def login(self) -> list:
        params = signed_params(self.client._key, self.client._secret, self.client.clock.now_ms())
        return [{"id": SUBSCRIBE_ID, "method": "userDataStream.subscribe.signature", "params": params}]

    def logged_in(self, message):
        if isinstance(message, dict) and message.get("id") == SUBSCRIBE_ID:
            return message.get("status") == 200
        return None

    def parse(self, message, instruments) -> list:
        event = message.get("event") if isinstance(message, dict) else None
        if isinstance(event, dict) and event.get("e") == "serverShutdown":
            raise NetworkError("binance WebSocket API server shutting down (serverShutdown); subscribing again on a new connection")
        if not isinstance(event, dict) or event.get("e") != "executionReport":
            return []
        return [_state(event, instruments.get(event["s"]))]


# -- USD-M ---------------------------------------------------------------------------------------
def futures_state(e: dict, inst) -> OrderState:
    """One ``ORDER_TRADE_UPDATE`` (its ``o``) as an order state; a TRADE's fill as userTrades reads it."""
    o = e["o"]
    fills = ()
    if o.get("x") == "TRADE" and inst is not None and Decimal(o.get("l") or "0"):
        fills = (perp_fill({"id": o["t"], "price": o["L"], "qty": o["l"], "commission": o.get("n") or "0",
                            "commissionAsset": o.get("N") or "", "maker": o.get("m"), "time": o.get("T") or e["T"]}, inst),)
    return OrderState(o["c"], str(o["i"]), STATUS.get(o["X"], "NEW"), Decimal(o["z"]), fills,
                      price=Decimal(o["p"]) if Decimal(o.get("p") or "0") else None, qty=Decimal(o["q"]),
                      venue_ts_ns=int(o.get("T") or e.get("T") or e["E"]) * 1_000_000)


class BinanceFuturesUserStream(UserStream):
    """USD-M order updates: a listenKey stream on the ``/private`` route (see the module notes)."""

    venue = "binance"
    label = "binance usd-m"
    keepalive_s = KEEPALIVE_S

    def __init__(self, futures, settings: dict):
        """``futures``: the session's ``BinanceFuturesClient`` (its key, clock and weight budget)."""
        self.futures, self.settings = futures, settings
        self._keepalive: asyncio.Task | None = None
        self._key_lost = False

    def covers(self, inst) -> bool:
        return inst.kind == "perp"

    async def url(self) -> str:
        await self._stop_keepalive()
        try:
            key = await self.futures.new_listen_key()
        except AuthenticationError as exc:
            raise AuthenticationError(f"binance refused a USD-M user data stream ({exc}); a key without futures "
                                      "permission trades spot only: perp orders are not pushed, and "
                                      "[venues.binance] usdm_stream = false stops asking") from None
        self._key_lost = False
        self._keepalive = asyncio.get_running_loop().create_task(self._keep_alive())
        base = self.settings.get("fapi_private_ws_url", DEFAULT_FAPI_PRIVATE_WS_URL)
        return f"{base}?{urlencode({'listenKey': key, 'events': 'ORDER_TRADE_UPDATE'}, safe='/')}"

    async def _keep_alive(self) -> None:
        """``PUT /fapi/v1/listenKey`` every ``keepalive_s`` while this key is in use; a refused one
        (-1125: the key is gone) ends the session at its next message, a network failure is tried
        again at the next turn (the key has 60 minutes)."""
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                await self.futures.keepalive_listen_key()
            except NetworkError as exc:
                log.warning("binance USD-M listenKey keepalive failed: %s", exc)
            except SequenceError as exc:
                log.warning("binance USD-M listenKey keepalive refused: %s; reconnecting with a new key", exc)
                self._key_lost = True
                return

    async def _stop_keepalive(self) -> None:
        task, self._keepalive = self._keepalive, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def parse(self, message, instruments) -> list:
        if isinstance(message, dict) and isinstance(message.get("data"), dict):
            message = message["data"]                # /stream mode: {"stream", "data"}
        if not isinstance(message, dict):
            return []
        if message.get("e") == "listenKeyExpired" or self._key_lost:
            raise NetworkError("binance USD-M listenKey expired; reconnecting with a new one")
        if message.get("e") != "ORDER_TRADE_UPDATE":
            return []
        return [futures_state(message, instruments.get(message["o"]["s"] + PERP_SUFFIX))]

    async def close(self) -> None:
        """The keepalive stops; the REST client is the session's (it closes it)."""
        await self._stop_keepalive()
