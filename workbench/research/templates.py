"""Named, versioned strategy templates (``templates/strategies/*.toml``).

A template names a strategy class and its parameters::

    name = "short-straddle"
    version = 1
    strategy = "workbench.strategies.short_straddle:ShortStraddle"
    description = "Intraday ATM short straddle with a combined stop loss."
    tags = ["intraday", "short-vol"]

    [params]
    entry = "09:20"
    stop_loss = 0.25

    [constraints]            # optional: portfolio constraints of its runs
    max_open_positions = 3

Every version a run uses is kept in the version store (:mod:`workbench.research.versions`,
``<reports>/repository.sqlite``) with its text and hash, and is immutable from then on: loading
a template whose file changed while its version stayed the same raises
:class:`TemplateVersionError`; bump the version to change it. ``name@version`` (e.g.
``protective-put@1``) loads exactly that version -- from the file while the file holds it, from
the store after the file moved on. A name alone loads the highest version that is ``active``
(the file's version counts as active until the store says otherwise); ``draft`` versions
(stored through the service) are not runnable, ``archived`` ones only by ``name@version``.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.model.names import check_name
from workbench.research.files import load_toml_model, parse_toml_model, validation_problems
from workbench.research.versions import (
    TemplateVersion,
    TemplateVersions,
    VersionConflictError,
)

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "strategies"
#: References written by reports folders older than the version store (name@version -> hash);
#: read once into the store.
REFS_FILE = "template-refs.json"

#: ``name`` or ``name@version``.
TEMPLATE_REF = re.compile(r"^(?P<name>[a-z0-9][a-z0-9\-]*)(?:@(?P<version>[1-9][0-9]{0,8}))?$")


class TemplateError(ValueError):
    """A template file is missing, unreadable or invalid; the message names the file and field."""


class TemplateVersionError(TemplateError):
    """A referenced template changed without a version bump."""


class StrategyTemplate(BaseModel):
    """One template file, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", description="slug, unique in the folder")
    version: int = Field(ge=1)
    strategy: str = Field(
        pattern=r"^([A-Za-z_][\w.]*|[^:]+\.py):[A-Za-z_]\w*$",
        description="module:Class, or path/to/file.py:Class (relative to the template's folder)",
    )
    description: str = ""
    tags: tuple[str, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    #: the ``[constraints]`` table: portfolio constraints the engine enforces on this
    #: template's runs (:class:`workbench.engine.constraints.Constraints`; a run's own
    #: constraints override it field by field)
    constraints: dict[str, Any] | None = None
    path: Path | None = Field(default=None, exclude=True)
    sha256: str = Field(default="", exclude=True)
    #: the text the template was read from (its sha256 is ``sha256``)
    text: str = Field(default="", exclude=True, repr=False)
    #: the templates folder it belongs to: its file's folder, or for a version read from the
    #: version store, the folder of the repository that read it (relative file strategies and
    #: notebooks resolve from there)
    folder: Path | None = Field(default=None, exclude=True, repr=False)

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        from workbench.engine.constraints import as_constraints

        try:
            as_constraints(value, what="[constraints]")
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return dict(value)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def strategy_spec(self) -> str:
        """``strategy`` with a relative file path made absolute from the template's folder."""
        from workbench.engine.usercode import is_file_spec

        base = self.folder or (self.path.parent if self.path is not None else None)
        if is_file_spec(self.strategy) and base is not None:
            target, _, attr = self.strategy.rpartition(":")
            file = Path(target).expanduser()
            if not file.is_absolute():
                file = base / file
            return f"{file}:{attr}"
        return self.strategy

    def strategy_class(self) -> type:
        """The strategy class named by ``strategy`` (imported, or loaded from its file)."""
        from workbench.engine.resolve import resolve_strategy

        try:
            return resolve_strategy(self.strategy_spec)
        except ValueError as exc:
            raise TemplateError(f"{self.path}: {exc}") from None

    def resolved_params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Template parameters with ``overrides`` applied (unknown override keys are an error)."""
        params = dict(self.params)
        for key, value in (overrides or {}).items():
            params[key] = value
        return params

    def validate_params(self, overrides: dict[str, Any] | None = None) -> Any:
        """Validate parameters against the strategy's ``Config``; returns the Config instance."""
        cls = self.strategy_class()
        config_cls = getattr(cls, "Config", None)
        if config_cls is None:
            raise TemplateError(f"{self.path}: {self.strategy} has no Config class")
        try:
            return config_cls(**self.resolved_params(overrides))
        except ValidationError as exc:
            given = overrides or {}

            def where(loc: tuple[Any, ...]) -> str:
                field = ".".join(str(p) for p in loc) or "(config)"
                key = loc[0] if loc else None
                # a value the caller gave (--set, a grid) is named as such, not blamed on the file
                return f"override {key}={given[key]!r}, {field}" if key in given else field

            problems = "; ".join(
                f"{where(err['loc'])}: {_problem(err, config_cls)}" for err in exc.errors()
            )
            raise TemplateError(
                f"{self.path}: params do not fit {self.strategy}.Config: {problems}"
            ) from None


def _problem(err: Any, config_cls: Any) -> str:
    """A validation error's message; an unknown parameter gets the close names and the known
    ones (pydantic alone says only "Extra inputs are not permitted")."""
    if err.get("type") != "extra_forbidden":
        return str(err["msg"])
    from workbench.model.suggest import did_you_mean

    name = str(err["loc"][0]) if err.get("loc") else ""
    known = sorted(config_cls.model_fields)
    return f"unknown parameter{did_you_mean(name, known)} (known: {', '.join(known)})"


def load_template_file(path: Path) -> StrategyTemplate:
    """Parse and validate one template file."""
    path = Path(path)
    template, raw = load_toml_model(path, StrategyTemplate, TemplateError, "template")
    if path.stem != template.name:
        raise TemplateError(f"{path}: file name must be the template name ({template.name}.toml)")
    return template.model_copy(
        update={
            "path": path,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "text": raw.decode("utf-8"),
            "folder": path.parent,
        }
    )


def template_from_text(text: str, label: str) -> StrategyTemplate:
    """Parse and validate a template's text: TOML (as a file), or a JSON object of the same
    fields (what the service stores for a template posted as JSON). ``label`` names it in
    errors."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{label}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise TemplateError(f"{label}: expected a JSON object of template fields")
        try:
            template = StrategyTemplate(**data)
        except ValidationError as exc:
            raise TemplateError(f"{label}: invalid template: {validation_problems(exc)}") from None
    else:
        template = parse_toml_model(text, label, StrategyTemplate, TemplateError, "template")
    return template.model_copy(
        update={
            "path": Path(label),
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "text": text,
        }
    )


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``"name"`` -> ``("name", None)``, ``"name@3"`` -> ``("name", 3)``; ``TemplateError``
    for anything else (template names become file names)."""
    if isinstance(ref, str):
        try:
            check_name(ref.partition("@")[0], "template name")  # the one safe-name check
        except ValueError as exc:
            raise TemplateError(str(exc)) from None
    match = TEMPLATE_REF.match(ref) if isinstance(ref, str) else None
    if match is None:
        raise TemplateError(
            f"template {ref!r} is not a template name (lowercase letters, digits and '-', "
            "optionally @version)"
        )
    version = match.group("version")
    return match.group("name"), None if version is None else int(version)


class TemplateRepository:
    """The templates of a folder together with the version store of a reports folder.

    Parameters
    ----------
    root
        Folder of ``*.toml`` templates (default: the repository's ``templates/strategies``).
    refs_dir
        The reports folder whose version store (``repository.sqlite``) records the versions
        runs used; ``None``: the folder alone, no immutability check, no stored versions.
    """

    def __init__(
        self, root: Path | str | None = None, *, refs_dir: Path | str | None = None
    ) -> None:
        self.root = Path(root) if root is not None else DEFAULT_TEMPLATES_DIR
        if not self.root.is_dir():
            raise TemplateError(f"templates folder {self.root} does not exist")
        self.store = TemplateVersions(refs_dir) if refs_dir is not None else None
        if refs_dir is not None:
            self._import_legacy_refs(Path(refs_dir) / REFS_FILE)

    def __iter__(self) -> Iterator[StrategyTemplate]:
        return iter(self.list())

    # -- reading ------------------------------------------------------------------------------
    def _file(self, name: str) -> StrategyTemplate | None:
        try:
            check_name(name, "template name")
        except ValueError as exc:
            raise TemplateError(str(exc)) from None
        path = self.root / f"{name}.toml"
        return load_template_file(path) if path.is_file() else None

    def _stored(self, name: str) -> builtins.list[TemplateVersion]:
        return self.store.versions(name) if self.store is not None else []

    def _from_store(self, row: TemplateVersion) -> StrategyTemplate:
        assert self.store is not None
        label = self.store.label(row.name, row.version)
        if row.text is None:
            raise TemplateError(
                f"{label}: only the hash of this version was recorded (by a reports folder "
                "older than the version store); its text is not available"
            )
        template = template_from_text(row.text, label)
        if (template.name, template.version) != (row.name, row.version):
            raise TemplateError(f"{label}: the stored text is {template.ref}")
        return template.model_copy(update={"folder": self.root})

    def names(self) -> builtins.list[str]:
        """Every template name: the folder's files and the store's names."""
        names = {p.stem for p in self.root.glob("*.toml")}
        if self.store is not None:
            names.update(self.store.names())
        return sorted(names)

    def list(self) -> builtins.list[StrategyTemplate]:
        """The default version of every template (see :meth:`get`), sorted by name; an
        invalid file or a changed referenced version raises. Names with no runnable version
        (only drafts or archived versions) are left out."""
        out = []
        for name in self.names():
            try:
                out.append(self.get(name))
            except NoRunnableVersionError:
                continue
        return out

    def get(self, ref: str) -> StrategyTemplate:
        """The template ``name`` (its default version) or ``name@version`` (exactly that one)."""
        name, version = parse_ref(ref)
        file = self._file(name)
        stored = {row.version: row for row in self._stored(name)}
        if file is not None:
            self._check_refs(file)
        if version is not None:
            row = stored.get(version)
            if row is not None and row.status == "draft":
                raise TemplateError(
                    f"template {name}@{version} is a draft: make it active before running it"
                )
            if file is not None and file.version == version:
                return file
            if row is not None:
                return self._from_store(row)
            raise TemplateError(
                f"unknown template version {name}@{version}; known: {self._known(name, file)}"
            )
        candidates: dict[int, TemplateVersion | StrategyTemplate] = {
            v: row for v, row in stored.items() if row.status == "active" and row.text is not None
        }
        if file is not None:
            row = stored.get(file.version)
            if row is None or row.status == "active":
                candidates[file.version] = file
        if not candidates:
            if file is None and not stored:
                from workbench.model.suggest import did_you_mean

                names = self.names()
                raise TemplateError(
                    f"unknown template {name!r}{did_you_mean(name, names)} "
                    f"(known: {', '.join(names) or 'none'}; folder {self.root})"
                )
            raise NoRunnableVersionError(
                f"template {name!r} has no active version ({self._known(name, file)}); "
                "name a version (name@version) or activate one"
            )
        chosen = candidates[max(candidates)]
        return chosen if isinstance(chosen, StrategyTemplate) else self._from_store(chosen)

    def versions(self, name: str) -> builtins.list[dict[str, Any]]:
        """Every known version of ``name``, ascending: the store's rows and the folder's file
        (``source`` "file", "store" or "file+store"), with status, hash and whether a run
        referenced it."""
        parse_ref(name)
        file = self._file(name)
        rows: dict[int, dict[str, Any]] = {}
        for row in self._stored(name):
            stored = row.as_dict()
            stored["source"] = "store"
            stored["referenced"] = row.referenced
            rows[row.version] = stored
        if file is not None:
            entry = rows.get(file.version)
            if entry is None:
                rows[file.version] = {
                    "name": name,
                    "version": file.version,
                    "ref": file.ref,
                    "sha256": file.sha256,
                    "status": "active",
                    "strategy": file.strategy,
                    "origin": "file",
                    "created_at": None,
                    "updated_at": None,
                    "referenced_at": None,
                    "referenced": False,
                    "source": "file",
                }
            elif entry["sha256"] == file.sha256:
                entry["source"] = "file+store"
        if not rows:
            raise TemplateError(f"unknown template {name!r}; known: {', '.join(self.names())}")
        return [rows[v] for v in sorted(rows)]

    def _known(self, name: str, file: StrategyTemplate | None) -> str:
        parts = [f"{row.ref} ({row.status})" for row in self._stored(name)]
        if file is not None and not any(p.startswith(f"{file.ref} ") for p in parts):
            parts.append(f"{file.ref} (file)")
        return ", ".join(parts) or "none"

    # -- immutability -------------------------------------------------------------------------
    def _check_refs(self, template: StrategyTemplate) -> None:
        if self.store is None:
            return
        row = self.store.get(template.name, template.version)
        if row is not None and row.referenced and row.sha256 != template.sha256:
            raise TemplateVersionError(
                f"{template.path}: template {template.ref} changed after a report referenced it "
                f"(recorded hash {row.sha256[:12]}, file hash {template.sha256[:12]}); bump `version`"
            )

    def record_reference(self, template: StrategyTemplate) -> None:
        """Record that a run used ``template``: its text goes into the version store (active,
        unless the store gives it another status) and it is immutable from now on."""
        if self.store is None:
            return
        self._check_refs(template)
        try:
            self.store.put(
                name=template.name,
                version=template.version,
                sha256=template.sha256,
                strategy=template.strategy,
                text=template.text or None,
                origin="file" if template.path and template.path.suffix == ".toml" else "store",
                referenced=True,
            )
        except VersionConflictError as exc:
            raise TemplateVersionError(f"{template.path}: {exc}") from None

    # -- writing ------------------------------------------------------------------------------
    def add(self, text: str, *, status: str = "active", origin: str = "api") -> StrategyTemplate:
        """Store a new version from its text (TOML, or JSON fields), validated against its
        strategy's Config. The same text again is accepted (nothing changes); a different text
        for a version a run referenced, or for the version the templates folder holds, is
        refused (:class:`TemplateVersionError`)."""
        if self.store is None:
            raise TemplateError("adding a version needs a version store (refs_dir)")
        template = template_from_text(text, "template")
        template.validate_params()
        file = self._file(template.name)
        if file is not None and file.version == template.version and file.sha256 != template.sha256:
            raise TemplateVersionError(
                f"template {template.ref}: {file.path} holds this version with another text; "
                "bump `version`"
            )
        try:
            self.store.put(
                name=template.name,
                version=template.version,
                sha256=template.sha256,
                strategy=template.strategy,
                text=text,
                status=status,
                origin=origin,
            )
        except VersionConflictError as exc:
            raise TemplateVersionError(str(exc)) from None
        return template

    def set_status(self, ref: str, status: str) -> dict[str, Any]:
        """Set the status of ``name@version`` (stored first if only the folder holds it)."""
        name, version = parse_ref(ref)
        if version is None:
            raise TemplateError(f"template {ref!r}: name the version (name@version)")
        if self.store is None:
            raise TemplateError("statuses need a version store (refs_dir)")
        if self.store.get(name, version) is None:
            file = self._file(name)
            if file is None or file.version != version:
                raise TemplateError(
                    f"unknown template version {ref}; known: {self._known(name, file)}"
                )
            self.store.put(
                name=name,
                version=version,
                sha256=file.sha256,
                strategy=file.strategy,
                text=file.text or None,
                origin="file",
            )
        return self.store.set_status(name, version, status).as_dict()

    def _import_legacy_refs(self, refs_path: Path) -> None:
        """Bring the references of an older reports folder (``template-refs.json``) into the
        store once: the text too when the folder's file still has that version and hash."""
        if self.store is None or not refs_path.is_file():
            return
        try:
            data = json.loads(refs_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TemplateError(f"{refs_path}: unreadable template references: {exc}") from None
        if not isinstance(data, dict):
            raise TemplateError(f"{refs_path}: expected a JSON object of name@version -> hash")
        for ref, sha in data.items():
            try:
                name, version = parse_ref(str(ref))
            except TemplateError:
                continue
            if version is None or self.store.get(name, version) is not None:
                continue
            path = self.root / f"{name}.toml"
            file = load_template_file(path) if path.is_file() else None
            same = file is not None and file.version == version and file.sha256 == sha
            self.store.put(
                name=name,
                version=version,
                sha256=str(sha),
                strategy=file.strategy if file is not None else "",
                text=file.text if same and file is not None else None,
                origin="template-refs.json",
                referenced=True,
            )


class NoRunnableVersionError(TemplateError):
    """A template exists but none of its versions is active."""
