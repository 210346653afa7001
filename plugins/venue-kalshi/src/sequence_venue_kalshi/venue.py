"""Kalshi Trade API v2 (event contracts).

Credentials (https://docs.kalshi.com/getting_started/api_keys): an API key id and its
private key (PEM). Requests carry ``KALSHI-ACCESS-KEY`` (key id), ``KALSHI-ACCESS-TIMESTAMP``
(ms) and ``KALSHI-ACCESS-SIGNATURE`` = base64(RSA-PSS-SHA256 (MGF1-SHA256, salt length =
digest length) of timestamp + METHOD + path without query, the path including
``/trade-api/v2``). Kalshi also accepts Ed25519 keys (EdDSA over the same string); see
signing.py. Hosts: ``https://external-api.kalshi.com/trade-api/v2`` and
``wss://external-api-ws.kalshi.com/trade-api/ws/v2`` (recommended; the older
``api.elections.kalshi.com`` still works), set ``base_url``/``ws_url`` under
``[venues.kalshi]`` for demo; the private order/fill stream uses ``ws_url`` too (Kalshi serves
both on one socket; ``private_ws_url`` overrides it, see stream.py). Order
create/cancel/amend/decrease use the V2 ``/portfolio/events/orders`` family (YES-book
``bid``/``ask`` with YES prices); the legacy ``/portfolio/orders`` writes are deprecated from
2026-05-06 (execution.py).
Tickers: ``KXBTCZ-26DEC31-T99000`` with ``:YES``/``:NO``; prices in dollars, tick $0.01 on
``linear_cent`` markets (https://docs.kalshi.com/getting_started/fixed_point_migration).
Redeem: Kalshi settles resolved markets itself (``auto_settlement``); nothing is sent.
Fees follow each market's series terms (fees.py), with no I/O here: before admitting a live
order the engine awaits ``KalshiSession.prepare`` (execution.py), which reads the market's
terms from Kalshi through the session's client (market -> event -> series, the event's
overrides on top) when unknown or older than an hour, and keeps them in ``fees.TERMS`` by
market ticker. ``fee()`` and ``fee_schedule_for()`` stay synchronous and only look there, else
use the general schedule. Live ``fees`` and ``preview()`` prepare the markets they show first
(``fees_by_market``); the sandbox never reads Kalshi and keeps the general schedule. A ``flat`` series with a
non-zero multiplier has no published formula: it is estimated with the general schedule (the
fill reports what was charged). A failed read is not tried again for ``fees.RETRY_S``.
"""

from sequence_core.venues import CredentialField, Venue


def stored_credentials() -> dict:
    """The connected key, for the websocket handshake: ``market_data`` gets settings only,
    and Kalshi signs its websocket like a REST call. Never prompts (an encrypted store
    without SEQUENCE_PASSPHRASE gives none, and the feed falls back to REST books)."""
    try:
        from sequence_core.credentials import CredentialStore

        found = CredentialStore().get("kalshi", ["key_id", "private_key"])
    except Exception:  # noqa: BLE001 - no usable store: public REST books only
        return {}
    return found[0] if found else {}


class KalshiVenue(Venue):
    name = "kalshi"
    title = "Kalshi"
    docs_url = "https://docs.kalshi.com/"
    credential_fields = (
        CredentialField("key_id", "API key id", kind="text", secret=False),
        CredentialField("private_key", "Private key (PEM: RSA or Ed25519)", kind="pem"),
    )
    pem_key_types = ("rsa", "ed25519")

    def execution_session(self, credentials, settings):
        from .execution import KalshiSession
        from .http import DEFAULT_BASE_URL, KalshiClient

        return KalshiSession(KalshiClient(credentials["key_id"], credentials["private_key"],
                                          settings.get("base_url", DEFAULT_BASE_URL), tier=settings.get("tier", "basic")),
                             settings)

    def market_data(self, settings, credentials=None):
        from .feed import KalshiFeed

        return KalshiFeed(dict(settings), credentials if credentials is not None else stored_credentials())

    async def heartbeat(self, credentials, config):
        """GET /exchange/status, with credentials a signed GET /portfolio/balance, and the
        websocket (signed handshake, subscribe one book, wait for the answer)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, KalshiClient
        from .symbols import INSTRUMENTS

        client = KalshiClient(credentials.get("key_id", ""), credentials.get("private_key", ""),
                              config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.exchange_status()
                if credentials.get("private_key"):
                    await client.balance()
            finally:
                await client.close()
        return await probe(calls, "exchange status + signed balance", self.market_data(config, dict(credentials)),
                           INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    fees_by_market = True            # each series sets its own terms (fees.py)

    def fee_schedule(self):
        """The general schedule."""
        from .fees import SCHEDULE

        return SCHEDULE

    def fee_schedule_for(self, instrument):
        """The market's series schedule as last prepared, else the general one."""
        from .fees import schedule_for, terms_for
        from .symbols import ticker_of

        return schedule_for(terms_for(ticker_of(instrument)))

    def fee(self, instrument, price, qty, liquidity):
        from .fees import series_fee, terms_for
        from .symbols import ticker_of

        return series_fee(price, qty, liquidity, terms_for(ticker_of(instrument)))
