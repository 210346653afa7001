"""Coinbase Advanced Trade API (https://docs.cdp.coinbase.com/advanced-trade/docs/welcome).

Credentials (https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication):
a CDP API key: its name ``organizations/{org_id}/apiKeys/{key_id}`` and its private key, an
ECDSA P-256 "EC PRIVATE KEY" PEM (ES256) or an Ed25519 key (EdDSA), which the CDP portal shows
as base64 (64 bytes, seed + public key); that form is stored here as a PKCS#8 PEM. Each
request carries ``Authorization: Bearer <JWT>`` signed with the key (signing.py): ``kid`` and
``sub`` the key name, ``iss`` "cdp", ``nbf``/``exp`` 120 s apart, ``uri`` "<METHOD>
api.coinbase.com<path>" and a random ``nonce`` header; the ``user`` websocket channel
(stream.py) takes the same JWT without ``uri`` in each subscribe.
Symbols: ``BTC-USD`` product ids (canonical names equal). Product fields ``price_increment``
(tick), ``base_increment`` (lot), ``quote_min_size`` (min notional), ``base_min_size``.
"""

from sequence_core.errors import CredentialError
from sequence_core.venues import CredentialField, Venue


class CoinbaseVenue(Venue):
    name = "coinbase"
    title = "Coinbase Advanced Trade"
    docs_url = "https://docs.cdp.coinbase.com/advanced-trade/docs/welcome"
    credential_fields = (
        CredentialField("api_key_name", "API key name (organizations/.../apiKeys/...)", kind="text", secret=False),
        CredentialField("private_key", "API private key (EC PEM, or the Ed25519 key as CDP shows it)", kind="pem"),
    )
    pem_key_types = ("ec", "ed25519")

    def execution_session(self, credentials, settings):
        from .execution import CoinbaseSession
        from .http import DEFAULT_BASE_URL, CoinbaseClient

        return CoinbaseSession(CoinbaseClient(credentials["api_key_name"], credentials["private_key"],
                                              settings.get("base_url", DEFAULT_BASE_URL)), settings)

    def market_data(self, settings):
        from .feed import CoinbaseFeed

        return CoinbaseFeed(dict(settings))

    async def heartbeat(self, credentials, config):
        """GET /time, with credentials a signed GET /accounts, and the public websocket
        (subscribe one book, wait for the answer)."""
        from sequence_core.venues import probe

        from .http import DEFAULT_BASE_URL, CoinbaseClient
        from .symbols import INSTRUMENTS

        client = CoinbaseClient(credentials.get("api_key_name", ""), credentials.get("private_key", ""),
                                config.get("base_url", DEFAULT_BASE_URL), timeout_s=4)

        async def calls():
            try:
                await client.server_time_ms()
                if credentials.get("private_key"):
                    await client.accounts()
            finally:
                await client.close()
        return await probe(calls, "time + signed accounts", self.market_data(config), INSTRUMENTS[0])

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def validate_credentials(self, creds):
        clean = dict(creds)
        key = (clean.get("private_key") or "").strip()
        if key and "-----BEGIN" not in key:
            clean["private_key"] = ed25519_pem(key)
        clean = super().validate_credentials(clean)
        name = clean["api_key_name"]
        if not (name.startswith("organizations/") and "/apiKeys/" in name):
            raise CredentialError("api_key_name: expected the CDP key name, organizations/<org id>/apiKeys/<key id>")
        return clean


def ed25519_pem(secret: str) -> str:
    """A CDP Ed25519 secret (base64 of 64 or 32 bytes) as a PKCS#8 PEM; the error never shows it."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from .signing import load_key

    try:
        key = load_key(secret)
    except ValueError as exc:
        raise CredentialError(f"{exc} (expected an EC PEM or the base64 Ed25519 key from the CDP portal)") from None
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
