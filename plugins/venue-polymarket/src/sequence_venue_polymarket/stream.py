"""Polymarket private websocket: the CLOB ``user`` channel pushes our orders and trades.

Sources: https://docs.polymarket.com/market-data/websocket/user-channel, the AsyncAPI at
https://docs.polymarket.com/api-reference/wss/user (``asyncapi-user.json``), the overview
https://docs.polymarket.com/market-data/websocket/overview, and the official clients
(Polymarket/py-sdk ``streams/clob``, Polymarket/rs-clob-client ``src/ws``).

- URL ``wss://ws-subscriptions-clob.polymarket.com/ws/user`` (setting ``private_ws_url``, else the
  ``/ws/user`` sibling of ``ws_url``, the market channel).
- One subscribe message carries the L2 API credentials in clear, unsigned:
  ``{"auth": {"apiKey", "secret", "passphrase"}, "type": "user"}``. ``markets`` (condition ids)
  only filters ("Optionally filter by market condition IDs"; py-sdk leaves the key out to get
  every market), so it is left out: an order on a market resolved after connecting is pushed too.
- The channel acknowledges nothing: an accepted key gets no answer (NautilusTrader's adapter
  takes the first pushed event as the proof), and a refused one gets no message either, the
  server drops the connection (users report "Connection to remote host was lost" and
  "ResetWithoutClosingHandshake": Polymarket/py-clob-client#204, Polymarket/rs-clob-client#218).
  So the login here is the subscribe followed by ``PING``: the ``PONG`` (or a pushed event; one
  that arrives first is read by the catch-up poll after every connect) means accepted. A socket
  that drops before it is reported by the runner as closed during login; the next connect then
  asks the CLOB (signed ``GET /balance-allowance``) whether it still takes this API key, and a
  refusal there is the login error (in the venue's words, never the credentials).
- Keepalive: the text ``PING`` every 10 s, answered ``PONG`` (overview; py-sdk's CLOB heartbeat).
- Messages (one object or a list), by ``event_type``:
  ``order``: ``type`` PLACEMENT / UPDATE / CANCELLATION, ``id`` (the order hash), ``asset_id``,
  ``market``, ``side``, ``price``, ``original_size``, ``size_matched`` (cumulative), ``status``
  (LIVE, MATCHED, CANCELED, ``CANCELED_<reason>``, INVALID), ``order_type``, ``created_at``; read
  by ``execution.order_state`` as a poll reads ``GET /data/order``.
  ``trade``: ``id``, ``taker_order_id``, ``maker_orders`` [{``order_id``, ``matched_amount``,
  ``price``, ``asset_id``, ...}], ``asset_id``, ``market``, ``side``, ``size``, ``price``,
  ``status`` (MATCHED, then MINED, CONFIRMED, RETRYING or FAILED), ``match_time`` (``matchtime``
  in one docs example), ``trader_side``, ``fee_rate_bps`` (V1; V2 fees follow the market's ``fd``).
- Fills: a trade is pushed again at each status change. Its fills are what ``execution.fills_of``
  reads from the same trade in ``GET /data/trades``, so the ids agree (the trade id for our
  taker order; trade id + ":" + our order id's first 18 characters for a maker order), counted
  from the first push that is not FAILED, as the poll counts MATCHED, MINED, CONFIRMED and
  RETRYING; the later pushes repeat that fill id and the engine records it once. A FAILED push
  carries no fill. A taker fill's fee comes from the market's ``fd``, which the session reads
  over REST: until it has, that fill is held back and the state's ``filled_qty`` (this trade's
  size, a lower bound) makes the engine read the order and its fills over REST at once.
- Orders are ours when their id is in the signed-order log (``orders.jsonl``, written before
  an order is sent), so a push for an order whose POST answer was lost is still mapped back to
  the engine's client order id; anyone else's order in a trade is ignored.
"""

from __future__ import annotations

from decimal import Decimal

from sequence_core.errors import AuthenticationError
from sequence_core.execution import OrderState
from sequence_core.userstream import UserStream

from .execution import fills_of, order_state

DEFAULT_PRIVATE_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/user"


def private_url(settings: dict) -> str:
    """``private_ws_url`` if set, else the user channel beside the market channel ``ws_url``."""
    if settings.get("private_ws_url"):
        return settings["private_ws_url"]
    public = settings.get("ws_url", "")
    return public.removesuffix("/market") + "/user" if public.endswith("/ws/market") else DEFAULT_PRIVATE_WS_URL


def _events(message) -> list:
    items = message if isinstance(message, list) else [message]
    return [m for m in items if isinstance(m, dict) and m.get("event_type") in ("order", "trade")]


class PolymarketUserStream(UserStream):
    venue = "polymarket"
    heartbeat_s = 10.0

    def __init__(self, session, settings: dict):
        self.session, self.settings = session, settings
        self._unanswered = False          # the last login's socket closed before any answer

    async def url(self) -> str:
        await self.session.client.ensure_creds()       # derived from the signer key on first use
        if self._unanswered:
            await self._check_key()
        return private_url(self.settings)

    async def _check_key(self) -> None:
        """The channel drops a refused key without a word: ask the CLOB whether it takes it."""
        try:
            await self.session.client.collateral()
        except AuthenticationError as exc:
            said = str(exc).split(": ", 1)[-1]           # the venue's words, never the credentials
            raise AuthenticationError(f"polymarket refused the private websocket login: check the API key "
                                      f"(the CLOB answers {said})") from None

    def login(self) -> list:
        c = self.session.client.creds
        self._unanswered = True
        return [{"auth": {"apiKey": c.api_key, "secret": c.secret, "passphrase": c.passphrase}, "type": "user"}, "PING"]

    def logged_in(self, message):
        if message == "PONG" or _events(message):
            self._unanswered = False
            return True
        return None

    def ping(self):
        return "PING"

    def parse(self, message, instruments) -> list:
        out = []
        for event in _events(message):
            out += self._order(event) if event["event_type"] == "order" else self._trade(event, instruments)
        return out

    def _order(self, o: dict) -> list:
        rec = self.session.record_of(o.get("id"))
        if rec is None:
            return []
        if o.get("type") == "CANCELLATION" and not o.get("status"):
            o = {**o, "status": "CANCELED"}
        return [order_state(rec.client_order_id, o, (), rec.order_type)]

    def _trade(self, t: dict, instruments) -> list:
        if str(t.get("status", "")).upper() == "FAILED":
            return []                                   # never a fill, as in the poll
        t = {**t, "match_time": t.get("match_time") or t.get("matchtime")}
        ids = [t.get("taker_order_id")] + [m.get("order_id") for m in t.get("maker_orders") or []]
        fd = self.session.known_fee_details(str(t.get("market", "")))
        out = []
        for oid in dict.fromkeys(str(i).lower() for i in ids if i):
            rec = self.session.record_of(oid)
            if rec is None:
                continue                                # someone else's side of the trade
            inst = instruments.get(rec.token_id)
            fills = fills_of({"id": rec.order_id}, [t], inst.quote if inst is not None else "USDC", fd)
            # a taker fee needs the market's fd: without it the fill waits for the poll
            kept = tuple(f for f in fills if fd is not None or f.liquidity == "maker" or t.get("fee") not in (None, ""))
            if fills:
                # a trade says nothing of the order's status ("NEW" never overrides one the engine knows)
                out.append(OrderState(rec.client_order_id, rec.order_id, "NEW", sum((f.qty for f in fills), Decimal(0)), kept))
        return out
