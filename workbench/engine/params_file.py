"""``params.toml``: a run's resolved parameters, written with every run folder.

Seed 003 hands its validated parameters on as ``params.toml``. The file holds everything the
run's result depends on that a person chooses, after defaults -- enough for ``workbench run
--params params.toml --out DIR`` to run it again, byte for byte:

```toml
format = 1
run_id = "9f2c..."                      # the run it came from (checked again on a rerun)
strategy = "workbench.strategies.bear_call_spread:BearCallSpread"
data = "/abs/path/to/dataset"          # as recorded in the manifest
start = 2024-03-01                     # TOML dates
end = 2024-03-15
mode = "positional"
capital = 100000.0
rate = 0.0
params_null = ["profit_target_pct"]    # parameters set to None (TOML has no null)

[params_json]                          # a parameter holding None inside a list, as JSON text
legs = '[{"name": "short", "rule": null}]'

[params]                               # every Config field, after defaults
dte_window = [30, 45]
...
[template]                             # when the run came from a template
name = "bear-call-spread"
version = 1
sha256 = "..."
path = "/abs/templates/strategies/bear-call-spread.toml"
overrides = { qty = 2 }

[fill.entry]                           # the models' describe() dicts (parse_fill/fees/margin)
name = "orats"
...
[fees]
...
[margin]                               # absent without a margin model
[constraints]                          # the run's portfolio constraints, when it had any
```

A ``None`` inside a model's description is left out (every such field defaults to ``None``).
:func:`params_toml` builds the text from a run's manifest; :func:`read_params` reads one back
(``ValueError`` naming the file and the field at fault) as plain values ready for
``run_backtest``/``run_strategy``: ``fill`` a ``{"entry", "exit"}`` dict of models, ``fees``
and ``margin`` models.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "RunParams", "params_toml", "read_params", "to_toml"]

FORMAT = 1
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE.fullmatch(name) else _value(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string once DEL is escaped too (and characters outside
        # the BMP are left as they are: TOML has no surrogate-pair escapes)
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{" + inner + "}" if inner else "{}"
    raise ValueError(f"params.toml: cannot write {type(value).__name__} value {value!r}")


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def to_toml(document: Mapping[str, Any]) -> str:
    """A TOML document of plain values (scalars, dates, lists, nested tables): scalars first,
    then one ``[table]`` per mapping (sub-tables as ``[a.b]``). ``None`` is refused: callers
    drop or list their nulls first. Round-trips through :mod:`tomllib`."""
    lines: list[str] = []

    def table(prefix: list[str], body: Mapping[str, Any]) -> None:
        scalars = [(k, v) for k, v in body.items() if not isinstance(v, Mapping)]
        tables = [(k, v) for k, v in body.items() if isinstance(v, Mapping)]
        if prefix and (scalars or not tables):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in scalars:
            if v is None:
                raise ValueError(f"params.toml: {'.'.join([*prefix, k])} is None")
            lines.append(f"{_key(k)} = {_value(v)}")
        for k, v in tables:
            table([*prefix, str(k)], v)

    table([], document)
    return "\n".join(lines).lstrip("\n") + "\n"


def _none_in_list(value: Any, in_list: bool = False) -> bool:
    """Does ``value`` hold a ``None`` inside a list (where no dotted name can point at it)?"""
    if value is None:
        return in_list
    if isinstance(value, Mapping):
        return any(_none_in_list(v, in_list) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_none_in_list(v, True) for v in value)
    return False


def _nulls(params: Mapping[str, Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for k, v in params.items():
        path = f"{prefix}{k}"
        if v is None:
            found.append(path)
        elif isinstance(v, Mapping):
            found += _nulls(v, path + ".")
    return found


def _strip_nulls(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        str(k): (_strip_nulls(v) if isinstance(v, Mapping) else v)
        for k, v in params.items()
        if v is not None
    }


def params_toml(manifest: Mapping[str, Any]) -> str:
    """The ``params.toml`` text of a run from its manifest (see the module docstring)."""
    strategy = manifest.get("strategy") or {}
    dataset = manifest.get("dataset") or {}
    models = manifest.get("models") or {}
    params = dict(manifest.get("params") or {})
    doc: dict[str, Any] = {
        "format": FORMAT,
        "run_id": str(manifest.get("run_id", "")),
        "strategy": str(strategy.get("ref", "")),
        "data": str(dataset.get("path", "")),
    }
    for name in ("start", "end"):
        if manifest.get(name) is not None:
            doc[name] = date.fromisoformat(str(manifest[name]))
    doc["mode"] = str(strategy.get("mode", ""))
    if manifest.get("capital") is not None:
        doc["capital"] = float(manifest["capital"])
    doc["rate"] = float(models.get("rate", 0.0) or 0.0)
    vix = manifest.get("vix")
    if isinstance(vix, Mapping) and vix.get("dataset"):
        doc["vix"] = str(vix["dataset"])
    series = [
        str(e["path"])
        for e in manifest.get("series") or []
        if isinstance(e, Mapping) and e.get("path")
    ]
    if series:  # the extra datasets the strategy read (bar.series)
        doc["series"] = series
    as_json = {k: v for k, v in params.items() if _none_in_list(v)}
    plain = {k: v for k, v in params.items() if k not in as_json}
    doc["params_null"] = _nulls(plain)
    if as_json:
        doc["params_json"] = {k: json.dumps(v, sort_keys=True) for k, v in as_json.items()}
    doc["params"] = _strip_nulls(plain)
    template = manifest.get("template")
    if isinstance(template, Mapping):
        entry = _drop_none(dict(template))
        entry["overrides"] = dict(template.get("overrides") or {})
        null_overrides = _nulls(entry["overrides"])
        entry["overrides"] = _strip_nulls(entry["overrides"])
        if null_overrides:
            entry["overrides_null"] = null_overrides
        doc["template"] = entry
    fill = models.get("fill")
    if isinstance(fill, Mapping):
        doc["fill"] = _drop_none(fill)
    fees = models.get("fees")
    if isinstance(fees, Mapping):
        doc["fees"] = _drop_none(fees)
    margin = models.get("margin")
    if isinstance(margin, Mapping):
        doc["margin"] = _drop_none(margin)
    constraints = manifest.get("constraints")
    if isinstance(constraints, Mapping) and constraints:
        doc["constraints"] = dict(constraints)
    head = (
        "# A workbench run's resolved parameters. `workbench run --params params.toml --out DIR`\n"
        "# runs it again (same run id, same files).\n"
    )
    return head + to_toml(doc)


@dataclass(frozen=True)
class RunParams:
    """A ``params.toml`` read back: what to pass to ``run_strategy`` / ``run_backtest``."""

    path: Path
    run_id: str
    strategy: str
    data: str
    start: date | None
    end: date | None
    mode: str | None
    capital: float | None
    rate: float
    params: dict[str, Any]
    fill: Any
    fees: Any
    margin: Any
    vix: str | None = None
    #: the extra series datasets the run read (``bar.series``), in order
    series: tuple[str, ...] = ()
    #: ``{"name", "version", "sha256", "path", "overrides"}`` when the run came from a template
    template: dict[str, Any] | None = field(default=None)
    #: the run's portfolio constraints (:mod:`workbench.engine.constraints`), when it had any
    constraints: dict[str, Any] | None = field(default=None)


def _set_path(target: dict[str, Any], dotted: str) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = None


def read_params(path: str | Path) -> RunParams:
    """Read a ``params.toml`` (``ValueError`` naming the file and the field at fault)."""
    from workbench.execution.fees import parse_fees
    from workbench.execution.fills import parse_fill
    from workbench.execution.margin import parse_margin

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such parameters file")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a TOML file: {exc}") from None
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: format: expected {FORMAT}, got {doc.get('format')!r}")

    def text(name: str, required: bool = True) -> str | None:
        value = doc.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ValueError(f"{path}: {name}: expected text, got {value!r}")
        return value

    def day(name: str) -> date | None:
        value = doc.get(name)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        raise ValueError(f"{path}: {name}: expected a TOML date (YYYY-MM-DD), got {value!r}")

    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"{path}: params: expected a table")
    nulls = doc.get("params_null", [])
    if not isinstance(nulls, list) or not all(isinstance(n, str) and n for n in nulls):
        raise ValueError(f"{path}: params_null: expected a list of parameter names")
    params = dict(params)
    for name in nulls:
        _set_path(params, name)
    encoded = doc.get("params_json", {})
    if not isinstance(encoded, dict):
        raise ValueError(f"{path}: params_json: expected a table of JSON texts")
    for name, text_value in encoded.items():
        try:
            params[name] = json.loads(text_value)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: params_json.{name}: not JSON: {exc}") from None
    template = doc.get("template")
    if template is not None:
        if not isinstance(template, dict) or not {"name", "version"} <= set(template):
            raise ValueError(f"{path}: template: expected a table with name and version")
        template = dict(template)
        overrides = dict(template.get("overrides") or {})
        for name in template.pop("overrides_null", []):
            _set_path(overrides, str(name))
        template["overrides"] = overrides
    fill: Any = None
    if "fill" in doc:
        try:
            raw = doc["fill"]
            fill = {side: parse_fill(raw[side]) for side in ("entry", "exit")}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: fill: {exc}") from None
    fees: Any = None
    if "fees" in doc:
        try:
            fees = parse_fees(doc["fees"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: fees: {exc}") from None
    margin: Any = None
    if "margin" in doc:
        try:
            margin = parse_margin(doc["margin"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: margin: {exc}") from None
    constraints = doc.get("constraints")
    if constraints is not None:
        from workbench.engine.constraints import as_constraints

        if not isinstance(constraints, dict):
            raise ValueError(f"{path}: constraints: expected a table")
        as_constraints(constraints, what=f"{path}: constraints")
    capital = doc.get("capital")
    if capital is not None and (isinstance(capital, bool) or not isinstance(capital, int | float)):
        raise ValueError(f"{path}: capital: expected a number, got {capital!r}")
    rate = doc.get("rate", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise ValueError(f"{path}: rate: expected a number, got {rate!r}")
    series = doc.get("series", [])
    if not isinstance(series, list) or not all(isinstance(s, str) and s for s in series):
        raise ValueError(f"{path}: series: expected a list of dataset folders")
    mode = text("mode", required=False)
    if mode is not None and mode not in ("intraday", "positional"):
        raise ValueError(f"{path}: mode: expected 'intraday' or 'positional', got {mode!r}")
    return RunParams(
        path=path,
        run_id=str(doc.get("run_id", "")),
        strategy=str(text("strategy")),
        data=str(text("data")),
        start=day("start"),
        end=day("end"),
        mode=mode,
        capital=None if capital is None else float(capital),
        rate=float(rate),
        params=params,
        fill=fill,
        fees=fees,
        margin=margin,
        vix=text("vix", required=False),
        series=tuple(series),
        template=template,
        constraints=None if constraints is None else dict(constraints),
    )
