"""The erfcx table and the tail-accurate normal CDF against 40-digit mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from numpy.polynomial import chebyshev

from workbench.pricing._erfcx_table import (
    ERFCX_COEFFICIENTS,
    ERFCX_DEGREE,
    ERFCX_INTERVAL_WIDTH,
)
from workbench.pricing.normal import cdf_with_gauss, erfcx


def _erfcx_mp(x: float) -> mpmath.mpf:
    with mpmath.workdps(40):
        return mpmath.exp(mpmath.mpf(x) ** 2) * mpmath.erfc(mpmath.mpf(x))


@pytest.mark.parametrize("row", [0, 1, 7, 30, 53])
def test_table_rows_regenerate(row: int) -> None:
    """Rows are the degree-12 Chebyshev interpolant of mpmath values, as the table says."""
    half = ERFCX_INTERVAL_WIDTH / 2
    mid = row * ERFCX_INTERVAL_WIDTH + half
    nodes = np.cos(np.pi * (np.arange(ERFCX_DEGREE + 1) + 0.5) / (ERFCX_DEGREE + 1))
    values = np.array([float(_erfcx_mp(mid + u * half)) for u in nodes])
    power = chebyshev.cheb2poly(chebyshev.chebfit(nodes, values, ERFCX_DEGREE))
    np.testing.assert_allclose(power, ERFCX_COEFFICIENTS[row], rtol=1e-12, atol=1e-15)


def _worst_relative_error(xs) -> float:
    worst = 0.0
    for x in xs:
        exact = _erfcx_mp(float(x))
        worst = max(worst, abs(float((mpmath.mpf(erfcx(float(x))) - exact) / exact)))
    return worst


def test_erfcx_relative_accuracy() -> None:
    rng = np.random.default_rng(0)
    table = np.concatenate([rng.uniform(0.0, 27.0, 1500), np.arange(0.0, 27.0, 0.5), [26.999999]])
    assert _worst_relative_error(table) < 4e-15
    # asymptotic series beyond the table, where exp(-x^2) has underflowed anyway
    assert _worst_relative_error([27.0, 30.0, 1e3, 1e8]) < 3e-11
    assert math.isnan(erfcx(math.nan))
    assert erfcx(math.inf) == 0.0


def test_cdf_tails() -> None:
    for d in (-37.0, -20.0, -8.5, -1.0, -1e-3, 0.0, 1e-3, 1.0, 8.5, 40.0):
        with mpmath.workdps(40):
            exact = mpmath.ncdf(d)
        got = cdf_with_gauss(d, math.exp(-0.5 * d * d))
        if d <= 0:
            assert got == pytest.approx(float(exact), rel=1e-13)
        else:
            assert got == pytest.approx(float(exact), abs=2e-16)
