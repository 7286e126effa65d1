"""The live panel's feed (lab_ui.live_feed): a token's panel is answered as JSON while it is published, a token
never published or withdrawn gets a 404, and on the Train page the feed gives the same panel the page draws,
stops being published when the training ends, and replaces the fragment's polling only where a route serves it."""

from __future__ import annotations

import json
import time

import pytest
from starlette.requests import Request

import lstm_core
from lab_ui import live_feed
from tests.page_helpers import live_panel, open_app
from tests.training_helpers import stop_leftover_trainers

PAGE = "../pages/1_train.py"


def get(token: str):
    """The route's answer to a browser's GET of ``token``'s panel."""
    scope = {"type": "http", "method": "GET", "path": live_feed.PATH.format(token=token), "headers": [],
             "query_string": b"", "path_params": {"token": token}}
    return live_feed._serve(Request(scope))


def test_a_published_panel_is_answered_and_a_withdrawn_one_is_not():
    token = live_feed.new_token()
    assert get(token).status_code == 404, "a token never published"
    answers = iter(range(10))
    live_feed.publish(token, lambda: {"parts": [["progress", "<b>x</b>"]], "figures": [], "state": next(answers)})
    first, second = get(token), get(token)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert json.loads(first.body)["state"] == 0 and json.loads(second.body)["state"] == 1, "made anew at each fetch"
    live_feed.withdraw(token)
    assert get(token).status_code == 404 and not live_feed.published(token)
    assert len({live_feed.new_token() for _ in range(100)}) == 100 and len(token) >= 32


def test_no_feed_url_without_the_route(monkeypatch):
    monkeypatch.setattr(live_feed.FEEDS, "is_served", False)
    assert live_feed.feed_url("abc") is None
    monkeypatch.setattr(live_feed.FEEDS, "is_served", True)
    assert live_feed.feed_url("abc") == "/api/live/abc"


@pytest.fixture
def store(isolated_run_store):
    yield lstm_core.RunStore(isolated_run_store)
    stop_leftover_trainers()


def tiny_training_page(seconds: float):
    at = open_app(PAGE)
    at.selectbox(key="train_preset").set_value("seed").run()
    for name, value in dict(hidden_size=8, batch_size=8, seq_len=20, seconds=seconds).items():
        at.number_input(key=f"train:seed:{name}").set_value(value)
    at.run()
    return at


def token_of(panel: dict) -> str:
    return panel["feed"].rsplit("/", 1)[-1]


def test_the_train_page_feeds_its_panel_while_it_trains(store, monkeypatch):
    monkeypatch.setattr(live_feed.FEEDS, "is_served", True)  # as app.py's server does
    at = tiny_training_page(seconds=20)
    at.button(key="char_start").click().run()
    panel = live_panel(at)
    for _ in range(100):  # the page reruns when the feed's state changes: here, when the first rows came
        if panel and panel["state"].endswith("|rows"):
            break
        time.sleep(0.1)
        at.run()
        panel = live_panel(at)
    assert panel and panel["feed"] and panel["state"].startswith("running|"), panel
    assert panel["every_ms"] == 500, "twice a second"
    fed = live_feed.answer(token_of(panel))
    names = [name for name, _ in fed["parts"]]  # (signals move under the figures once a sample came meanwhile)
    assert names[:2] == ["progress", "loss"] and {"side", "figures"} <= set(names), "the same panel, fed"
    assert dict(fed["parts"])["loss"].startswith('<div class="live-loss"'), "the same chart the page draws"
    assert fed["state"] == panel["state"]
    def steps(figures):
        return int(dict((label, value) for label, value, _ in figures)["Step"].replace(",", ""))
    assert steps(fed["figures"]) >= steps(panel["figures"]), "the feed gives the panel as it is now"

    at.button(key="char_stop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert live_feed.answer(token_of(panel)) is None, "a stopped training's panel is no longer fed"
    after = live_panel(at)
    assert after["feed"] is None, "the panel of an ended training does not fetch"


def test_without_the_route_the_panel_is_drawn_by_the_page(store, monkeypatch):
    monkeypatch.setattr(live_feed.FEEDS, "is_served", False)  # a page run on its own: no server route
    at = tiny_training_page(seconds=5)
    at.button(key="char_start").click().run()
    panel = live_panel(at)
    assert panel["feed"] is None
    at.button(key="char_stop").click().run()
