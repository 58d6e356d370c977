"""Importing the pricing layer compiles nothing; a second process loads kernels from the disk cache."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import workbench.pricing as wp
from workbench.pricing import iv_kernels, kernels
compiled_at_import = [k.__name__ for k in (kernels.greeks_serial, kernels.price_serial,
                      iv_kernels.implied_serial) if k.signatures]
pandas_at_import = "pandas" in sys.modules
wp.bs_greeks([100.0, 101.0], 100.0, 0.5, 0.03, 0.2, [True, False])
stats = kernels.greeks_serial.stats
print(json.dumps({"compiled_at_import": compiled_at_import, "pandas_at_import": pandas_at_import,
                  "cache_hits": sum(stats.cache_hits.values()),
                  "cache_misses": sum(stats.cache_misses.values())}))
"""


def _probe() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True, timeout=600
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_compiles_nothing_and_the_cache_is_used() -> None:
    _probe()  # warms the on-disk cache if it is cold
    second = _probe()
    assert second["compiled_at_import"] == []
    assert second["pandas_at_import"] is False
    assert second["cache_hits"] >= 1 and second["cache_misses"] == 0
