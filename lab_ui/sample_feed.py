"""/generate's own line to the server: the text of a sample, sent to the browser as it is drawn.

When a student moves the temperature, top-k or top-p, the page's component (lab_ui/components/sample_control.js)
asks this route for the sample with the new settings at once, and shows its characters as they arrive, while the
page reruns to draw the rest (the coloured text, the measures, the charts). A Streamlit rerun alone cannot show
anything sooner than its round trip; the route's first characters reach the screen before the rerun has begun.

    route()                          the route app.py mounts
    publish(token, stream)           one session's feed: ``stream(settings)`` gives the text's pieces, as drawn
                                     (``settings``: the sliders' values, on their grid: ``on_grid``)
    feed_url(token)                  where the browser asks (``?temperature=0.85&top_k=0&top_p=1``); None where no
                                     route serves feeds (a page run by AppTest): the page then draws Streamlit widgets
    on_grid(values, vocab_size)      the sliders' values as the page's widgets would give them (from
                                     lab_ui.shared_samples, beside the sliders' table)
    text_as_drawn(store, key, draw)  a sample's text for the route, drawn once per server (lab_ui.shared_samples)

The sample is the one the page would draw itself: the same function, settings and seed, kept in the same store
under the same key, so the rerun that follows finds it there (or waits for it) instead of drawing it again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from lab_ui.shared_samples import SLIDERS, on_grid
from lab_ui.token_feeds import TokenFeeds, new_token
from lstm_core.execution.compute_once import ComputeOnce

PATH = "/api/sample/{token}"
MAX_SESSIONS = 1024  # feeds kept: one per /generate session; the oldest are forgotten
WAIT_SECONDS = 120.0  # a draw that gives nothing for this long is given up (the page reports its own errors)
FEEDS = TokenFeeds(PATH, capacity=MAX_SESSIONS)
_END = object()

__all__ = ["PATH", "feed_url", "new_token", "on_grid", "publish", "route", "text_as_drawn"]


def publish(token: str, stream: Callable[[float], Iterator[str]]) -> None:
    FEEDS.publish(token, stream)


def feed_url(token: str) -> str | None:
    return FEEDS.url(token)


def text_as_drawn(store: ComputeOnce, key, draw: Callable[[], Iterable]) -> Iterator[str]:
    """The text of the sample ``key`` in ``store``, in pieces as ``draw()`` writes its steps (objects with a
    ``char``). Drawn here once per server: where the store has it, or another caller is drawing it, the whole
    text comes in one piece when it is there. The draw starts before this returns, so that a page run that asks
    the store for the same key right after finds it on its way; it ends even if nobody reads the pieces."""
    pieces: queue.SimpleQueue = queue.SimpleQueue()
    drawn_here = threading.Event()

    def drawing() -> list:
        drawn_here.set()
        steps = []
        for step in draw():
            steps.append(step)
            pieces.put(step.char)
        return steps

    def fill() -> None:
        try:
            steps = store.get_or_compute(key, drawing)
            if not drawn_here.is_set():
                pieces.put("".join(step.char for step in steps))
        except Exception:  # noqa: BLE001 - the page that asks for the same sample shows what went wrong
            pass
        finally:
            pieces.put(_END)

    threading.Thread(target=fill, name="lstm-lab-sample-feed", daemon=True).start()
    return _pieces(pieces)


def _pieces(pieces: queue.SimpleQueue) -> Iterator[str]:
    """What the queue holds, as it comes: every piece there at once goes out together."""
    while True:
        try:
            piece = pieces.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            return
        together = []
        while piece is not _END:
            together.append(piece)
            try:
                piece = pieces.get_nowait()
            except queue.Empty:
                break
        if together:
            yield "".join(together)
        if piece is _END:
            return


def _serve(request) -> Response:
    # A plain function: Starlette calls it in its thread pool and reads the pieces there, off the event loop.
    stream = FEEDS.get(request.path_params["token"])
    headers = {"Cache-Control": "no-store"}
    if stream is None:
        return Response(status_code=404, headers=headers)
    try:
        settings = {name: float(request.query_params[name]) for name in SLIDERS}
        pieces = stream(settings)
    except (KeyError, ValueError):
        return PlainTextResponse(f"{', '.join(SLIDERS)}: numbers in the sliders' ranges", status_code=400,
                                 headers=headers)
    return StreamingResponse(pieces, media_type="text/plain; charset=utf-8",
                             headers={**headers, "X-Accel-Buffering": "no"})  # a proxy passes each piece on


def route() -> Route:
    """The feed's route, for ``st.App(routes=...)``; from this call on, /generate streams through it."""
    FEEDS.served()
    return Route(PATH, _serve, methods=["GET"])
