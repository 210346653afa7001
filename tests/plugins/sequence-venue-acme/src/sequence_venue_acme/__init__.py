"""A minimal third-party venue: proves a pip-installed plugin works with no core change.

It asks for one field of each kind, and its heartbeat calls ``GET <base_url>/ping`` with
the API key in a header (the test suite runs that server on 127.0.0.1).
"""

import time

from sequence_core.hookspecs import hookimpl
from sequence_core.venues import CredentialField, Heartbeat, Venue


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


@hookimpl
def register_venues(register):
    register(AcmeVenue())
