"""The run manifest (DESIGN.md, Research layer) and the run id.

The manifest names everything a result depends on: strategy (template) name and version,
parameters and their hash, dataset name, path and content version, underlying, date range, mode,
fill/fee/margin models, rate and capital, package version and git commit, dependency versions and
seeds (the dataset's generator seed when the catalog records one; any ``seed`` parameter). It
holds no wall-clock time, so the same inputs give the same manifest. The run id is a hash of the
inputs (not of the environment): ``sha256`` over the canonical JSON of the identity fields, first
16 hex digits.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

DEPENDENCIES = (
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "numba",
    "pydantic",
    "exchange_calendars",
    "scipy",
)


def run_id(identity: dict[str, Any]) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def package_version() -> str:
    try:
        return metadata.version("workbench")
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def git_commit() -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout holding the package."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        return {"commit": sha, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


@lru_cache(maxsize=1)
def dependency_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out
