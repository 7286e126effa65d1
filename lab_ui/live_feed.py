"""The live panel's own line to the server: while a training runs, the panel's script (live_panel.js) fetches
the panel from a route of LSTM Lab's server twice a second, instead of the page rerunning a fragment.

A fragment that reruns twice a second makes Streamlit's frontend render the page around it again at every
run (its markdown, widgets and layout): on the Train page that alone kept about a fifth of a core busy in
the browser, beside the training. A fetch answered with the panel's parts as JSON costs the browser only the
parts that changed. The page reruns when something outside the panel must follow (the training ended,
paused or started, its first metrics came): the answer's ``state`` changed, and the script asks for a rerun.

    route()                  the route app.py mounts (from then on, this server serves feeds)
    publish(token, answer)   one session's panel: ``answer()`` gives its parts now, as a dict ready for JSON
    withdraw(token)          the panel stopped polling, or its session ended
    feed_url(token)          where the browser fetches it; None where no route serves feeds (a page run
                             by AppTest): the panel then polls in a fragment, as before

A token (lab_ui.token_feeds) is made per session and training slot: knowing it is the only way to read a panel.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lab_ui.token_feeds import TokenFeeds, new_token

PATH = "/api/live/{token}"
FEEDS = TokenFeeds(PATH)

__all__ = ["PATH", "answer", "feed_url", "new_token", "publish", "published", "route", "withdraw"]


def publish(token: str, answer: Callable[[], dict]) -> None:
    FEEDS.publish(token, answer)


def withdraw(token: str) -> None:
    FEEDS.withdraw(token)


def published(token: str) -> bool:
    return FEEDS.published(token)


def feed_url(token: str) -> str | None:
    """The path the browser fetches ``token``'s panel from, or None when this server has no feed route."""
    return FEEDS.url(token)


def answer(token: str) -> dict | None:
    """``token``'s panel now, or None for a token not published (never made, or withdrawn)."""
    make = FEEDS.get(token)
    return make() if make is not None else None


def _serve(request) -> Response:
    # A plain function: Starlette runs it in its thread pool, off the event loop that serves the websockets.
    panel = answer(request.path_params["token"])
    if panel is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    return JSONResponse(panel, headers={"Cache-Control": "no-store"})


def route() -> Route:
    """The feed's route, for ``st.App(routes=...)``; from this call on, panels are fed through it."""
    FEEDS.served()
    return Route(PATH, _serve, methods=["GET"])
