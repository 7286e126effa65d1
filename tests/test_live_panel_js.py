"""The live panel's script (lab_ui/components/live_panel.js), loaded as a module in Chromium: it draws the parts
in the order sent, replaces only a part whose HTML changed (a chart that did not move keeps its element, and a
hovered one its label), drops a part no longer sent, and draws the figures with their text escaped."""

import pytest

from conftest import component_prelude
from lab_ui.live_view import FIGURES, component_source

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MOUNT = "async ([source, updates]) => {" + component_prelude("live-panel") + """
  const seen = [];
  for (const data of updates) {
    mount({ data, parentElement: document.body });
    seen.push([...root.children].map((e) => [e.dataset.part, e.firstChild]));  // a part and what it draws
  }
  const names = seen.map((children) => children.map(([name]) => name));
  const kept = seen.slice(1).map((children, i) => children.map(([, node]) => seen[i].some(([, old]) => old === node)));
  const figures = [...root.querySelectorAll(".lp-figure")].map((f) =>
    [f.dataset.label, f.querySelector(".lp-value").textContent, f.querySelector(".lp-label").title]);
  return { names, kept, html: root.innerHTML, figures };
}"""


@pytest.fixture(scope="module")
def mount_all(blank_tab):
    """mount_all([data, ...]) -> what the panel held after each update, as the component draws it."""
    return lambda updates: blank_tab.evaluate(MOUNT, [component_source("js"), updates])


def update(parts, figures=()):
    return {"parts": [list(p) for p in parts], "figures": [list(f) for f in figures]}


def test_only_the_parts_that_changed_are_replaced_in_the_order_sent(mount_all):
    result = mount_all([
        update([("progress", "<b>10%</b>"), ("loss", "<i>chart 1</i>"), (FIGURES, None)], [("Step", "1", None)]),
        update([("progress", "<b>10%</b>"), ("loss", "<i>chart 2</i>"), (FIGURES, None)], [("Step", "1", None)]),
        update([("loss", "<i>chart 2</i>"), ("side", "sample"), (FIGURES, None)], [("Step", "2", "help")]),
    ])
    assert result["names"] == [["progress", "loss", FIGURES], ["progress", "loss", FIGURES],
                               ["loss", "side", FIGURES]]
    assert result["kept"][0] == [True, False, True], "the unchanged progress and figures keep their elements"
    assert result["kept"][1] == [True, False, False], "the same loss chart stays; a new part and new figures are drawn"
    assert "chart 2" in result["html"] and "10%" not in result["html"], "a part no longer sent is gone"
    assert result["figures"] == [["Step", "2", "help"]]


def test_figures_are_drawn_as_text(mount_all):
    result = mount_all([update([(FIGURES, None)], [('<img src=x onerror="alert(1)">', "<b>1</b>", None)])])
    assert result["figures"] == [['<img src=x onerror="alert(1)">', "<b>1</b>", ""]]
    assert "<img" not in result["html"] and "<b>" not in result["html"]


FOLLOW = "async ([source, data, answers, stopAfter, poke]) => {" + component_prelude("live-panel") + """
  const fetched = [], triggers = [], drawn = [];
  window.fetch = async (where) => {  // the server's feed, answering from the list (its last answer again after)
    const answer = answers[Math.min(fetched.length, answers.length - 1)];
    fetched.push(where);
    return answer === null ? new Response("", { status: 404 })
      : new Response(JSON.stringify(answer), { headers: { "Content-Type": "application/json" } });
  };
  const cleanup = mount({ data, parentElement: document.body, setTriggerValue: (n, v) => triggers.push([n, v]) });
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  if (poke) document.dispatchEvent(new Event("change"));  // the user changed a control somewhere on the page
  for (let waited = 0; waited < 2000 && triggers.length === 0 && fetched.length < stopAfter; waited += 10) {
    await pause(10);
    if (drawn.at(-1) !== root.textContent) drawn.push(root.textContent);
  }
  cleanup();
  const count = fetched.length;
  await pause(Math.min(data.every_ms * 5, 500));
  return { fetched, triggers, drawn, more: fetched.length - count };
}"""


def fed(feed="/api/live/t", state="running|Training.|0|rows"):
    return {**update([("progress", "start")]), "feed": feed, "state": state, "every_ms": 20, "tries": 3}


def answer(text, state="running|Training.|0|rows"):
    return {**update([("progress", text)]), "state": state}


@pytest.fixture(scope="module")
def follow(blank_tab):
    """follow(data, answers, stop_after) -> what the panel fetched, drew and asked the page for."""
    return lambda data, answers, stop_after=100, poke=False: blank_tab.evaluate(
        FOLLOW, [component_source("js"), data, answers, stop_after, poke])


def test_the_panel_draws_each_fetched_answer_and_asks_for_a_rerun_when_the_page_must_follow(follow):
    result = follow(fed(), [answer("one"), answer("two"), answer("ended", state="finished|Finished.|0|rows")])
    assert result["fetched"][0] == "/api/live/t"
    assert [text for text in result["drawn"] if text != "start"] == ["one", "two", "ended"], result["drawn"]
    assert result["triggers"] == [["changed", "finished|Finished.|0|rows"]]
    assert len(result["fetched"]) == 3 and result["more"] == 0, "no fetch once the page was asked to rerun"


def test_a_feed_that_keeps_failing_is_given_up_once(follow):
    result = follow(fed(), [answer("one"), None, None, None])
    assert result["triggers"] == [["lost", "Error: the feed answered 404"]]
    assert len(result["fetched"]) == 4 and result["more"] == 0


def test_a_panel_without_a_feed_fetches_nothing_and_one_taken_down_stops(follow):
    assert follow({**update([("progress", "x")]), "every_ms": 20}, [answer("one")], stop_after=1)["fetched"] == []
    stopped = follow(fed(), [answer("one")], stop_after=2)
    assert stopped["triggers"] == [] and stopped["more"] == 0, "the cleanup Streamlit calls stops the fetching"


def test_a_changed_control_makes_the_panel_fetch_at_once(follow):
    slow = {**fed(), "every_ms": 60_000}  # left alone, it would not fetch within the test
    assert follow(slow, [answer("one")], stop_after=1)["fetched"] == []
    poked = follow(slow, [answer("one")], stop_after=2, poke=True)
    assert len(poked["fetched"]) >= 2, "fetched every 0.1 s for a while after a control changed"
    assert poked["more"] == 0
