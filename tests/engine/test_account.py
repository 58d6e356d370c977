"""The account as of now (``bar.account``, ``day.account``, ``Strategy.account``), issue 14.

Hand-computed on the tiny NIFTY market (engine_builders; lot 50, mid fills, no fees): on D2 at
09:16 the probe buys the 21500 C at 75 and sells the 21550 C at 42 (nearest expiry E = D3), a
debit of (75 - 42) x 50 = 1650, held to the D3 settlement. Capital 100,000.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from engine_builders import D1, D2, D3, tiny_nifty
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_lookahead_hooks import CUT_MINUTES, DAYS, _at, _same, scaled_market

from workbench.engine.config import StrategyConfig
from workbench.engine.errors import ConfigError, DayFailedError
from workbench.engine.runner import run_backtest
from workbench.engine.strategy import Strategy

CAPITAL = 100_000.0


def _figures(account, margin: bool) -> tuple:
    out = (account.equity, account.cash, account.realized, account.unrealized)
    if margin:
        out += (account.margin_in_use, account.buying_power)
    return out


class AccountProbe(Strategy):
    """Records the account in every hook; buys the 21500/21550 call spread on ``buy_on`` at
    09:16 (positional or intraday)."""

    seen: list[tuple] = []
    mode = "positional"

    class Config(StrategyConfig):
        buy_on: date = D2
        margin: bool = True
        max_cycles: int = 5

    def on_day_start(self, day):
        when = datetime.combine(day.date, time(0, 0))
        AccountProbe.seen.append(("day_start", when, *_figures(day.account, self.config.margin)))
        return True

    def on_bar(self, bar):
        AccountProbe.seen.append(("on_bar", bar.ts, *_figures(bar.account, self.config.margin)))
        assert bar.account.equity == self.account.equity
        if self.idle and bar.date == self.config.buy_on and bar.time >= time(9, 16):
            self.try_fill(
                {"long": self.add(21500, "C", "BUY"), "short": self.add(21550, "C", "SELL")}
            )

    def on_day_end(self, day):
        when = datetime.combine(day.date, time(23, 59))
        AccountProbe.seen.append(("day_end", when, *_figures(day.account, self.config.margin)))


def _run(data: Path, mode: str = "positional", **kw):
    AccountProbe.seen.clear()
    options = {"fill": "mid", "fees": "none", "capital": CAPITAL, "margin": "defined-risk"}
    options.update(kw)
    result = run_backtest(
        AccountProbe, data=data, mode=mode, executor="serial", progress=False, **options
    )
    return result, list(AccountProbe.seen)


@pytest.fixture(scope="module")
def nifty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_nifty(tmp_path_factory.mktemp("account") / "nifty")


def _at_ts(seen, hook, when):
    rows = [s for s in seen if s[0] == hook and s[1] == when]
    assert len(rows) == 1, (hook, when, rows)
    return rows[0][2:]


def test_positional_account_by_hand(nifty: Path) -> None:
    result, seen = _run(nifty)
    # flat before the fill: everything is the capital, no margin
    assert _at_ts(seen, "day_start", datetime(2024, 1, 2)) == (CAPITAL, CAPITAL, 0, 0, 0, CAPITAL)
    assert _at_ts(seen, "on_bar", datetime(2024, 1, 3, 9, 15)) == (
        CAPITAL, CAPITAL, 0, 0, 0, CAPITAL,
    )  # fmt: skip
    # the fill's tick: on_bar recorded before the order (flat)
    assert _at_ts(seen, "on_bar", datetime(2024, 1, 3, 9, 16))[0] == CAPITAL
    # 09:17: marks 80 / 48. cash 100,000 - 1650; market value (80 - 48) x 50 = 1600;
    # unrealised (80 - 75) x 50 + (42 - 48) x 50 = -50; defined-risk margin = the spread's
    # worst expiry loss at its marks, (80 - 48) x 50 = 1600
    equity, cash, realized, unrealized, margin, power = _at_ts(
        seen, "on_bar", datetime(2024, 1, 3, 9, 17)
    )
    assert cash == CAPITAL - 1650
    assert equity == pytest.approx(CAPITAL - 1650 + 1600)
    assert (realized, unrealized) == (0.0, pytest.approx(-50.0))
    assert margin == pytest.approx(1600.0)
    assert power == pytest.approx(equity - 1600.0)
    # D2's close (09:20): marks 110 / 62 -> market value 2400, margin 2400
    close = _at_ts(seen, "day_end", datetime(2024, 1, 3, 23, 59))
    assert close[0] == pytest.approx(CAPITAL - 1650 + 2400)
    assert close[4] == pytest.approx(2400.0)
    # D3 before its first tick: D2's close, not D3's first bar (marks 130 / 80 -> 2500)
    start = _at_ts(seen, "day_start", datetime(2024, 1, 4))
    assert start == pytest.approx(close)
    first = _at_ts(seen, "on_bar", datetime(2024, 1, 4, 9, 15))
    assert first[0] == pytest.approx(CAPITAL - 1650 + 2500)
    # the daily path agrees: account equity at a close = capital + the path's equity
    daily = result.daily.set_index("date")
    assert close[0] == pytest.approx(CAPITAL + daily.loc[str(D2), "equity"])
    assert close[4] == pytest.approx(daily.loc[str(D2), "margin"])
    # D3's close: settled at 21655 (C 155, 105): realised (155 - 75 + 42 - 105) x 50 = 850
    end = _at_ts(seen, "day_end", datetime(2024, 1, 4, 23, 59))
    assert end[:4] == (pytest.approx(CAPITAL + 850), pytest.approx(CAPITAL + 850), 850, 0)
    assert end[4:] == (0.0, pytest.approx(CAPITAL + 850))


def test_intraday_account_starts_each_day_at_the_capital(nifty: Path) -> None:
    """Intraday days run in parallel, so each starts from the declared capital: D3 does not
    see D2's result."""
    _, seen = _run(nifty, mode="intraday", params={"buy_on": D2})
    d2 = [s for s in seen if s[1].date() == D2 and s[0] == "on_bar"]
    assert d2[2][2] == pytest.approx(CAPITAL - 1650 + 1600)  # 09:17
    assert _at_ts(seen, "day_start", datetime(2024, 1, 4))[:2] == (CAPITAL, CAPITAL)
    # D2 was force-closed at 09:20 (110 / 62): its own day ends at capital + 750
    assert _at_ts(seen, "day_end", datetime(2024, 1, 3, 23, 59))[0] == pytest.approx(CAPITAL + 750)


