"""A view's settings in the link: read from the URL's query string (malformed or out-of-range values replaced),
and written back so that a copied link reproduces the view.

    query_value(name, default, cast)              a setting, or ``default``
    query_number(name, default, low, high, ...)   a number brought into [low, high]
    query_index(name, options, default)           the index of the link's choice among ``options``
    set_query(**values)                           write settings into the link, as one message
"""

from __future__ import annotations

import math

import streamlit as st


def query_value(name: str, default=None, cast=str):
    """A setting from the URL's query string, or ``default`` when absent or malformed."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except (TypeError, ValueError, OverflowError):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default  # "nan" and "inf" parse as floats but mean nothing here
    return value


def query_number(name: str, default, low, high, cast=int, warn: bool = False):
    """A number from the query string brought into [low, high]; ``default`` when absent or malformed.

    With ``warn``, a value outside the range gets a warning that says which value is used instead.
    """
    value = query_value(name, default, cast)
    if value is None:
        return None
    clamped = min(max(value, low), high)
    if warn and clamped != value:
        st.warning(f"The link asks for {name} = {value:g}, but it must be between {low:g} and {high:g}: "
                   f"{clamped:g} is used instead.")
    return clamped


def query_index(name: str, options, default) -> int:
    """Index among ``options`` of the link's choice for ``name`` (of ``default`` when absent or unknown)."""
    options = list(options)
    value = query_value(name, default)
    return options.index(value) if value in options else options.index(default)


def set_query(**values) -> None:
    """Write view settings into the query string so that a copied link reproduces the view.

    The settings one call sets go to the browser as one message: each message is a history update there."""
    changed = {}
    for name, value in values.items():
        text = None if value is None else str(value)
        if st.query_params.get(name) == text:
            continue
        if text is None:
            del st.query_params[name]  # rare: a view that drops a setting (one message each)
        else:
            changed[name] = text
    if changed:
        st.query_params.update(changed)
