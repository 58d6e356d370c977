from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def nifty_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days of the synthetic NIFTY market (shared by the research tests of one worker)."""
    from workbench.data.synth import generate

    out = tmp_path_factory.mktemp("nifty-tiny") / "data"
    generate("nifty-intraday", out, seed=3, start="2024-01-02", days=2, progress=False, workers=1)
    return out
