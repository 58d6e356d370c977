"""The erfcx table and the tail-accurate normal CDF against 40-digit mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from workbench.pricing._erfcx_table import (
    ERFCX_COEFFICIENTS,
    ERFCX_DEGREE,
    ERFCX_INTERVAL_WIDTH,
)
from workbench.pricing.normal import cdf_with_gauss, erfcx


def _erfcx_mp(x: float) -> mpmath.mpf:
    with mpmath.workdps(40):
        return mpmath.exp(mpmath.mpf(x) ** 2) * mpmath.erfc(mpmath.mpf(x))


def test_table_rows_match_mpmath() -> None:
    """Every row, evaluated as the module docstring says (powers of ``u`` on its interval), is
    ``erfcx`` to the promised relative accuracy at its Chebyshev nodes, its ends and points in
    between, against 40-digit mpmath. The coefficients themselves are not compared: refitting
    them depends on NumPy's least-squares internals, the values do not."""
    n = ERFCX_DEGREE + 1
    nodes = np.cos(np.pi * (np.arange(n) + 0.5) / n)
    us = np.concatenate([nodes, np.linspace(-1.0, 1.0, 17, endpoint=False), [1.0 - 1e-12]])
    assert len(ERFCX_COEFFICIENTS) == round(27.0 / ERFCX_INTERVAL_WIDTH)
    worst = 0.0
    for row, coefficients in enumerate(ERFCX_COEFFICIENTS):
        assert len(coefficients) == n, f"row {row} has {len(coefficients)} coefficients"
        half = ERFCX_INTERVAL_WIDTH / 2
        mid = row * ERFCX_INTERVAL_WIDTH + half
        for u in us:
            got = sum(c * u**k for k, c in enumerate(coefficients))
            exact = _erfcx_mp(mid + u * half)
            worst = max(worst, abs(float((mpmath.mpf(got) - exact) / exact)))
    assert worst < 4e-15, f"worst relative error of the table rows: {worst:.2e}"


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
