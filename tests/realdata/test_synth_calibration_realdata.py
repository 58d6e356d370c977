"""The synthetic profiles' calibration targets still match the real files they quote.

Re-measures every statistic of :mod:`workbench.data.synth.targets` from
``$WORKBENCH_REAL_DATA`` with the same code that measures the generated market
(:func:`workbench.bench.synth_calibration.measure_real`) and checks the constants written in
the generator (the generator itself never reads these files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.bench.synth_calibration import measure_real, real_nifty_2009_session_ratio
from workbench.data.synth.targets import NIFTY_TARGETS, TARGETS

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def real(real_data_root: Path) -> dict[str, dict[str, float]]:
    return measure_real(real_data_root)


@pytest.mark.parametrize(
    ("profile", "name"),
    [(p, n) for p, targets in TARGETS.items() for n in targets],
    ids=lambda v: str(v),
)
def test_the_constant_is_what_the_real_files_give(
    real: dict[str, dict[str, float]], profile: str, name: str
) -> None:
    assert real[profile][name] == pytest.approx(TARGETS[profile][name].measured, rel=2e-4)


def test_the_2009_minutes_give_the_same_session_ratio_as_2024(real_data_root: Path) -> None:
    # the cross-check quoted next to iv_session_rv_median: another decade, another session
    ratio = real_nifty_2009_session_ratio(real_data_root)
    target = NIFTY_TARGETS["iv_session_rv_median"]
    assert target.low <= ratio <= target.high
    assert ratio == pytest.approx(1.588, abs=0.001)
