"""Solana swaps through an aggregator's quote + swap-transaction API (Jupiter).

Credentials: an ed25519 keypair (base58, as wallets export it, or the JSON array of 64
bytes that solana-keygen writes) and optionally a JSON-RPC URL. The aggregator returns a
serialized versioned transaction for a quote; we sign its message with the keypair,
submit with ``sendTransaction`` and confirm with ``getSignatureStatuses``.
Symbols: ``SOL-USDC`` (venue symbol: the two mints).
"""

from sequence_core.venues import CredentialField, Venue


class SolanaVenue(Venue):
    name = "solana"
    title = "Solana (DEX aggregator)"
    docs_url = "https://dev.jup.ag/docs/"
    credential_fields = (
        CredentialField("keypair", "Keypair (base58 or JSON array of 64 bytes)", kind="solana_keypair"),
        CredentialField("rpc_url", "Solana JSON-RPC URL", kind="url", secret=False, optional=True),
    )

    # symbols.py and fees.py load on first use: listing venues never needs them
    def instruments(self):
        from .symbols import INSTRUMENTS

        return list(INSTRUMENTS)

    def fee_schedule(self):
        from .fees import SCHEDULE

        return SCHEDULE
