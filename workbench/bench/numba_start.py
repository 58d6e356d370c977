"""Benchmark ``numba_start``: import + first call of the pricing kernels in a fresh process.

Each sample is a new Python subprocess (the on-disk Numba cache warmed beforehand) that imports
``workbench.pricing`` and calls ``bs_greeks`` and then ``implied_vol`` on small arrays once.
Figures split the time into importing NumPy + Numba themselves, importing ``workbench.pricing``
on top, the first call (loading the cached machine code, plus Numba's one-time target-context
initialisation, which imports ``scipy.linalg`` for its BLAS check), and the first call of a
second kernel (the cache load alone). Baseline: the same measurement for a trivial cached
``@njit`` function in a throw-away module, i.e. Numba's own floor (its import and target-context
initialisation), so the ratio (floor / pricing import + first call, at most ~1) and
``pricing_own_cost_s_median`` say how much of the start-up is the workbench's and not Numba's.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, time
t0 = time.perf_counter()
import numpy as np
import numba  # noqa: F401
t1 = time.perf_counter()
import workbench.pricing as wp
t2 = time.perf_counter()
x = np.linspace(80.0, 120.0, 16)
wp.bs_greeks(100.0, x, 0.5, 0.03, 0.2, x > 100.0)
t3 = time.perf_counter()
wp.implied_vol(np.full(16, 5.0), 100.0, x, 0.5, 0.03, x > 100.0)
t4 = time.perf_counter()
print(json.dumps({"numba_import": t1 - t0, "pricing_import": t2 - t1, "first_call": t3 - t2,
                  "second_kernel_first_call": t4 - t3}))
"""

_FLOOR_MODULE = """
import numpy as np
from numba import njit


@njit(cache=True)
def total(x):
    acc = 0.0
    for v in x:
        acc += v
    return acc
"""

_FLOOR = """
import json, sys, time
sys.path.insert(0, {folder!r})
t0 = time.perf_counter()
import numpy as np
import numba  # noqa: F401
t1 = time.perf_counter()
import numba_floor_probe
numba_floor_probe.total(np.linspace(0.0, 1.0, 16))
t2 = time.perf_counter()
print(json.dumps({{"numba_import": t1 - t0, "first_call": t2 - t1}}))
"""


def _child(code: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict:
    samples = 3 if quick else 7
    _child(_CHILD)  # warm the on-disk cache (compiles only if it is cold or stale)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "numba_floor_probe.py").write_text(_FLOOR_MODULE)
        floor_code = _FLOOR.format(folder=folder)
        _child(floor_code)  # warm its cache
        runs, floors = [], []
        for _ in range(samples):  # interleaved, so load changes hit both alike
            runs.append(_child(_CHILD))
            floors.append(_child(floor_code))
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    total = statistics.median(r["pricing_import"] + r["first_call"] for r in runs)
    floor = statistics.median(f["first_call"] for f in floors)
    return {
        "benchmark": "numba_start",
        "ratio": floor / total,
        "baseline": "fresh process: first call of a trivial cached @njit function (Numba's own floor)",
        "figures": {
            "numpy_numba_import_s_median": med["numba_import"],
            "pricing_import_s_median": med["pricing_import"],
            "first_call_s_median": med["first_call"],
            "second_kernel_first_call_s_median": med["second_kernel_first_call"],
            "pricing_import_plus_first_call_s_median": total,
            "numba_floor_first_call_s_median": floor,
            "pricing_own_cost_s_median": total - floor,
            "samples": samples,
        },
    }
