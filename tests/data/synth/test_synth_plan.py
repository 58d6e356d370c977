"""Strike bands and grid steps of the synthetic market's listings."""

from __future__ import annotations

from datetime import date

import pytest

from workbench.data.synth.plan import StrikeBands, nice_step


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0.5, 5.0), (5.0, 5.0), (6.5, 10.0), (17.8, 25.0), (26.0, 50.0), (120.0, 250.0)],
)
def test_nice_step_is_the_smallest_1_2_5_multiple_of_the_grid(raw: float, expected: float) -> None:
    assert nice_step(raw, 5.0) == expected


def test_band_is_centred_on_the_grid_and_only_grows() -> None:
    bands = StrikeBands()
    expiry = date(2024, 1, 25)
    assert bands.band("NIFTY", expiry, 21_712.4, 3, 50.0) == (21_550.0, 21_850.0, 50.0)
    # The spot falls 400 points: the band extends down, keeps its top.
    assert bands.band("NIFTY", expiry, 21_310.0, 3, 50.0) == (21_150.0, 21_850.0, 50.0)
    # The step is fixed on the first day; a later different step is ignored.
    assert bands.band("NIFTY", expiry, 21_700.0, 3, 100.0) == (21_150.0, 21_850.0, 50.0)
    # Another expiry has its own band; strikes never go below one step.
    assert bands.band("NIFTY", date(2024, 2, 1), 120.0, 5, 50.0) == (50.0, 350.0, 50.0)
