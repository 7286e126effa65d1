"""A Streamlit session without a browser: the app's own websocket protocol, spoken from Python.

A browser tab opens ``/_stcore/stream``, asks for a script run (a ``BackMsg`` carrying the page and its
query string) and reads ``ForwardMsg``s until the script has finished. This does the same and renders
nothing, so thirty of them measure the server, not thirty browsers sharing its cores
(scripts/view_cost.py, scripts/class_burst.py, and scripts/load_test.py's burst).

    async with ProtocolSession(base_url) as session:
        seconds = await session.open("gates", "run=pretrained&passage=0")   # one script run, to its end
        seconds = await session.open("gates", "run=pretrained&passage=1")   # the same session, a new run
"""

from __future__ import annotations

import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class ScriptFailed(RuntimeError):
    """The page's script ended with an exception or did not compile."""


class ProtocolSession:
    """One Streamlit session over its websocket (loopback only: the tests and scripts start the server)."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        if not base_url.startswith("http://127.0.0.1"):
            raise ValueError("a protocol session talks to a server on 127.0.0.1 only")
        self.url = "ws://" + base_url.removeprefix("http://") + "/_stcore/stream"
        self.timeout = timeout
        self.ws = None
        self.messages = 0  # ForwardMsgs read, over the session's life
        self.exceptions: list[str] = []  # exception elements the scripts drew

    async def __aenter__(self) -> ProtocolSession:
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def open(self, page: str, query: str = "") -> float:
        """Ask for one run of ``page`` (its URL path: "gates", "" for the home page) with ``query``; wait for
        its end. Returns the seconds from the request to the script's end, as this client saw them."""
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._until_finished(), self.timeout)
        return time.perf_counter() - started

    async def _until_finished(self) -> None:
        while True:
            data = await self.ws.recv()
            if isinstance(data, str):
                continue
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            self.messages += 1
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.new_element.WhichOneof("type") == "exception":
                self.exceptions.append(fwd.delta.new_element.exception.message)
            if kind == "script_finished":
                if fwd.script_finished in FINISHED_OK:
                    return
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                raise ScriptFailed(f"the script ended with {ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)}")


async def open_once(base_url: str, page: str, query: str = "", timeout: float = 60.0) -> tuple[float, list[str]]:
    """A fresh session that opens ``page`` once: (seconds to the script's end, exceptions drawn)."""
    async with ProtocolSession(base_url, timeout) as session:
        seconds = await session.open(page, query)
        return seconds, session.exceptions
