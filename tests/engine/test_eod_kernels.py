"""The compiled per-row pass over a day's chain gives the NumPy definitions' bits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from workbench.engine.eod_kernels import derive, derive_reference

PRICES = st.one_of(
    st.floats(min_value=-5.0, max_value=500.0, allow_nan=False),
    st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 0.05, 1e-300]),
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=st.integers(min_value=0, max_value=60),
    tick=st.integers(min_value=-10, max_value=10),
)
def test_derive_matches_the_numpy_definitions(data: st.DataObject, n: int, tick: int) -> None:
    bid = data.draw(arrays(np.float64, n, elements=PRICES))
    ask = data.draw(arrays(np.float64, n, elements=PRICES))
    close = data.draw(arrays(np.float64, n, elements=PRICES))
    ts = data.draw(arrays(np.int64, n, elements=st.integers(min_value=-10, max_value=10)))
    got = derive(ts, tick, bid, ask, close)
    want = derive_reference(ts, tick, bid, ask, close)
    for name, a, b in zip(
        ("visible", "close_ok", "two_sided", "mark", "mid_price"), got, want, strict=True
    ):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), (name, a, b)  # the same bits, NaN payloads too


def test_the_definitions_by_hand() -> None:
    nan, inf = np.nan, np.inf
    bid = np.array([1.0, nan, 2.0, 0.0, 3.0, -1.0, 1.0])
    ask = np.array([1.2, 1.0, 1.5, 0.0, inf, 1.0, 1.0])
    close = np.array([1.1, 0.9, nan, 0.0, -1.0, 2.0, inf])
    ts = np.array([0, 5, 10, 11, -3, 10, 0])
    visible, close_ok, two_sided, mark, mid_price = derive(ts, 10, bid, ask, close)
    assert visible.tolist() == [True, True, True, False, True, True, True]
    assert close_ok.tolist() == [True, True, False, True, False, True, False]
    # crossed (2.0 > 1.5), zero ask, infinite ask, negative bid are not two-sided; 1.0/1.0 is
    assert two_sided.tolist() == [True, False, False, False, False, False, True]
    assert np.allclose(mark, [1.1, 0.9, nan, 0.0, nan, 2.0, 1.0], equal_nan=True)
    assert np.allclose(mid_price, [1.1, 0.9, nan, 0.0, -1.0, 2.0, 1.0], equal_nan=True)
