"""The venue REST client (sequence_core/rest.py) sends what the adapter built and signed."""

from __future__ import annotations

import asyncio

from aiohttp import web

from sequence_core.rest import RestClient
from sequence_core.testing import local_server


def test_a_query_is_sent_exactly_as_built_and_signed():
    # venues sign the query string byte for byte; a cursor a venue sent percent-encoded
    # (Bybit's "21963%3A1%2C14954%3A1") must not reach it decoded
    query = "cursor=21963%253A1%252C14954%253A1&path=a%2Fb&at=10%3A00&signature=abc"

    async def go():
        seen = []

        async def echo(request):
            seen.append(request.raw_path.partition("?")[2])      # as it came over the wire
            return web.json_response({"ok": True})

        app = web.Application()
        app.router.add_get("/v1/x", echo)
        async with local_server(app) as port:
            client = RestClient(f"http://127.0.0.1:{port}", "acme")
            try:
                return await client.request("GET", "/v1/x", query=query, idempotent=True), seen
            finally:
                await client.close()

    answer, seen = asyncio.run(go())
    assert answer == {"ok": True} and seen == [query]
