"""Project-level checks: the conda environment agrees with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {
    "python-duckdb": "duckdb",
    "quantlib": "quantlib",
    "exchange-calendars": "exchange_calendars",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", requirement)
    assert match, requirement
    return _norm(match.group(1)), match.group(3).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    out: dict[str, str] = {}
    for req in reqs:
        name, spec = _split(req)
        if name == "dask":  # dask[distributed] is two conda packages
            out["distributed"] = spec
        out[name] = spec
    return out


def _environment() -> dict[str, str]:
    out: dict[str, str] = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if stripped.startswith("dependencies:"):
            in_deps = True
            continue
        if not in_deps or not stripped.strip().startswith("- "):
            continue
        if line.startswith("      "):  # pip: sub-list
            continue
        item = stripped.strip()[2:].strip()
        if item in ("pip", "pip:") or (
            item.startswith("python") and not item.startswith("python-")
        ):
            continue
        name, spec = _split(item)
        out[_norm(CONDA_TO_PYPI.get(name, name))] = spec
    return out


def test_environment_yml_matches_pyproject() -> None:
    py = _pyproject()
    env = _environment()
    assert set(py) == set(env), (
        f"only in pyproject: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}"
    )
    mismatched = {name: (py[name], env[name]) for name in py if py[name] != env[name]}
    assert not mismatched, f"version specifiers differ (pyproject, environment.yml): {mismatched}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in ci


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: {line!r} is not a 'name==version' pin"
        pins[_norm(name)] = version.strip()
    return pins


def test_lock_pins_every_dependency_within_its_range() -> None:
    """``make setup`` installs from requirements.lock: every dependency of pyproject.toml is
    pinned there, at a version its range admits (``make lock`` regenerates the file)."""
    from packaging.requirements import Requirement

    pins = _lock()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    problems = []
    for text in reqs:
        req = Requirement(text)
        name = _norm(req.name)
        if name not in pins:
            problems.append(f"{name}: not pinned")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{name}: pinned {pins[name]}, outside {req.specifier}")
        for extra in req.extras:  # dask[distributed] pulls in distributed
            if extra == "distributed" and "distributed" not in pins:
                problems.append("distributed: not pinned")
    assert not problems, "requirements.lock is out of step with pyproject.toml: " + "; ".join(
        problems
    )
    assert "workbench" not in pins, "the lock must not pin the project itself"


def test_setup_installs_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "-c $(LOCK)" in makefile and "LOCK := requirements.lock" in makefile
