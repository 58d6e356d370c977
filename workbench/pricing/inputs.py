"""Argument handling shared by the pricing functions: conversion, broadcasting, kernel layout.

The public functions accept scalars, lists and NumPy arrays of any broadcast-compatible shapes.
:func:`prepare` converts them to the layout the kernels take (1-D contiguous float64, or bool for
``is_call``, each of length ``n`` or 1) and remembers the broadcast shape so results can be
returned in it. Mismatched shapes and non-numeric values raise ``ValueError`` naming the
parameter; out-of-domain numbers are not errors here (the kernels return NaN for them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Arrays at least this long use the multi-threaded kernels; below it thread start-up costs
#: more than it saves.
PARALLEL_MIN_SIZE = 20_000
#: Implied vol costs ~10x a price per element, so threads pay off on shorter arrays.
PARALLEL_MIN_SIZE_IV = 4_000


_TRUE = np.ones(1, dtype=np.bool_)
_FALSE = np.zeros(1, dtype=np.bool_)


@dataclass(frozen=True, slots=True)
class Prepared:
    """Kernel-ready arguments: ``arrays`` in the order given, ``shape`` the broadcast shape."""

    arrays: tuple[np.ndarray, ...]
    shape: tuple[int, ...]
    size: int


def _as_float(name: str, value: Any) -> np.ndarray:
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"parameter {name!r} must be numeric; got {value!r:.80}") from exc
    return arr


def _as_is_call(value: Any) -> np.ndarray:
    """``is_call`` as a bool array: bools, 0/1, or ``"C"``/``"P"`` (also CE/PE, call/put)."""
    if value is True or value is False:
        return _TRUE if value else _FALSE
    arr = np.asarray(value)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iu":
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError("parameter 'is_call' must be boolean (or 0/1, or 'C'/'P')")
        return arr.astype(np.bool_)
    if arr.dtype.kind in "UO" or arr.dtype.kind == "S":
        text = np.char.upper(np.char.strip(arr.astype(str)))
        calls = np.isin(text, ("C", "CE", "CALL"))
        puts = np.isin(text, ("P", "PE", "PUT"))
        bad = ~(calls | puts)
        if bad.any():
            index = int(np.flatnonzero(bad.reshape(-1))[0])
            first = str(arr.reshape(-1)[index])
            raise ValueError(
                f"parameter 'is_call': {first!r} (element {index}) is not an option right (C/P)"
            )
        return calls
    raise ValueError(
        f"parameter 'is_call' must be boolean (or 0/1, or 'C'/'P'); got dtype {arr.dtype}"
    )


_NUMBER_TYPES = (float, int, np.floating, np.integer)
_RIGHTS = {"C": True, "CE": True, "CALL": True, "P": False, "PE": False, "PUT": False}


def scalar_args(*values: Any) -> tuple[float, ...] | None:
    """The values as Python floats when every one is a real number scalar, else None.

    Lets the public functions skip array preparation on scalar calls (about 1 us instead of
    tens of us).
    """
    for value in values:
        if not isinstance(value, _NUMBER_TYPES):
            return None
    return tuple(float(v) for v in values)


def scalar_is_call(value: Any) -> bool | None:
    """``is_call`` as a bool when it is a scalar right (bool, 0/1, C/P string), else None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _RIGHTS.get(value.strip().upper())
    return None


def prepare(**params: Any) -> Prepared:
    """Convert and broadcast the named parameters (``is_call`` as bool, the rest float64).

    Raises ``ValueError`` naming the parameters whose shapes do not broadcast together.
    """
    names = list(params)
    arrays = [
        _as_is_call(value) if name == "is_call" else _as_float(name, value)
        for name, value in params.items()
    ]
    shapes = {a.shape for a in arrays if a.ndim}
    if not shapes:
        shape: tuple[int, ...] = ()
    elif len(shapes) == 1:
        shape = shapes.pop()
    else:
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            listed = ", ".join(f"{n}{a.shape}" for n, a in zip(names, arrays))
            raise ValueError(f"parameter shapes do not broadcast together: {listed}") from None
    size = math.prod(shape)
    out = []
    for arr in arrays:
        if arr.size == 1:
            flat = arr.reshape(1)
        elif arr.shape == shape:
            flat = arr.reshape(-1)
        else:
            flat = np.broadcast_to(arr, shape).reshape(-1)
        # one compiled specialisation: C-contiguous and writeable (Numba types read-only
        # arrays separately); the kernels never write to their inputs
        flags = flat.flags
        if not (flags.c_contiguous and flags.writeable):
            flat = np.array(flat, order="C")
        out.append(flat)
    return Prepared(arrays=tuple(out), shape=tuple(shape), size=size)


def shaped(values: np.ndarray, shape: tuple[int, ...]) -> Any:
    """Reshape a kernel result; a 0-d result is returned as a NumPy float (ufunc convention)."""
    if shape == ():
        return values.reshape(())[()]
    return values.reshape(shape)
