"""The text the SPEC 2 validators read: a bulk bucket's records (:func:`text_rows`) as the frames give it
(:func:`text_table`)."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.interchange.importing import text_rows, text_table

_NAMES = ("a", "b", "c", "absent")
_VALUES = st.one_of(
    st.none(),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -0.0, 1e16, 1e-5, 58.4, 5e-324, 120.0]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(_NAMES[:3]), _VALUES), max_size=12))
def test_records_give_the_text_the_frames_give(rows):
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(_NAMES[:3]))
    assert text_rows(rows, _NAMES).equals(text_table(frame, _NAMES))


def test_a_float_as_str_writes_it_and_nan_as_no_value():
    rows = [{"a": 58.4, "b": "x"}, {"a": math.nan, "b": None}, {"a": 1e16}]
    assert text_rows(rows, ("a", "b")).to_pydict() == {"a": ["58.4", None, "1e+16"], "b": ["x", None, None]}