def test_no_capital_is_an_error_naming_capital(nifty: Path) -> None:
    with pytest.raises(DayFailedError, match="capital"):
        _run(nifty, capital=None)


def test_no_margin_model_is_an_error_naming_margin(nifty: Path) -> None:
    with pytest.raises(DayFailedError, match="margin model"):
        _run(nifty, margin=None)
    # without reading the margin the account works without a model
    _, seen = _run(nifty, margin=None, params={"margin": False})
    assert _at_ts(seen, "day_end", datetime(2024, 1, 3, 23, 59))[0] == pytest.approx(CAPITAL + 750)


def test_account_errors_name_what_is_missing() -> None:
    from workbench.engine.account import AccountError

    assert issubclass(AccountError, ConfigError)


@settings(max_examples=20)
@given(
    day=st.sampled_from(DAYS),
    minute=st.sampled_from(CUT_MINUTES),
    factor=st.sampled_from([0.5, 3.0]),
    mode=st.sampled_from(["intraday", "positional"]),
)
def test_the_account_sees_nothing_after_the_cut(
    tmp_path_factory: pytest.TempPathFactory, day: date, minute: str, factor: float, mode: str
) -> None:
    """Prices after the cut scaled: every account figure recorded at or before it is the
    same (day start = 00:00, before the first bar; day end = 23:59)."""
    cut = _at(day, minute)
    base = tiny_nifty(tmp_path_factory.mktemp("acct-base") / "m")
    scaled = scaled_market(tmp_path_factory.mktemp("acct-scaled") / "m", cut, factor)
    _, a = _run(base, mode=mode, params={"buy_on": D1 if mode == "positional" else D2})
    _, b = _run(scaled, mode=mode, params={"buy_on": D1 if mode == "positional" else D2})
    before_a = [s for s in a if s[1] <= cut]
    before_b = [s for s in b if s[1] <= cut]
    assert len(before_a) == len(before_b)
    for x, y in zip(before_a, before_b):
        assert _same(x, y), (cut, mode, x, y)


def test_the_cut_check_can_fail(tmp_path: Path) -> None:
    cut = _at(D2, "09:16")
    _, a = _run(tiny_nifty(tmp_path / "a"), params={"buy_on": D1})
    _, b = _run(scaled_market(tmp_path / "b", cut, 1.5), params={"buy_on": D1})
    after = [(x, y) for x, y in zip(a, b) if x[1] > cut]
    assert not all(_same(x, y) for x, y in after)
    held = [s for s in a if s[0] == "day_start" and s[1].date() == D3]
    assert held and held[0][6] > 0  # a margin held overnight


def test_the_capital_joins_the_run_id_when_the_run_used_it(nifty: Path) -> None:
    """A strategy that reads the account: another capital is another run. One that never
    does (nor sizes from equity, nor has constraints on equity): the same run id."""
    a, _ = _run(nifty, margin=None, params={"margin": False})
    b, _ = _run(nifty, margin=None, params={"margin": False}, capital=2 * CAPITAL)
    assert a.run_id != b.run_id
    assert a.tradebook.drop(columns="run_id").equals(b.tradebook.drop(columns="run_id"))
    from engine_strategies import Scripted

    plain = [
        run_backtest(Scripted, data=nifty, capital=c, fill="mid", fees="none", progress=False,
                     executor="serial").run_id
        for c in (CAPITAL, 2 * CAPITAL, None)
    ]  # fmt: skip
    assert len(set(plain)) == 1
