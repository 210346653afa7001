"""Polymarket CLOB V2 (live since 2026-04-28).

Credentials (https://docs.polymarket.com/trading/overview): the EOA signer's private key
(L1: signs the EIP-712 ClobAuth message that creates or derives API credentials, and every
order as EIP-712 typed data for the CTF exchange, domain version "2"), the funder address
(the proxy wallet that holds funds, for signature types 1 POLY_PROXY and 2 GNOSIS_SAFE),
the signature type, and optional builder API credentials. L2 requests carry POLY_ADDRESS,
POLY_SIGNATURE (HMAC-SHA256), POLY_TIMESTAMP, POLY_API_KEY and POLY_PASSPHRASE.
Markets: a slug resolves to a condition id and one token id per outcome (Gamma API);
``minimum_tick_size`` 0.01 (or 0.001), ``minimum_order_size`` 5 shares; collateral pUSD.
"""

from sequence_core.errors import CredentialError
from sequence_core.venues import CredentialField, Venue


class PolymarketVenue(Venue):
    name = "polymarket"
    title = "Polymarket"
    docs_url = "https://docs.polymarket.com/"
    credential_fields = (
        CredentialField("private_key", "Signer private key (EVM, hex)", kind="evm_private_key"),
        CredentialField("funder", "Funder / proxy wallet address (types 1 and 2)", kind="evm_address", secret=False, optional=True),
        CredentialField("signature_type", "Signature type: 0 EOA, 1 POLY_PROXY, 2 GNOSIS_SAFE", kind="text", secret=False, optional=True),
        CredentialField("builder_api_key", "Builder API key", kind="text", secret=False, optional=True),
        CredentialField("builder_secret", "Builder API secret", kind="secret", optional=True),
        CredentialField("builder_passphrase", "Builder API passphrase", kind="passphrase", optional=True),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE

    def validate_credentials(self, creds):
        clean = super().validate_credentials(creds)
        kind = clean.get("signature_type", "0")
        if kind not in ("0", "1", "2"):
            raise CredentialError("signature_type: expected 0 (EOA), 1 (POLY_PROXY) or 2 (GNOSIS_SAFE)")
        if kind in ("1", "2") and "funder" not in clean:
            raise CredentialError("funder: required for signature types 1 and 2 (the proxy wallet holding your funds)")
        builder = [f for f in ("builder_api_key", "builder_secret", "builder_passphrase") if f in clean]
        if builder and len(builder) != 3:
            raise CredentialError("builder credentials need all three of builder_api_key, builder_secret, builder_passphrase")
        return clean

    def fee(self, instrument, price, qty, liquidity):
        from .fees import fee

        return fee(price, qty, liquidity)
