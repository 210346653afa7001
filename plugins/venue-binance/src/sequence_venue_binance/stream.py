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
in ``N``, ``m`` maker, ``T`` time. The server pings; aiohttp answers the frames.

USD-M perp orders are not on this socket: their user data is a listenKey stream on another host
(``POST /fapi/v1/listenKey``, kept alive with ``PUT`` within 60 minutes, read at
``wss://fstream.binance.com/private/ws?listenKey=...&events=ORDER_TRADE_UPDATE`` since the
USD-M URL split; https://developers.binance.com/docs/derivatives/usds-margined-futures/
user-data-streams), and the engine runs one private stream per venue session
(``ExecutionSession.user_stream``). Perp orders are therefore polled: every 5 s while this spot
stream is live, 4 times a second otherwise; a MARKET or IOC perp order's fills come back with
its place (``newOrderRespType=RESULT`` then ``userTrades``).
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.execution import OrderState, VenueFill
from sequence_core.userstream import UserStream

from .execution import STATUS, _fee_in_quote
from .signing import signature

DEFAULT_WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
SUBSCRIBE_ID = "sequence-user-data"


def signed_params(api_key: str, secret: str, timestamp_ms: int) -> dict:
    params = {"apiKey": api_key, "timestamp": timestamp_ms}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": signature(secret, payload)}


def _state(e: dict, inst) -> OrderState:
    cid = e["C"] if e["X"] == "CANCELED" and e.get("C") else e["c"]
    fills = ()
    if e.get("x") == "TRADE" and inst is not None and Decimal(e["l"]):
        price = Decimal(e["L"])
        fee = _fee_in_quote(price, Decimal(e.get("n") or "0"), e.get("N") or "", inst)
        fills = (VenueFill(str(e["t"]), price, Decimal(e["l"]), fee, inst.quote, "maker" if e.get("m") else "taker",
                           int(e["T"]) * 1_000_000),)
    return OrderState(cid, str(e["i"]), STATUS.get(e["X"], "NEW"), Decimal(e["z"]), fills, reason="" if e.get("r") == "NONE" else e.get("r", ""),
                      price=Decimal(e["p"]) if Decimal(e.get("p") or "0") else None, qty=Decimal(e["q"]),
                      venue_ts_ns=int(e.get("T") or e["E"]) * 1_000_000)


class BinanceUserStream(UserStream):
    venue = "binance"

    def __init__(self, client, settings: dict):
        self.client, self.settings = client, settings

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
        if not isinstance(event, dict) or event.get("e") != "executionReport":
            return []
        return [_state(event, instruments.get(event["s"]))]
