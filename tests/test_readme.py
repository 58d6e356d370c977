"""The README's ten-line example runs as written (on a small synthetic dataset)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_example_runs(tmp_path: Path) -> None:
    from workbench.data.synth import generate

    data = tmp_path / "data"
    generate("nifty-intraday", data, seed=1, start="2024-01-01", days=2, progress=False, workers=1)
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has a python example"
    code = blocks[0].replace('"data/nifty-demo"', repr(str(data)))
    code = code.replace(
        'start="2024-01-01", end="2024-03-31"',
        'start="2024-01-01", end="2024-01-02", executor="serial"',
    )
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    # run as a module in sys.modules (as a script would be), so pydantic resolves annotations
    namespace = runpy.run_path(str(script), run_name="readme_example")
    result = namespace["result"]
    assert result.metrics["days"] == 2  # type: ignore[attr-defined]
    assert len(result.tradebook) > 0  # type: ignore[attr-defined]
