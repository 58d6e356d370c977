"""Deterministic random streams for the synthetic market.

Every random draw is made from a generator derived from ``(seed, stream, key)`` with
:class:`numpy.random.SeedSequence`, where ``key`` is usually a trading day's proleptic ordinal.
A day's content therefore depends only on the seed, the stream name and the day, never on how
the days are split into chunks or spread over processes.

:func:`hash_uniform` gives per-element uniforms from integer keys (a vectorised SplitMix64
finaliser) for quantities that must be recomputable for any (instrument, day) without
replaying a generator, such as open interest on the previous day.
"""

from __future__ import annotations

import zlib

import numpy as np

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int; raise ``ValueError`` naming ``seed`` if it is not an int >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def stream_id(stream: str) -> int:
    """Stable 32-bit id of a stream name (CRC-32; independent of ``PYTHONHASHSEED``)."""
    return zlib.crc32(stream.encode("utf-8"))


def generator(seed: int, stream: str, key: int = 0) -> np.random.Generator:
    """A PCG64 generator for ``(seed, stream, key)``; ``key`` must be >= 0."""
    if key < 0:
        raise ValueError(f"generator key must be >= 0, got {key}")
    sequence = np.random.SeedSequence([seed, stream_id(stream), key])
    return np.random.Generator(np.random.PCG64(sequence))


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return x ^ (x >> np.uint64(31))


def hash_uniform(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniforms in [0, 1), one per element of the broadcast integer ``keys``.

    The same ``(seed, stream, keys)`` always gives the same values; keys are hashed in order,
    so ``(a, b)`` and ``(b, a)`` differ.
    """
    arrays = np.broadcast_arrays(*[np.asarray(k, dtype=np.int64) for k in keys])
    state = np.full(arrays[0].shape, np.uint64(seed) ^ np.uint64(stream_id(stream) << 32))
    for arr in arrays:
        state = _splitmix64(state ^ arr.astype(np.uint64))
    return (state >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
