"""/generate's sample feed (lab_ui.sample_feed): a sample's text comes in pieces as it is drawn, drawn once per server
and kept for the page's run; a kept sample, or one another caller is drawing, comes whole; the route answers only a
published token and a temperature it can use; and on /generate the feed gives the page's own sample to the letter."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from starlette.requests import Request

import lstm_core
from lab_ui import sample_feed
from lab_ui.run_picker import run_key
from lab_ui.shared_samples import sampling_options, shared_samples
from lab_ui.token_feeds import TokenFeeds
from lstm_core.execution.compute_once import ComputeOnce
from tests.page_helpers import open_app, text_boxes

PAGE = "../pages/3_generate.py"


@dataclass
class Drawn:
    char: str


def gated_draw(text: str, gate: threading.Event, draws: list):
    """A draw of ``text`` that stops after its first character until ``gate`` opens."""
    def draw():
        draws.append(text)
        for k, char in enumerate(text):
            if k == 1:
                assert gate.wait(10)
            yield Drawn(char)
    return draw


def test_the_text_comes_as_it_is_drawn_and_is_kept_for_the_page():
    store, gate, draws = ComputeOnce(8), threading.Event(), []
    pieces = sample_feed.text_as_drawn(store, "key", gated_draw("abc", gate, draws))
    assert next(pieces) == "a", "the first character, while the rest is still being drawn"
    assert store.running("key") and store.get("key") is None
    gate.set()
    assert "a" + "".join(pieces) == "abc"
    assert [step.char for step in store.get("key")] == list("abc"), "kept: the page's run finds it"

    assert list(sample_feed.text_as_drawn(store, "key", gated_draw("xyz", gate, draws))) == ["abc"], "kept: whole"
    assert draws == ["abc"], "drawn once"


def test_a_sample_another_caller_is_drawing_comes_whole_when_drawn():
    store, gate, draws = ComputeOnce(8), threading.Event(), []
    first = sample_feed.text_as_drawn(store, "key", gated_draw("abc", gate, draws))
    assert next(first) == "a"
    second = sample_feed.text_as_drawn(store, "key", gated_draw("abc", gate, draws))
    gate.set()
    assert list(second) == ["abc"] and "a" + "".join(first) == "abc" and draws == ["abc"]


def test_a_failed_draw_ends_the_text_and_keeps_nothing():
    def broken():
        yield Drawn("a")
        raise ValueError("top-p must be in (0, 1]")

    store = ComputeOnce(8)
    assert "".join(sample_feed.text_as_drawn(store, "key", broken)) == "a"
    assert store.get("key") is None


def test_settings_are_put_on_the_sliders_grids_and_in_their_ranges():
    assert sample_feed.on_grid({"temperature": 0.8500000001, "top_k": 3.4, "top_p": 0.87}, 50) == \
        {"temperature": 0.85, "top_k": 3, "top_p": 0.85}
    assert sample_feed.on_grid({"temperature": 7, "top_k": 900, "top_p": 0}, 50) == \
        {"temperature": 2.0, "top_k": 50, "top_p": 0.05}
    with pytest.raises(ValueError):
        sample_feed.on_grid({"temperature": float("nan"), "top_k": 0, "top_p": 1}, 50)


def answer(token: str, query: bytes):
    """The route's status and body for a browser's GET of ``token``'s feed with ``query``."""
    scope = {"type": "http", "method": "GET", "path": sample_feed.PATH.format(token=token), "headers": [],
             "query_string": query, "path_params": {"token": token}}
    response = sample_feed._serve(Request(scope))
    if not hasattr(response, "body_iterator"):
        return response.status_code, response.body.decode()

    async def read():
        return [piece async for piece in response.body_iterator]
    with ThreadPoolExecutor(1) as alone:  # a loop of its own (a test process may be running one already)
        return response.status_code, "".join(alone.submit(asyncio.run, read()).result())


def test_the_route_answers_a_published_token_and_usable_settings():
    token, asked = sample_feed.new_token(), []
    usable = b"temperature=0.8&top_k=0&top_p=1"
    assert answer(token, usable)[0] == 404, "never published"

    def stream(settings):
        asked.append(sample_feed.on_grid(settings, 50))
        return iter(["Au ", "voleur!"])
    sample_feed.publish(token, stream)
    assert answer(token, b"temperature=0.8500000001&top_k=2&top_p=0.9") == (200, "Au voleur!")
    assert asked == [{"temperature": 0.85, "top_k": 2, "top_p": 0.9}]
    for query in (b"", b"temperature=0.8&top_k=0", b"temperature=warm&top_k=0&top_p=1",
                  b"temperature=nan&top_k=0&top_p=1"):
        status, body = answer(token, query)
        assert status == 400 and "temperature, top_k, top_p" in body and len(asked) == 1, query


def test_a_board_forgets_its_oldest_tokens_beyond_its_capacity():
    board = TokenFeeds("/x/{token}", capacity=2)
    for token in "abc":
        board.publish(token, print)
    assert not board.published("a") and board.published("b") and board.published("c")
    assert board.url("b") is None, "no route mounted"
    board.served()
    assert board.url("b") == "/x/b"


def test_the_generate_page_feeds_its_own_sample(monkeypatch):
    monkeypatch.setattr(sample_feed.FEEDS, "is_served", True)  # as app.py's server does
    prime, settings = "DORINE.\n", {"run": "pretrained", "length": "60", "seed": "3"}
    at = open_app(PAGE, prime=prime, temperature="0.5", **settings)
    assert [s.key for s in at.slider] == ["generate_length", "generate_step"], "temperature and top-p: the component's"
    stream = sample_feed.FEEDS.get(at.session_state["generate_feed_token"])
    shown = next(text for text in text_boxes(at) if text.startswith(prime))
    page_settings = {"temperature": 0.5, "top_k": 0, "top_p": 1.0}
    assert prime + "".join(stream(page_settings)) == shown, "the page's sample, from the server's store, to the letter"

    up = sampling_options(temperature=0.55, top_k=0, top_p=1.0, seed=3)
    key = (run_key("pretrained"), prime, 60, tuple(up.values()))  # the page's key of the sample one step up
    assert shared_samples().running(key) or shared_samples().get(key), "drawn ahead after the page's run"
    fresh = "".join(stream({"temperature": 0.55, "top_k": 0, "top_p": 1.0}))  # the temperature moved one step up
    run = lstm_core.load_run(lstm_core.PRETRAINED_DIR)
    assert fresh == lstm_core.sample(run.model, run.vocab, prime, 60, temperature=0.55, seed=3)
    after = open_app(PAGE, prime=prime, temperature="0.55", **settings)
    assert next(text for text in text_boxes(after) if text.startswith(prime)) == prime + fresh
