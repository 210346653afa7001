"""Bitget v2 API.

Credentials (https://www.bitget.com/api-doc/common/signature): API key, secret and the
passphrase set at key creation. Headers ``ACCESS-KEY``, ``ACCESS-SIGN`` =
base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + "?" + query + body)),
``ACCESS-TIMESTAMP`` (ms) and ``ACCESS-PASSPHRASE``.
Symbols: ``BTCUSDT`` for spot and for USDT-M futures (``productType=USDT-FUTURES``); the
perpetuals carry ``_UMCBL`` here (symbols.py). Spot and USDT-M perpetuals (BTC, ETH, SOL;
one-way mode, cross margin, USDT margin) trade live; see execution.py.

API generations (checked 2026-12-07): the v1 API went offline on 2025-11-28
(https://www.bitget.com/support/articles/12560603838361, quoted in
https://github.com/sieblyio/bitget-api/issues/94); this plugin uses v2 only. v2 is the API of
the Classic account, which Bitget's docs call "in maintenance mode" receiving "only essential
updates", recommending the Unified Trading Account (UTA, the v3 API)
(https://www.bitget.com/api-doc/classic/intro); no date for retiring v2 or Classic accounts
was found announced. An account upgraded to UTA trades through v3: ``[venues.bitget]
account = "auto" | "classic" | "uta"`` (default auto: detected once, http.py) picks the API, and
uta.py trades a UTA (spot and USDT-M perps; its orders and fills pushed on the v3 private
websocket, stream.py).
"""

from sequence_core.venues import CredentialField, Venue


class BitgetVenue(Venue):
    name = "bitget"
    title = "Bitget"
    docs_url = "https://www.bitget.com/api-doc/common/intro"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "Secret key", kind="secret"),
        CredentialField("passphrase", "Passphrase (set when the key was created)", kind="passphrase"),
    )

    def execution_session(self, credentials, settings):
        from .execution import BitgetSession
        from .http import DEFAULT_BASE_URL, BitgetClient

        return BitgetSession(BitgetClient(credentials["api_key"], credentials["api_secret"], credentials["passphrase"],
                                          settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        from .feed import BitgetFeed

        return BitgetFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """GET /api/v2/public/time, with credentials the signed assets (v2 spot, or v3 for a
        unified account), and the websocket."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, BitgetClient
        from .symbols import INSTRUMENTS

        client = BitgetClient(credentials.get("api_key", ""), credentials.get("api_secret", ""),
                              credentials.get("passphrase", ""), config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                if credentials.get("api_secret"):
                    uta = await client.account_mode(config.get("account", "auto")) == "uta"
                    await (client.uta_assets() if uta else client.assets())
            finally:
                await client.close()
        return await probe(calls, "time + signed assets", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
