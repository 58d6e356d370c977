from __future__ import annotations

import pytest

from workbench.cli.main import build_parser, main


def test_demo_options_parse() -> None:
    args = build_parser().parse_args(["demo", "--data-only", "--days", "5"])
    assert args.data_only and args.days == 5


def test_demo_rejects_non_positive_days(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--days", "0"]) == 2
    assert "--days must be positive" in capsys.readouterr().err


def test_demo_data_is_rebuilt_only_when_stale(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from workbench.research.demo import ensure_demo_data

    data = ensure_demo_data(tmp_path, days=2, progress=False)
    catalog = data / "catalog.json"
    first = catalog.stat().st_mtime_ns
    assert ensure_demo_data(tmp_path, days=2, progress=False) == data
    assert catalog.stat().st_mtime_ns == first, "a current dataset is reused"
    # a dataset made by another generator version (or other arguments) is rebuilt
    content = json.loads(catalog.read_text())
    content["source"] = content["source"].replace("generator=", "generator=0")
    catalog.write_text(json.dumps(content))
    ensure_demo_data(tmp_path, days=2, progress=False)
    assert "generator=0" not in json.loads(catalog.read_text())["source"]
