from __future__ import annotations

import numpy as np
import pytest

from workbench.data.synth.seeding import check_seed, generator, hash_uniform


def test_generator_is_keyed_by_seed_stream_and_key() -> None:
    a = generator(1, "s", 5).random(4)
    assert np.array_equal(a, generator(1, "s", 5).random(4))
    assert not np.array_equal(a, generator(2, "s", 5).random(4))
    assert not np.array_equal(a, generator(1, "t", 5).random(4))
    assert not np.array_equal(a, generator(1, "s", 6).random(4))


def test_hash_uniform_is_deterministic_in_range_and_order_sensitive() -> None:
    keys = np.arange(10_000)
    u = hash_uniform(7, "oi", keys, 3)
    assert np.array_equal(u, hash_uniform(7, "oi", keys, 3))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02  # 10,000 uniforms: sd of the mean ~0.003
    assert not np.array_equal(hash_uniform(7, "oi", 1, 2), hash_uniform(7, "oi", 2, 1))
    assert not np.array_equal(u, hash_uniform(8, "oi", keys, 3))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_bad_seed_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        check_seed(bad)
