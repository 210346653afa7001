"""``python -m sequence_core.engine serve``: run the engine in the foreground.

One engine per home: it holds an exclusive lock on ``<home>/engine.lock`` for its life,
binds 127.0.0.1 on a free port, opens the edge channel (engine/channel.py) and publishes
``{pid, port, token, version, channel}`` in ``<home>/engine.json`` (0600). SIGTERM or
POST /v1/shutdown stops it cleanly.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import secrets
import signal
import sys
import time

import msgspec


def main(argv: list[str]) -> int:
    from aiohttp import web

    from .. import __version__
    from ..config import api_key
    from ..home import atomic_write, ensure_home
    from . import channel
    from .server import Engine

    if argv[:1] != ["serve"]:
        print("usage: python -m sequence_core.engine serve", file=sys.stderr)
        return 2
    home = ensure_home()
    (home / "logs").mkdir(mode=0o700, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    lock = os.open(home / "engine.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("Error: an engine is already running for this home", file=sys.stderr)
        return 1
    token = api_key() or "seq_local_" + secrets.token_urlsafe(24)
    engine = Engine(token)

    async def run() -> None:
        runner = web.AppRunner(engine.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", int(os.environ.get("SEQUENCE_ENGINE_PORT", "0")))
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        edges, edge_address = await channel.serve(engine, home)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stopping.set)
        await engine.recover_all()
        atomic_write(home / "engine.json", msgspec.json.encode(
            {"pid": os.getpid(), "port": port, "token": token, "version": __version__, "started_ns": time.time_ns(),
             "channel": edge_address}))
        logging.getLogger("sequence.engine").info("engine %s listening on 127.0.0.1:%d", __version__, port)
        await engine.start_deployments()
        await engine.stopping.wait()
        for sup in engine.supervisors.values():
            await sup.close()
        for desk in engine.desks.values():
            await desk.stop()
        edges.close()
        await runner.cleanup()

    try:
        asyncio.run(run())
    finally:
        try:
            info = msgspec.json.decode((home / "engine.json").read_bytes())
            if info.get("pid") == os.getpid():
                (home / "engine.json").unlink()
        except (OSError, msgspec.DecodeError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
