"""The command line as people use it: times as they write them, one line per error (the
traceback only behind --debug), money printed as money, parameters that cannot be replayed
refused."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from workbench.cli.main import main

USER = textwrap.dedent(
    """
    from datetime import time

    from workbench import Strategy, StrategyConfig


    class TimedStraddle(Strategy):
        class Config(StrategyConfig):
            entry: time = time(9, 20)

        def on_bar(self, bar):
            if self.idle and bar.time >= self.config.entry:
                atm = bar.atm(expiry=0)
                self.try_fill([self.add(atm, "C", "SELL"), self.add(atm, "P", "SELL")])


    class Raises(Strategy):
        mode = "positional"

        def on_bar(self, bar):
            if bar.date.day == 3:
                raise ZeroDivisionError("a bug in my strategy")


    class RaisesIntraday(Strategy):
        def on_bar(self, bar):
            if bar.date.day == 3:
                raise ZeroDivisionError("a bug in my strategy")
    """
)


@pytest.fixture(scope="module")
def user_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user") / "timed.py"
    path.write_text(USER)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("written", ["9:30", "09:30", "0930", "930"])
def test_times_as_people_write_them(
    written: str,
    user_file: Path,
    nifty_tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    argv = ["run", f"{user_file}:TimedStraddle", "--data", str(nifty_tiny), "--executor"]
    argv += ["serial", "--no-progress", "--set", f"entry={written}", "--out", str(out)]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["entry"] == "09:30:00"
    tradebook = __import__("pandas").read_parquet(out / "tradebook.parquet")
    opens = tradebook[tradebook["action"] == "open"]
    assert len(opens) and (opens["ts"].dt.strftime("%H:%M") >= "09:30").all()


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("entry=9.30", "'entry'"),  # a JSON number: used to become 9.3 s past midnight UTC
        ("entry=25:00", "'entry'"),
        ("entry=noon", "'entry'"),
    ],
)
def test_a_time_that_is_not_one_is_a_line_naming_the_parameter(
    setting: str,
    named: str,
    user_file: Path,
    nifty_tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", f"{user_file}:TimedStraddle", "--data", str(nifty_tiny)]
    argv += ["--set", setting, "--out", str(tmp_path / "x")]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert named in err and "HH:MM" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("stop_loss_pct=inf", "finite"),  # the manifest used to record null: not replayable
        ("stop_loss_pct=NaN", "finite"),
        ("qty=true", "boolean"),  # used to run with qty 1
    ],
)
def test_values_a_manifest_cannot_replay_are_refused(
    setting: str,
    why: str,
    nifty_tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", "short-straddle", "--data", str(nifty_tiny), "--set", setting]
    code, _, err = _run([*argv, "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert setting.split("=")[0] in err and why in err


def test_a_failing_positional_strategy_is_one_line_and_debug_shows_the_traceback(
    user_file: Path, nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", f"{user_file}:Raises", "--data", str(nifty_tiny), "--no-progress"]
    code, _, err = _run([*argv, "--out", str(tmp_path / "x")], capsys)
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "2024-01-03" in err and "ZeroDivisionError: a bug in my strategy" in err
    assert "timed.py:" in err and "--debug" in err
    code, _, err = _run(["--debug", *argv, "--out", str(tmp_path / "y")], capsys)
    assert code == 1
    assert err.count("Traceback (most recent call last)") == 1  # once, not once per layer
    assert "raise ZeroDivisionError" in err


def test_failing_intraday_days_are_counted_and_kept_in_days_csv(
    user_file: Path, nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", f"{user_file}:RaisesIntraday", "--data", str(nifty_tiny), "--executor"]
    argv += ["serial", "--no-progress", "--out", str(out)]
    code, stdout, err = _run(argv, capsys)
    assert code == 1
    assert "Traceback" not in stdout + err
    assert "1 day(s) failed" in stdout and "days.csv" in stdout
    days = __import__("pandas").read_csv(out / "days.csv")
    failed = days[days["status"] == "failed"]
    assert failed["date"].tolist() == ["2024-01-03"]
    assert "ZeroDivisionError" in failed["error"].iloc[0]
    assert "Traceback" in failed["error"].iloc[0]


def test_money_is_printed_as_money(
    nifty_tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "short-straddle", "--data", str(nifty_tiny), "--executor", "serial"]
    code, out, err = _run([*argv, "--no-progress", "--out", str(tmp_path / "x")], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "x" / "metrics.json").read_text())
    line = next(line for line in out.splitlines() if line.strip().startswith("total_pnl"))
    assert line.split()[-1] == f"{metrics['total_pnl']:,.2f}"
    assert "e+" not in out


def test_format_metric() -> None:
    from workbench.cli.run import format_metric

    assert format_metric("total_pnl", 14095.0) == "14,095.00"
    assert format_metric("max_drawdown", -63963.63) == "-63,963.63"
    assert format_metric("sharpe", 0.88087) == "0.881"
    assert format_metric("trades", 1200) == "1,200"
    assert format_metric("win_rate", None) == "-"
    assert format_metric("sharpe", float("nan")) == "-"
