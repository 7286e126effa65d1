"""The HTML view's script (lab_ui.html_view.JS), loaded as a module in Chromium: it draws the body it is sent,
keeps its DOM while a rerun sends the same body again, and draws a new body in its place."""

import pytest

from conftest import component_prelude
from lab_ui.html_view import JS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MOUNT = "async ([source, bodies]) => {" + component_prelude("html-view") + """
  const seen = [];
  for (const data of bodies) {
    mount({ data, parentElement: document.body });
    seen.push(root.firstChild);
  }
  return { html: root.innerHTML, kept: seen.slice(1).map((node, i) => node === seen[i]) };
}"""


def test_the_body_is_drawn_and_kept_until_it_changes(blank_tab):
    result = blank_tab.evaluate(MOUNT, [JS, ['<div class="a">one</div>', '<div class="a">one</div>',
                                             '<div class="b">two</div>']])
    assert result["kept"] == [True, False], "the same body keeps its element; a new one replaces it"
    assert result["html"] == '<div class="b">two</div>'
