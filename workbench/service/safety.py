"""What a client may name, checked in one place: data paths, names, ids; tokens; rate limits.

A client never runs code of its choosing: strategies come only from the modules the server was
started with (``--strategies``) or from templates (whose strategies an administrator chose),
and every name a client sends that becomes a path is checked here before it is used:

- a data path must resolve (symlinks followed) to a dataset folder under one of the data roots;
  a ``..`` component, a NUL byte or an over-long path is refused outright;
- template names, grid names and preset slugs are lowercase slugs; run ids are record ids.

Each refusal is an :class:`UnsafeInputError` naming the request field, which the app turns
into a 422 answer.
"""

from __future__ import annotations

import hmac
import math
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

#: Lowercase slugs: template names, grid names, event preset slugs.
NAME = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
#: ``module:Class`` (no path, no call, nothing but dotted identifiers).
STRATEGY_REF = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
)
MAX_PATH_CHARS = 1024


class UnsafeInputError(ValueError):
    """A request field the service refuses; ``loc`` is its location (``("body", "data")``)."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


def check_name(value: Any, loc: Sequence[str | int], what: str = "name") -> str:
    """``value`` if it is a lowercase slug (letters, digits, '-'; at most 64)."""
    if not isinstance(value, str) or not NAME.match(value):
        raise UnsafeInputError(
            loc, f"{what} {value!r} must be lowercase letters, digits and '-' (at most 64)"
        )
    return value


def resolve_data(
    value: Any, roots: Sequence[Path], loc: Sequence[str | int] = ("body", "data")
) -> Path:
    """The dataset folder ``value`` names, resolved and checked to lie under a data root.

    A relative path is looked up under each root in turn (``nifty-demo`` ->
    ``<root>/nifty-demo``); an absolute one must already lie under a root. The folder must hold
    a ``catalog.json``. Symlinks are followed before the check, so a link pointing out of the
    roots is refused like the path it points to.
    """
    if not isinstance(value, str) or not value.strip():
        raise UnsafeInputError(loc, "data must name a dataset folder")
    if len(value) > MAX_PATH_CHARS or "\x00" in value:
        raise UnsafeInputError(
            loc, f"data path is too long or holds a NUL byte ({len(value)} chars)"
        )
    pure = PurePosixPath(value)
    if ".." in pure.parts:
        raise UnsafeInputError(loc, f"data {value!r}: '..' is not allowed in a data path")
    candidates = [Path(value)] if pure.is_absolute() else [root / value for root in roots]
    roots_text = ", ".join(str(r) for r in roots)
    for candidate in candidates:
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
            raise UnsafeInputError(
                loc, f"data {value!r} lies outside the data roots ({roots_text})"
            )
        if not (resolved / "catalog.json").is_file():
            raise UnsafeInputError(loc, f"data {value!r} is not a dataset (no catalog.json)")
        return resolved
    if pure.is_absolute() and not any(Path(value).is_relative_to(root) for root in roots):
        raise UnsafeInputError(loc, f"data {value!r} lies outside the data roots ({roots_text})")
    raise UnsafeInputError(loc, f"no dataset {value!r} under the data roots ({roots_text})")


def check_strategy(
    value: Any, allowed: Mapping[str, Any], loc: Sequence[str | int] = ("body", "strategy")
) -> Any:
    """The class ``value`` (``module:Class``) names, if it is one of the allowed strategies."""
    if not isinstance(value, str) or not STRATEGY_REF.match(value):
        raise UnsafeInputError(
            loc, f"strategy {value!r} must be 'module:Class' from a module the server allows"
        )
    cls = allowed.get(value)
    if cls is None:
        shown = ", ".join(sorted(allowed)) or "none (start the server with --strategies MODULE)"
        raise UnsafeInputError(
            loc, f"strategy {value!r} is not one the server allows; allowed: {shown}"
        )
    return cls


def token_matches(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant-time compare)."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


class RateLimiter:
    """A token bucket per client: ``per_minute`` submissions a minute, bursts of at most that
    many. :meth:`acquire` takes one token or says how long to wait. Thread-safe; clients idle
    for ten minutes are forgotten."""

    def __init__(self, per_minute: int, *, clock: Any = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"rate limit must be >= 1 per minute, got {per_minute}")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float | None:
        """``None`` when the submission may go ahead, else the seconds until it may (> 0)."""
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return None
            self._buckets[client] = (tokens, now)
            return max((1.0 - tokens) / self.rate, 0.001)

    @staticmethod
    def retry_after(seconds: float) -> str:
        """The ``Retry-After`` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(seconds)))

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        for key, (_, stamp) in list(self._buckets.items()):
            if now - stamp > 600:
                del self._buckets[key]
