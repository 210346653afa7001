"""The paper venue used in sandbox mode."""

import os
import time

from sequence_core.home import ensure_home
from sequence_core.venues import Heartbeat, Venue


class SimVenue(Venue):
    name = "sim"
    title = "Sandbox paper venues"
    sandbox_only = True
    credential_fields = ()

    def paper_market(self, source):
        """``source`` as the paper venues' trades leave it: what their takers took is gone
        from the books until the source refreshes those levels. Give this one source to
        routing and to every :meth:`paper_session`, so both see the same books."""
        from .paper import PaperMarket

        return source if isinstance(source, PaperMarket) else PaperMarket(source)

    def paper_session(self, venue, source):
        """An execution session for ``venue``'s paper account, matched against ``source``
        (best the :meth:`paper_market` that routing reads)."""
        from .paper import PaperExchange, PaperSession

        if self._exchange is None:
            folder = ensure_home() / "sandbox"
            folder.mkdir(mode=0o700, exist_ok=True)
            self._exchange = PaperExchange(folder / "paper.db")
        return PaperSession(venue, self._exchange, source, getattr(source, "seed", 42))

    _exchange = None

    async def heartbeat(self, credentials, config):
        """The paper venue is up when its sandbox folder exists and is writable."""
        folder = ensure_home() / "sandbox"
        if folder.exists() and not folder.is_dir():
            return Heartbeat("down", detail=f"{folder} is not a folder")
        folder.mkdir(mode=0o700, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return Heartbeat("down", detail=f"{folder} is not writable")
        return Heartbeat("ok", checked_at_ns=time.time_ns(), detail=f"paper accounts in {folder}")
