"""The heatmaps' colour-scale control, shared by /gates (its heatmaps and its training movie) and the Train page's
live gate panel: one scale per quantity (every row alike), or one per unit (each row stretched over its own
range, so that a unit moving between ±1 and ±3 shows beside one at ±39). /gates keeps the choice in the link
(``?scale=unit``)."""

from __future__ import annotations


from lab_ui.query import query_index
from lab_ui.render.heatmaps import SCALES

SCALE_HELP = ("Per quantity: one colour scale for every row, so rows compare with each other. Per unit: each row "
              "on its own scale (its range is written beside the unit's number), so a unit that moves little "
              "shows its pattern too.")


def scale_control(container, key: str, from_link: bool = True) -> str:
    """The colour scale of the heatmaps below it, "quantity" or "unit"; ``from_link``: it starts as the link says
    (the caller writes it back with its other settings: one history entry)."""
    options = list(SCALES)
    index = query_index("scale", options, "quantity") if from_link else 0
    return container.radio("Colour scale", options, index=index, format_func=SCALES.get, horizontal=True, key=key,
                           help=SCALE_HELP)
