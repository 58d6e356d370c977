from __future__ import annotations

import pytest

from workbench.cli.main import build_parser, main


def test_demo_options_parse() -> None:
    args = build_parser().parse_args(["demo", "--data-only", "--days", "5"])
    assert args.data_only and args.days == 5


def test_demo_rejects_non_positive_days(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--days", "0"]) == 2
    assert "--days must be positive" in capsys.readouterr().err
