"""Coinbase Advanced Trade API.

Credentials (https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication):
CDP API keys: a key name ``organizations/{org_id}/apiKeys/{key_id}`` and a private key
(ECDSA P-256 "EC PRIVATE KEY" PEM for ES256, or Ed25519 for newer keys). Each request
carries ``Authorization: Bearer <JWT>``: a JWT signed with the key (ES256 or EdDSA), with
``sub`` = key name, ``iss`` = "cdp", ``nbf``/``exp`` two minutes apart, ``uri`` =
"<METHOD> api.coinbase.com<path>" and a random ``nonce`` header.
Symbols: ``BTC-USD`` product ids (canonical names equal). Product fields
``quote_increment`` (tick), ``base_increment`` (lot), ``quote_min_size`` (min notional).
"""

from sequence_core.errors import CredentialError
from sequence_core.venues import CredentialField, Venue


class CoinbaseVenue(Venue):
    name = "coinbase"
    title = "Coinbase Advanced Trade"
    docs_url = "https://docs.cdp.coinbase.com/advanced-trade/docs/welcome"
    credential_fields = (
        CredentialField("api_key_name", "API key name (organizations/.../apiKeys/...)", kind="text", secret=False),
        CredentialField("private_key", "API private key (PEM)", kind="pem"),
    )
    pem_key_types = ("ec", "ed25519")

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def validate_credentials(self, creds):
        clean = super().validate_credentials(creds)
        name = clean["api_key_name"]
        if not (name.startswith("organizations/") and "/apiKeys/" in name):
            raise CredentialError("api_key_name: expected the CDP key name, organizations/<org id>/apiKeys/<key id>")
        return clean
