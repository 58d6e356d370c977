"""The machine reference beside bench figures: the best of its repeats of one fixed workload."""

from __future__ import annotations

import pytest

from workbench.bench import machine


def test_the_reference_is_the_best_of_its_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    # perf_counter readings around three runs: 0.5 s, 0.2 s, 0.9 s
    clock = iter([10.0, 10.5, 20.0, 20.2, 30.0, 30.9])
    runs: list[int] = []
    monkeypatch.setattr(machine.time, "perf_counter", lambda: next(clock))
    monkeypatch.setattr(machine, "_workload", lambda n: runs.append(n) or 0.0)
    assert machine.reference_s(repeats=3, iterations=7) == pytest.approx(0.2)
    assert runs == [7, 7, 7]


def test_the_workload_is_fixed() -> None:
    """Same work every time (a reference that varied with its inputs would compare nothing)."""
    first = machine._workload(10_000)
    assert first == machine._workload(10_000)
    assert first != machine._workload(10_001)
