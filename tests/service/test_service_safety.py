"""The service's checks on what a client names, without a server: data paths, names,
strategies, tokens, the rate limiter, the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from workbench.service.config import ServiceConfig
from workbench.service.safety import (
    RateLimiter,
    UnsafeInputError,
    check_name,
    check_strategy,
    resolve_data,
    token_matches,
)


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    (root / "set").mkdir(parents=True)
    (root / "set" / "catalog.json").write_text("{}")
    (root / "plain").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "catalog.json").write_text("{}")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "set", target_is_directory=True)
    return root.resolve(), outside.resolve()


def test_data_paths(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    assert resolve_data("set", [root]) == root / "set"
    assert resolve_data(str(root / "set"), [root]) == root / "set"
    assert resolve_data("inner", [root]) == root / "set"  # a link that stays inside is fine
    assert resolve_data("set/", [root]) == root / "set"
    cases = {
        "escape": "outside the data roots",
        str(outside): "outside the data roots",
        "../outside": "'..' is not allowed",
        "set/../set": "'..' is not allowed",
        "plain": "not a dataset",
        "missing": "no dataset 'missing'",
        "": "must name a dataset",
        "a" * 2000: "too long",
        "set\x00": "NUL",
    }
    for value, fragment in cases.items():
        with pytest.raises(UnsafeInputError, match=fragment) as info:
            resolve_data(value, [root])
        assert info.value.loc == ("body", "data")
    with pytest.raises(UnsafeInputError):
        resolve_data(None, [root])
    # several roots: the first holding the name wins
    assert resolve_data("set", [outside.parent / "nowhere", root]) == root / "set"


def test_names_and_strategies() -> None:
    assert check_name("short-straddle", ("x",)) == "short-straddle"
    for bad in ("Short", "-x", "a/b", "..", "a" * 65, "", 3):
        with pytest.raises(UnsafeInputError, match="lowercase"):
            check_name(bad, ("body", "name"))
    allowed = {"pkg.mod:Good": object}
    assert check_strategy("pkg.mod:Good", allowed) is object
    for bad in ("pkg.mod:Other", "os:system", "a/b.py:C", "pkg.mod:Good()", "pkg..mod:Good"):
        with pytest.raises(UnsafeInputError) as info:
            check_strategy(bad, allowed)
        assert info.value.loc == ("body", "strategy")


def test_tokens() -> None:
    assert token_matches("Bearer abc12345", "abc12345")
    assert token_matches("bearer abc12345", "abc12345")
    for header in (None, "", "abc12345", "Basic abc12345", "Bearer abc1234", "Bearer abc123456"):
        assert not token_matches(header, "abc12345")


def test_rate_limiter_buckets_per_client() -> None:
    now = [100.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("a")
    assert wait is not None and wait == pytest.approx(20.0)  # one token every 20 s
    assert RateLimiter.retry_after(wait) == "20"
    assert limiter.acquire("b") is None  # another client has its own bucket
    now[0] += 20.0
    assert limiter.acquire("a") is None and limiter.acquire("a") is not None
    now[0] += 3600.0
    assert [limiter.acquire("a") for _ in range(4)][:3] == [
        None,
        None,
        None,
    ]  # burst refilled, capped
    assert RateLimiter.retry_after(0.01) == "1"
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_settings_are_validated(tmp_path: Path) -> None:
    config = ServiceConfig(reports=tmp_path / "r", data_roots=(tmp_path,))
    assert config.host == "127.0.0.1" and config.port == 8000  # localhost by default
    with pytest.raises(ValidationError, match="not a folder"):
        ServiceConfig(reports=tmp_path, data_roots=(tmp_path / "nope",))
    with pytest.raises(ValidationError, match="whitespace"):
        ServiceConfig(reports=tmp_path, data_roots=(tmp_path,), token="has space in it")
    with pytest.raises(ValidationError, match="at least 8"):
        ServiceConfig(reports=tmp_path, data_roots=(tmp_path,), token="short")
    with pytest.raises(ValidationError, match="workers"):
        ServiceConfig(reports=tmp_path, data_roots=(tmp_path,), workers=0)
