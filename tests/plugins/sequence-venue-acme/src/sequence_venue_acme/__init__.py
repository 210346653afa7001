"""A minimal third-party venue: proves a pip-installed plugin works with no core change.

It asks for one field of each kind, and its heartbeat calls ``GET <base_url>/ping`` with
the API key in a header (the test suite runs that server on 127.0.0.1).
"""

import time
from decimal import Decimal as D

from sequence_core.hookspecs import hookimpl
from sequence_core.market import FeeSchedule, FeeTier, Instrument
from sequence_core.venues import CredentialField, Heartbeat, Venue


def _spot(venue, base, quote, tick, lot, min_notional="1"):
    return Instrument(venue, f"{base}-{quote}", f"{base}{quote}", "crypto", base, quote, D(tick), D(lot), D(min_notional))


class AcmeVenue(Venue):
    name = "acme"
    title = "Acme Exchange (test plugin)"
    credential_fields = (
        CredentialField("api_key", "API key", kind="text", secret=False),
        CredentialField("api_secret", "API secret", kind="secret"),
        CredentialField("private_key", "Signing key PEM", kind="pem"),
        CredentialField("wallet_key", "EVM wallet private key", kind="evm_private_key", optional=True),
        CredentialField("wallet_address", "EVM address", kind="evm_address", secret=False, optional=True),
        CredentialField("sol_keypair", "Solana keypair", kind="solana_keypair", optional=True),
    )

    def instruments(self):
        return [
            _spot("acme", "BTC", "USD", "0.01", "0.0001"),
            _spot("acme", "BTC", "USDT", "0.1", "0.001"),
            _spot("acme", "ETH", "USD", "0.01", "0.001"),
            Instrument("acme", "KXTEST-26DEC31-T1", "KXTEST-26DEC31-T1", "event_contract", "KXTEST-26DEC31-T1", "USD",
                       D("0.01"), D("1"), outcome="YES"),
            Instrument("acme", "KXTEST-26DEC31-T1", "KXTEST-26DEC31-T1", "event_contract", "KXTEST-26DEC31-T1", "USD",
                       D("0.01"), D("1"), outcome="NO"),
        ]

    def fee_schedule(self):
        return FeeSchedule("acme", (FeeTier("tier 0", D("0.001"), D("0.002")),), "https://acme.example/fees", "2026-11-24")

    async def heartbeat(self, credentials, config):
        base = config.get("base_url")
        if not base:
            return None
        import aiohttp

        start = time.perf_counter()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            async with http.get(f"{base}/ping", headers={"X-ACME-KEY": credentials.get("api_key", "")}) as resp:
                if resp.status != 200:
                    return Heartbeat("down", detail=f"HTTP {resp.status}")
        return Heartbeat("ok", checked_at_ns=time.time_ns(), latency_ms=(time.perf_counter() - start) * 1000)


class ZetaVenue(Venue):
    """A second venue so cross-venue behaviour (NBBO, USD-family merging) can be tested.
    It publishes no fee data, which `sequence fees` must show as a dash."""

    name = "zeta"
    credential_fields = (CredentialField("api_key", "API key", kind="text", secret=False),)

    def instruments(self):
        return [_spot("zeta", "BTC", "USDC", "0.5", "0.01"),
                Instrument("zeta", "BTC-USDC-PERP", "BTC", "perp", "BTC", "USDC", D("1"), D("0.001"))]


class OmegaVenue(Venue):
    """A third venue with fees, so the SOR has somewhere to re-route when acme fails."""

    name = "omega"
    credential_fields = (CredentialField("api_key", "API key", kind="text", secret=False),)

    def instruments(self):
        return [_spot("omega", "BTC", "USD", "0.01", "0.0001")]

    def fee_schedule(self):
        return FeeSchedule("omega", (FeeTier("tier 0", D("0.002"), D("0.004")),), "https://omega.example/fees", "2026-11-24")


@hookimpl
def register_venues(register):
    register(AcmeVenue())
    register(ZetaVenue())
    register(OmegaVenue())
