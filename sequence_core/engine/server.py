"""The engine's HTTP API on 127.0.0.1, authenticated with a bearer token.

The token is the user's ``seq_`` key from ``sequence login``, or, without a login, a
random local token; either way it is written to ``<home>/engine.json`` (0600 in the 0700
home), where the CLI reads it. Every route but /v1/health needs it. Errors come back as
``{"error": message, "type": SequenceError subclass}`` with HTTP 400/404.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from decimal import Decimal

import msgspec
from aiohttp import web

from .. import __version__
from ..errors import OrderNotFound, SequenceError, UsageError
from ..market import in_books
from ..orders import GRAPH_ACTIVE, OrderRequest
from . import promote_startup_objects
from .desk import Desk

_enc = msgspec.json.Encoder()


def _json(data, status: int = 200) -> web.Response:
    return web.Response(body=_enc.encode(data), status=status, content_type="application/json")


class Engine:
    def __init__(self, token: str):
        self.token = token
        self.desks: dict[str, Desk] = {}
        self.unavailable: dict[str, str] = {}     # mode -> why its desk could not start (recover_all)
        self.started_ns = time.time_ns()
        self.stopping = asyncio.Event()
        self.supervisors: dict = {}

    def supervisor(self, mode: str):
        from ..home import ensure_home
        from .supervisor import Supervisor

        if mode not in ("live", "sandbox"):
            raise UsageError(f"unknown mode '{mode}'")
        if mode not in self.supervisors:
            self.supervisors[mode] = Supervisor(ensure_home(), mode)
        return self.supervisors[mode]

    async def start_deployments(self) -> None:
        """After engine.json is published: run or adopt the edges of running deployments."""
        from ..deploy import registry
        from ..home import ensure_home

        for mode in ("sandbox", "live"):
            if any(d.state == "running" for d in registry.all_deployments(ensure_home(), mode)):
                try:
                    await self.desk(mode)
                    await self.supervisor(mode).recover()
                except SequenceError:
                    logging.getLogger("sequence.engine").exception("cannot resume the %s deployments", mode)

    async def desk(self, mode: str) -> Desk:
        if mode not in ("live", "sandbox"):
            raise UsageError(f"unknown mode '{mode}'")
        if mode not in self.desks:
            desk = Desk(mode == "sandbox")
            await desk.start()
            self.desks[mode] = desk
            self.unavailable.pop(mode, None)
            promote_startup_objects()        # the desk's plugins, instruments and books live as long
        return self.desks[mode]

    async def recover_all(self) -> None:
        """Resume unfinished graphs of both modes right away, not at the next request."""
        from ..ledger import ledger_path

        for mode in ("sandbox", "live"):
            if ledger_path(mode == "sandbox").exists():
                try:
                    await self.desk(mode)
                except SequenceError as exc:
                    # e.g. live without a market-data source: recovered when first used. Said by
                    # `engine status` meanwhile: an unusable journal read as a healthy engine
                    self.unavailable[mode] = str(exc)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth, self._errors], client_max_size=1 << 20)
        r = app.router
        r.add_get("/v1/health", self.health)
        r.add_get("/v1/status", self.status)
        r.add_post("/v1/shutdown", self.shutdown)
        r.add_post("/v1/{mode}/orders", self.submit)
        r.add_get("/v1/{mode}/orders", self.orders)
        r.add_get("/v1/{mode}/orders/{graph_id}", self.order)
        r.add_post("/v1/{mode}/orders/{graph_id}/end", self.end_parent)
        r.add_post("/v1/{mode}/cancel", self.cancel)
        r.add_post("/v1/{mode}/amend", self.amend)
        r.add_get("/v1/{mode}/fills", self.fills)
        r.add_post("/v1/{mode}/redeem", self.redeem)
        r.add_get("/v1/{mode}/events", self.events)
        r.add_get("/v1/{mode}/deployments", self.deployments)
        r.add_get("/v1/{mode}/deployments/{name}/edges/{edge}/journal", self.deployment_journal)
        r.add_post("/v1/{mode}/deployments/{name}/start", self.deployment_start)
        r.add_post("/v1/{mode}/deployments/{name}/stop", self.deployment_stop)
        return app

    @web.middleware
    async def _auth(self, request, handler):
        if request.path != "/v1/health":
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return _json({"error": "engine authentication failed (wrong or missing key)", "type": "AuthenticationError"}, 401)
        return await handler(request)

    @web.middleware
    async def _errors(self, request, handler):
        try:
            return await handler(request)
        except OrderNotFound as exc:
            return _json({"error": str(exc), "type": type(exc).__name__}, 404)
        except SequenceError as exc:
            return _json({"error": str(exc), "type": type(exc).__name__}, 400)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return _json({"error": f"bad request: {exc}", "type": "UsageError"}, 400)
        except (TimeoutError, asyncio.TimeoutError):
            # a venue call bounded by SEND_TIMEOUT_S ran out (aiohttp would answer a bare 504):
            # what was asked may still complete; the journal says where the order stands
            return _json({"error": f"the engine's call to the venue timed out during {request.method} {request.path}; "
                                   "the request may still complete: `sequence orders` shows where it stands",
                          "type": "NetworkError"}, 504)

    # -- routes --------------------------------------------------------------------------------
    async def health(self, request):
        return _json({"ok": True, "version": __version__, "pid": os.getpid()})

    async def status(self, request):
        desks = {}
        for mode, d in self.desks.items():
            desks[mode] = {"working_graphs": len(d.runtimes), "running_policies": len(d.runners),
                           "venues": sorted(d.sessions), "source": d.source.label(), "journal": d.journal.health,
                           "sockets": d.sockets()}
        return _json({"version": __version__, "pid": os.getpid(), "started_ns": self.started_ns,
                      "uptime_s": round((time.time_ns() - self.started_ns) / 1e9, 1), "desks": desks,
                      "unavailable": dict(self.unavailable)})

    async def shutdown(self, request):
        self.stopping.set()
        return _json({"stopping": True})

    async def submit(self, request):
        desk = await self.desk(request.match_info["mode"])
        body = msgspec.json.decode(await request.read(), type=SubmitBody)
        rt = await desk.place(body.request, body.wait_s)
        return _json(self._detail(desk, rt.graph.graph_id))

    def _detail(self, desk: Desk, graph_id: str) -> dict:
        graph = desk.journal.graph(graph_id)
        if graph is None:
            raise OrderNotFound(f"unknown order '{graph_id}'")
        events = desk.journal.events(graph_id)
        routing = [e.detail for e in events if e.kind == "sor_decision"]
        return {"graph": graph, "nodes": desk.journal.nodes(graph_id), "fills": desk.journal.fills(graph_id=graph_id),
                "routing": routing, "events": events}

    async def orders(self, request):
        """Orders, newest first, filtered before they are counted: ``symbol`` (the books it
        names), ``status`` (``active``: still working; or statuses, comma-separated), ``origin``
        (a deployed edge's orders), ``handler`` (the parents handed to one); ``limit`` N keeps
        the newest N (default: every one)."""
        desk = await self.desk(request.match_info["mode"])
        q = request.query
        keep = None
        if q.get("symbol"):
            import functools

            books = _books(desk, q["symbol"])
            trades = functools.cache(lambda s: _books(desk, s, strict=False, traded=True))   # once per symbol, not per order
            keep = lambda g: bool(books & trades(g.request.symbol))  # noqa: E731
        graphs = desk.journal.graphs(statuses=_statuses(q.get("status")), limit=_limit(q), origin=q.get("origin"),
                                     handler=q.get("handler"), keep=keep)
        return _json([{"graph": g, "nodes": desk.journal.nodes(g.graph_id)} for g in graphs])

    async def order(self, request):
        desk = await self.desk(request.match_info["mode"])
        return _json(self._detail(desk, request.match_info["graph_id"]))

    async def end_parent(self, request):
        """A deployed strategy is done with a parent order handed to it (``parent_done``)."""
        desk = await self.desk(request.match_info["mode"])
        body = msgspec.json.decode(await request.read(), type=EndBody)
        graph = desk.end_parent(request.match_info["graph_id"], body.origin)
        return _json({"graph_id": graph.graph_id, "filled_qty": graph.filled_qty})

    async def cancel(self, request):
        desk = await self.desk(request.match_info["mode"])
        body = msgspec.json.decode(await request.read(), type=IdBody)
        return _json(await desk.cancel(body.id))

    async def amend(self, request):
        desk = await self.desk(request.match_info["mode"])
        body = msgspec.json.decode(await request.read(), type=AmendBody)
        return _json(await desk.amend(body.id, body.price, body.qty, body.by))

    async def events(self, request):
        """The lifecycle event stream as a long poll: events after ``after`` (an event id),
        waiting up to ``wait`` seconds (max 30) for the first one. Clients resume from the
        last id they saw, so nothing is missed across reconnects or engine restarts."""
        desk = await self.desk(request.match_info["mode"])
        try:
            after = int(request.query.get("after", "0"))
            wait = min(float(request.query.get("wait", "0")), 30.0)
        except ValueError:
            raise UsageError("after must be an event id and wait a number of seconds") from None
        await desk.journal.durable()
        found = desk.journal.events_after(after)
        if not found and wait > 0:
            queue: asyncio.Queue = asyncio.Queue(maxsize=1)
            desk.listeners.add(queue)
            try:
                await asyncio.wait_for(queue.get(), wait)
            except (TimeoutError, asyncio.TimeoutError):
                pass
            finally:
                desk.listeners.discard(queue)
            await desk.journal.durable()
            found = desk.journal.events_after(after)
        return _json({"events": [{"id": i, **msgspec.structs.asdict(e)} for i, e in found],
                      "last_id": found[-1][0] if found else after})

    async def redeem(self, request):
        desk = await self.desk(request.match_info["mode"])
        body = msgspec.json.decode(await request.read(), type=RedeemBody)
        return _json(await desk.redeem(body.symbol, body.venue))

    async def fills(self, request):
        """Fills, newest first, filtered before they are counted: ``symbol``, ``origin`` (a
        deployed edge's); ``limit`` N keeps the newest N (default: every one)."""
        desk = await self.desk(request.match_info["mode"])
        q = request.query
        keep = None
        if q.get("symbol"):
            books = _books(desk, q["symbol"])
            keep = lambda f: in_books(books, f.venue, f.symbol, f.outcome)  # noqa: E731
        return _json(desk.journal.fills(limit=_limit(q), origin=q.get("origin"), keep=keep))

    async def deployments(self, request):
        from ..deploy import registry
        from ..home import ensure_home

        mode, home = request.match_info["mode"], ensure_home()
        sup = self.supervisor(mode)
        out = []
        for dep in registry.all_deployments(home, mode):
            edges = [{"label": e.label, "venues": e.venues, "supervisor": sup.record(dep.name, e.label),
                      "status": registry.status(home, mode, dep.name, e.label)} for e in dep.edges]
            out.append({"deployment": dep, "edges": edges})
        return _json(out)

    async def deployment_journal(self, request):
        """What the journal holds for one edge of a deployment, without a cap: its orders and
        fills summed per book (a restarted edge's position, cash and counts), its working
        orders and the working parents handed to it (what it adopts)."""
        mode, name, label = request.match_info["mode"], request.match_info["name"], request.match_info["edge"]
        desk = await self.desk(mode)
        origin = f"deploy:{name}/{label}"
        working = desk.journal.graphs(statuses=GRAPH_ACTIVE, origin=origin)
        return _json({**desk.journal.origin_totals(origin),
                      "working": [{"graph": g, "nodes": desk.journal.nodes(g.graph_id)} for g in reversed(working)],
                      "parents": list(reversed(desk.journal.graphs(statuses=GRAPH_ACTIVE, handler=origin)))})

    async def deployment_start(self, request):
        mode, name = request.match_info["mode"], request.match_info["name"]
        await self.desk(mode)
        await self.supervisor(mode).start(name)
        return _json({"started": name})

    async def deployment_stop(self, request):
        mode, name = request.match_info["mode"], request.match_info["name"]
        await self.supervisor(mode).stop(name)
        return _json({"stopped": name})


def _limit(query) -> int | None:
    """A listing's ``limit``: the newest N after its filters (absent or 0: every one)."""
    try:
        n = int(query.get("limit") or 0)
    except ValueError:
        n = -1
    if n < 0:
        raise UsageError(f"limit must be a whole number of rows, 0 for all (got '{query.get('limit')}')")
    return n or None


def _statuses(given: str | None) -> tuple[str, ...] | None:
    """A listing's ``status``: ``active`` (still working) or statuses, comma-separated."""
    if not given:
        return None
    if given == "active":
        return GRAPH_ACTIVE
    return tuple(s.strip().upper() for s in given.split(",") if s.strip())


def _books(desk: Desk, symbol: str, strict: bool = True, traded: bool = False) -> set[tuple[str, str, str | None]]:
    """(venue, book, outcome) a symbol names (a bare ticker: both outcomes), or with *traded*
    what an order for it trades (a bare ticker: YES); unknown symbols are an error unless not
    strict."""
    from ..market import symbol_books

    return symbol_books(symbol, [i for v in desk.venues.values() for i in v.instruments()], traded, strict)


class SubmitBody(msgspec.Struct):
    request: OrderRequest
    wait_s: float = 5.0


class IdBody(msgspec.Struct):
    id: str


class EndBody(msgspec.Struct):
    origin: str


class RedeemBody(msgspec.Struct):
    symbol: str
    venue: str


class AmendBody(msgspec.Struct):
    id: str
    price: Decimal | None = None
    qty: Decimal | None = None
    by: Decimal | None = None
