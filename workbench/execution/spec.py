"""Parsing of the short model specs used by the CLI and notebooks.

A spec is ``name[:value][,key=value...]``, e.g. ``"fraction:0.5"``, ``"per-contract:0.65,min=1"``,
``"mid,fallback=none"``. Fee specs may join several models with ``+``
(``"per-order:20,per_leg=true+india"``). :func:`parse_spec` only splits the text; each model
family (fills, fees, margin) validates names and values and raises :class:`SpecError` naming
the whole spec and the part at fault.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class SpecError(ValueError):
    """A model spec string that cannot be parsed; the message names the spec and the fault."""


@dataclass(frozen=True, slots=True)
class ParsedSpec:
    """One model spec split into its parts (all still text)."""

    text: str
    name: str
    value: str | None
    options: dict[str, str]

    def number(self, text: str, what: str) -> float:
        """``text`` as a finite float; a trailing ``%`` divides by 100."""
        raw = text.strip()
        scale = 1.0
        if raw.endswith("%"):
            raw, scale = raw[:-1].strip(), 0.01
        try:
            value = float(raw) * scale
        except ValueError:
            raise SpecError(f"spec {self.text!r}: {what} {text!r} is not a number") from None
        if not math.isfinite(value):
            raise SpecError(f"spec {self.text!r}: {what} {text!r} is not finite")
        return value

    def flag(self, text: str, what: str) -> bool:
        raw = text.strip().lower()
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise SpecError(f"spec {self.text!r}: {what} {text!r} is not true/false")

    def reject_unknown(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.options) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed)) or "none"
            raise SpecError(
                f"spec {self.text!r}: unknown option(s) {', '.join(unknown)} for "
                f"{self.name!r} (allowed: {known})"
            )


def parse_spec(text: str) -> ParsedSpec:
    """Split ``name[:value][,key=value...]`` into its parts; names are lower-cased."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"model spec must be a non-empty string, got {text!r}")
    head, *rest = [part.strip() for part in text.strip().split(",")]
    name, sep, value = head.partition(":")
    name = name.strip().lower().replace("_", "-")
    if not name:
        raise SpecError(f"spec {text!r}: missing model name before ':'")
    options: dict[str, str] = {}
    for part in rest:
        key, eq, val = part.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not eq or not key or not val.strip():
            raise SpecError(f"spec {text!r}: option {part!r} is not key=value")
        if key in options:
            raise SpecError(f"spec {text!r}: option {key!r} given twice")
        options[key] = val.strip()
    return ParsedSpec(text=text, name=name, value=value.strip() if sep else None, options=options)
