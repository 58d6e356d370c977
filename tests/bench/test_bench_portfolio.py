"""``python -m workbench.bench portfolio``: (b) runs only where several underlyings are supported,
else it is reported as not available with the reason -- never a made-up figure."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.bench import portfolio


def fake_scenario(seconds: dict[str, float]) -> Any:
    def fresh(name: str, quick: bool) -> dict[str, Any]:
        return {"seconds": seconds[name], "peak_rss_mb": 500.0, "days": 60}

    return fresh


def test_without_underlyings_the_portfolio_is_not_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []

    def fresh(name: str, quick: bool) -> dict[str, Any]:
        ran.append(name)
        return {"seconds": 1.0, "peak_rss_mb": 500.0}

    monkeypatch.setattr(portfolio, "_fresh", fresh)
    monkeypatch.setattr(portfolio, "portfolio_support", lambda: "no underlyings here")
    result = portfolio.run(quick=True)
    assert result["ratio"] is None
    figures = result["figures"]
    assert figures["portfolio_available"] is False
    assert figures["portfolio_reason"] == "no underlyings here"
    assert ran == []  # nothing run: no figure made up
    assert not any(k.startswith(("portfolio_seconds", "single_seconds")) for k in figures)


def test_with_underlyings_the_ratio_is_portfolio_over_single(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(portfolio, "_fresh", fake_scenario({"single": 2.0, "portfolio": 5.0}))
    monkeypatch.setattr(portfolio, "portfolio_support", lambda: None)
    monkeypatch.setattr(portfolio, "etf_dataset", lambda quick: None)
    result = portfolio.run(quick=True)
    assert result["ratio"] == pytest.approx(2.5)
    assert result["figures"]["portfolio_under_3x"] is True


def test_this_checkout_says_why_it_cannot_run_the_portfolio() -> None:
    from workbench.data.synth import PROFILES
    from workbench.engine.config import StrategyConfig

    reason = portfolio.portfolio_support()
    engine = "underlyings" in StrategyConfig.model_fields and "us-etf-eod" in PROFILES
    if not engine:
        assert reason is not None and "issue-14-universe" in reason
    else:
        # the template ships with this branch: it must load (an unloadable one is named)
        assert reason is None, reason


def test_the_portfolio_scenario_runs_the_template_with_its_constraints() -> None:
    """The real scenario (in this process, 60 synthetic days): the seed-003 book on the three
    underlyings, with the template's constraints and a capital, trading more than one of them."""
    if portfolio.portfolio_support() is not None:
        pytest.fail(f"this branch ships the portfolio: {portfolio.portfolio_support()}")
    from workbench.research.templates import TemplateRepository

    figures = portfolio.scenario("portfolio", quick=True)
    template = TemplateRepository().get(portfolio.PORTFOLIO_TEMPLATE)
    assert figures["template"] == template.ref
    assert figures["underlyings_run"] == ["SPY", "QQQ", "IWM"]
    assert figures["constraints"] == template.constraints
    assert len(figures["underlyings"]) >= 2 and figures["fills"] > 0
    single = portfolio.scenario("single", quick=True)
    assert single["underlyings"] == ["SPY"] and single["constraints"] == template.constraints
