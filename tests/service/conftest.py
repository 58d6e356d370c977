"""Fixtures of the service tests (helpers in ``service_helpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_helpers import Server


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding ``nifty`` (three days of the synthetic NIFTY market)."""
    from workbench.data.synth import generate

    root = tmp_path_factory.mktemp("data-root")
    generate(
        "nifty-intraday",
        root / "nifty",
        seed=3,
        start="2024-01-02",
        days=3,
        progress=False,
        workers=1,
    )
    return root


@pytest.fixture
def server_factory(tmp_path: Path, data_root: Path) -> Iterator[Any]:
    made: list[Server] = []

    def make(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(tmp_path, data_root, *args, env=env)
        made.append(server)
        return server

    yield make
    for server in made:
        server.cleanup()


@pytest.fixture
def server(server_factory: Any) -> Server:
    """A started server with 2 workers."""
    return server_factory("--workers", "2").start()  # type: ignore[no-any-return]
