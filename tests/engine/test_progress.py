"""The run's progress bar: tqdm when shown, a callable's reports, nothing (and no tqdm import)
when ``progress=False``."""

from __future__ import annotations

import subprocess
import sys

from workbench.engine.runner import _progress


def test_no_bar_imports_no_tqdm() -> None:
    code = (
        "import sys\n"
        "from workbench.engine.runner import _progress\n"
        "bar = _progress(3, False, 'days')\n"
        "bar.update(2); bar.update(); bar.close()\n"
        "print('tqdm' in sys.modules)\n"
        "_progress(3, True, 'days').close()\n"
        "print('tqdm' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert out == ["False", "True"]


def test_a_shown_bar_counts_days_and_a_callable_hears_each_step() -> None:
    from tqdm.auto import tqdm

    bar = _progress(4, True, "days")
    assert isinstance(bar, tqdm) and not bar.disable
    bar.update(3)
    assert bar.n == 3 and bar.total == 4
    bar.close()
    heard: list[tuple[int, int]] = []
    calls = _progress(4, lambda done, total: heard.append((done, total)), "days")
    calls.update(1)
    calls.update(3)
    assert heard == [(0, 4), (1, 4), (4, 4)]
