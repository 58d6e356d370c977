"""``workbench events --compare`` and ``workbench walkforward`` check the dataset and the fill,
fees and margin specs once, before any backtest: a typo used to fail every run of the
comparison or every window, each with the same error, and exit 1 with an empty result."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli.main import main


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("tiny") / "data"
    generate("nifty-intraday", out, seed=1, start="2024-06-03", days=1, progress=False, workers=1)
    return out


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--fees", "per-ordr:1", "fees: spec 'per-ordr:1': unknown fee model"),
        ("--margin", "foo", "margin: spec 'foo': unknown margin model"),
        ("--fill", "fraction:2", "fill: spec 'fraction:2': fraction must be in [0, 1]"),
    ],
)
def test_events_compare_bad_spec_is_one_line_before_running(
    tiny: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, fragment: str
) -> None:
    argv = ["events", "nifty-election-2024", "--compare", "--data", str(tiny)]
    code = main([*argv, "--capital", "100000", "--workers", "1", "--no-progress", option, value])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and fragment in captured.err


def test_walkforward_bad_fees_is_one_line_naming_the_file(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "wf.toml"
    spec.write_text(
        f'template = "short-straddle"\ndata = "{tiny}"\nfees = "per-ordr:1"\n'
        "[grid]\nstop_loss_pct = [0.2]\n[windows]\ntrain = 2\nvalidate = 1\ntest = 1\n"
    )
    code = main(["walkforward", str(spec), "--workers", "1", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert f"{spec}: fees: spec 'per-ordr:1'" in captured.err and captured.err.count("\n") == 1


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_grid_and_walkforward_refuse_non_positive_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    """``grid --workers 0`` silently ran on every core (0 read as 'not given')."""
    for command in ("grid", "walkforward"):
        code = main([command, str(tmp_path / "spec.toml"), "--workers", workers])
        err = capsys.readouterr().err
        assert code == 2 and f"--workers must be >= 1, got {workers}" in err
