"""The researcher's own strategy code: naming it, shipping it to workers, identifying it.

A strategy is named in one of three ways wherever the workbench takes one (``run_backtest``,
``workbench run``, grid and walk-forward files, event comparisons, sweeps, the notebooks):

* a :class:`~workbench.engine.strategy.Strategy` subclass -- defined anywhere: a package, a
  script's ``__main__``, a notebook cell;
* ``"package.module:ClassName"`` -- imported by name;
* ``"path/to/file.py:ClassName"`` -- the file is loaded as a module of its own (relative paths
  from the current folder); no ``PYTHONPATH`` set-up is needed.

Workers get the class *by value*: :class:`Portable` pickles what it wraps with cloudpickle,
registering the researcher's own modules (``__main__``, notebook cells, files loaded by path,
any module outside the installed packages and the standard library) so that their classes and
functions travel with the task. A process pool, loky, or a Dask cluster whose workers never saw
the file all run the same code. Installed packages (``workbench`` itself among them) travel by
reference as usual.

:func:`code_identity` hashes a strategy's code (the source of each class of its own in the MRO
and the whole file or notebook cell each came from) and says where it came from; the hash is
part of the run id, so two runs that differ only in the strategy's code never share one.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import linecache
import os
import sys
import sysconfig
import threading
import types
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "Portable",
    "StrategySpecError",
    "code_identity",
    "is_file_spec",
    "load_file_class",
    "resolve_class",
]


class StrategySpecError(ValueError):
    """A strategy spec names no importable class; the message names the spec and why."""


# -- naming a class ---------------------------------------------------------------------------
def is_file_spec(spec: str) -> bool:
    """``"path/to/file.py:Class"`` (as opposed to ``"module:Class"`` or a template name)."""
    target, sep, _ = spec.rpartition(":")
    return bool(sep) and target.endswith(".py")


def resolve_class(spec: str) -> type:
    """The class named by ``"module:Class"`` or ``"path/to/file.py:Class"`` (not checked to be
    a strategy: the caller does that). :class:`StrategySpecError` names the spec and the fault."""
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise StrategySpecError(
            f"strategy {spec!r}: expected 'module:ClassName' or 'path/to/file.py:ClassName'"
        )
    if target.endswith(".py"):
        return load_file_class(target, attr)
    try:
        module = importlib.import_module(target)
    except ImportError as exc:
        raise StrategySpecError(
            f"strategy {spec!r}: cannot import module {target!r} ({exc})"
        ) from None
    except Exception as exc:  # the module itself raised while importing
        raise StrategySpecError(
            f"strategy {spec!r}: importing {target!r} raised {type(exc).__name__}: {exc}"
        ) from None
    return _attribute(module, attr, spec)


_file_lock = threading.Lock()


def load_file_class(path: str | Path, attr: str) -> type:
    """Class ``attr`` of the Python file at ``path``, loaded as a module of its own.

    The module is named after the file's resolved path (``workbench_user.<stem>_<digest>``) and
    is reloaded when the file's content changes, so a notebook that edits the file and runs
    again gets the new code. The file must not need to be on ``sys.path``.
    """
    file = Path(path).expanduser()
    spec_text = f"{path}:{attr}"
    try:
        resolved = file.resolve(strict=True)
        source = resolved.read_bytes()
    except FileNotFoundError:
        raise StrategySpecError(f"strategy {spec_text!r}: no file {str(file)!r}") from None
    except OSError as exc:
        raise StrategySpecError(
            f"strategy {spec_text!r}: cannot read {str(file)!r} ({exc})"
        ) from None
    if not resolved.is_file():
        raise StrategySpecError(f"strategy {spec_text!r}: {str(file)!r} is not a file")
    digest = hashlib.sha256(source).hexdigest()
    path_key = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    stem = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in resolved.stem)
    name = f"workbench_user.{stem}_{path_key}"
    with _file_lock:
        module = sys.modules.get(name)
        if module is None or getattr(module, "__workbench_source_sha256__", None) != digest:
            module = _exec_file(name, resolved, source, digest, spec_text)
    return _attribute(module, attr, spec_text)


def _exec_file(
    name: str, path: Path, source: bytes, digest: str, spec_text: str
) -> types.ModuleType:
    if "workbench_user" not in sys.modules:
        package = types.ModuleType("workbench_user")
        package.__path__ = []  # a namespace for modules loaded from files
        sys.modules["workbench_user"] = package
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategySpecError(f"strategy {spec_text!r}: {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    module.__workbench_source_sha256__ = digest  # type: ignore[attr-defined]
    previous = sys.modules.get(name)
    sys.modules[name] = module  # pydantic and dataclasses look the module up while it runs
    try:
        code = compile(source, str(path), "exec")
        exec(code, module.__dict__)
    except SyntaxError as exc:
        _restore_module(name, previous)
        raise StrategySpecError(
            f"strategy {spec_text!r}: {path}, line {exc.lineno}: syntax error: {exc.msg}"
        ) from None
    except Exception as exc:
        _restore_module(name, previous)
        raise StrategySpecError(
            f"strategy {spec_text!r}: running {path} raised {type(exc).__name__}: {exc}"
        ) from None
    linecache.checkcache(str(path))
    return module


def _restore_module(name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _attribute(module: types.ModuleType, attr: str, spec: str) -> type:
    found = getattr(module, attr, None)
    if found is None:
        from workbench.model.suggest import did_you_mean

        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type))
        hint = did_you_mean(attr, classes)
        listed = f" (classes in it: {', '.join(classes)})" if classes else ""
        raise StrategySpecError(
            f"strategy {spec!r}: {module.__name__!r} has no {attr!r}{hint}{listed}"
        )
    return found  # type: ignore[no-any-return]


# -- which modules are the researcher's own ----------------------------------------------------
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.add(os.path.dirname(os.__file__))
    return tuple(sorted(str(Path(r).resolve()) + os.sep for r in roots))


_LIBRARY_ROOTS = _library_roots()


def _standard_library_roots() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the standard library's folders, the installed packages' folders inside them)."""
    paths = sysconfig.get_paths()
    std = {paths[k] for k in ("stdlib", "platstdlib") if k in paths}
    std.add(os.path.dirname(os.__file__))
    site = {paths[k] for k in ("purelib", "platlib") if k in paths}

    def real(roots: set[str]) -> tuple[str, ...]:
        return tuple(sorted(str(Path(r).resolve()) + os.sep for r in roots))

    return real(std), real(site)


_STDLIB_ROOTS, _SITE_ROOTS = _standard_library_roots()


def _in_standard_library(klass: type) -> bool:
    """``klass`` comes with the interpreter (``typing.Generic``, ``abc.ABC``): its module has a
    standard library name *and* lives in the standard library's folder (a researcher's own
    ``signal.py`` has the name, not the place), or is compiled into the interpreter."""
    module = klass.__module__
    top = module.partition(".")[0]
    if top not in sys.stdlib_module_names:
        return False
    file = getattr(sys.modules.get(module), "__file__", None)
    if file is None:
        return top in sys.builtin_module_names
    try:
        real = _real_path(file)
    except OSError:
        return False
    return real.startswith(_STDLIB_ROOTS) and not real.startswith(_SITE_ROOTS)


_user_modules: dict[tuple[str, int], bool] = {}


def is_user_module(module_name: str) -> bool:
    """True for the researcher's own code: ``__main__`` (scripts, notebooks), files loaded by
    path, and modules that are neither in the standard library, nor installed packages, nor
    ``workbench`` itself."""
    if module_name in ("__main__", "__mp_main__") or module_name.startswith("workbench_user"):
        return True
    top = module_name.partition(".")[0]
    if top == "workbench" or top in sys.builtin_module_names:
        return False
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        return False
    key = (module_name, id(module))
    known = _user_modules.get(key)
    if known is None:
        try:
            known = not _real_path(file).startswith(_LIBRARY_ROOTS)
        except OSError:
            known = False
        _user_modules[key] = known
    return known


_real_dirs: dict[str, str] = {}


def _real_path(file: str) -> str:
    """``os.path.realpath(file)``, with each absolute folder resolved once per process.

    The first pickling in a process asks this of every imported module's file (about 1,200
    with the engine's libraries); resolving each path whole walked every component with a
    system call (about 10,000 ``lstat`` calls, 0.06 s before the first task could leave).
    Modules share folders, so a folder is resolved once and a file costs one ``lstat``: a
    file that is itself a link, or a path that is not absolute, is resolved whole as before.
    """
    folder, name = os.path.split(file)
    if not os.path.isabs(folder) or name in ("", ".", "..") or os.path.islink(file):
        return os.path.realpath(file)
    real = _real_dirs.get(folder)
    if real is None:
        real = _real_dirs[folder] = os.path.realpath(folder)
    return os.path.join(real, name)


# -- shipping by value ------------------------------------------------------------------------
_pickle_lock = threading.Lock()


def _dumps(value: Any) -> bytes:
    """cloudpickle ``value`` with the researcher's own packages registered by value for the
    call (``__main__`` always travels by value)."""
    import cloudpickle

    with _pickle_lock:
        tops = {
            name.partition(".")[0]
            for name in list(sys.modules)
            if name not in ("__main__", "__mp_main__") and is_user_module(name)
        }
        already = set(cloudpickle.list_registry_pickle_by_value())
        registered = []
        for top in sorted(tops - already):
            module = sys.modules.get(top)
            if module is None:
                continue
            cloudpickle.register_pickle_by_value(module)
            registered.append(module)
        try:
            return cloudpickle.dumps(value)
        finally:
            for module in registered:
                cloudpickle.unregister_pickle_by_value(module)


_restored: OrderedDict[bytes, Any] = OrderedDict()
_restored_lock = threading.Lock()
_RESTORED_MAX = 64


def _restore(blob: bytes) -> Portable[Any]:
    """Unpickle a :class:`Portable` (memoised per process by the blob's digest, so a worker
    handed the same strategy for every chunk of days rebuilds it once)."""
    import pickle

    key = hashlib.blake2b(blob, digest_size=16).digest()
    with _restored_lock:
        if key in _restored:
            _restored.move_to_end(key)
            return Portable(_restored[key], _blob=blob)
    value = pickle.loads(blob)
    with _restored_lock:
        _restored[key] = value
        while len(_restored) > _RESTORED_MAX:
            _restored.popitem(last=False)
    return Portable(value, _blob=blob)


class Portable(Generic[T]):
    """A value that pickles *by value* (cloudpickle), whatever module its classes live in.

    Task objects hold strategies and their configs in a ``Portable``, so any executor -- a
    process pool, loky, Dask -- that pickles the task with the standard :mod:`pickle` ships the
    researcher's own classes with it. ``.value`` is the wrapped object.
    """

    __slots__ = ("_blob", "value")

    def __init__(self, value: T, *, _blob: bytes | None = None) -> None:
        self.value = value
        self._blob = _blob

    def blob(self) -> bytes:
        if self._blob is None:
            self._blob = _dumps(self.value)
        return self._blob

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (_restore, (self.blob(),))

    def __repr__(self) -> str:
        return f"Portable({self.value!r})"


# -- identifying code ---------------------------------------------------------------------------
def _own_classes(cls: type) -> list[type]:
    """``cls`` and the classes of its MRO that are not the engine's base classes, builtins or
    the standard library's (``typing.Generic`` is in every strategy's MRO: hashing it parsed
    all of typing.py in each new process, and tied run ids to the interpreter's patch release,
    which the manifest records anyway), then those of the strategy it runs through a ``rules``
    class attribute (:class:`~workbench.engine.per_underlying.PerUnderlying`): changing the
    rules changes the wrapper's identity."""
    out = []
    for klass in cls.__mro__:
        module = klass.__module__
        if module == "builtins" or module.startswith(("workbench.engine.", "pydantic")):
            continue
        if klass.__name__ == "object" or _in_standard_library(klass):
            continue
        out.append(klass)
    rules = cls.__dict__.get("rules") or getattr(cls, "rules", None)
    if isinstance(rules, type) and rules is not cls:
        out += [k for k in _own_classes(rules) if k not in out]
    return out


def _source_file(klass: type) -> str | None:
    """The file (or notebook cell's pseudo-file) that defines ``klass``."""
    try:
        return inspect.getsourcefile(klass)
    except (TypeError, OSError):
        pass
    # classes defined in a notebook cell: inspect cannot place the class (its module, __main__,
    # has no file), but its methods know their cell
    for value in vars(klass).values():
        func = getattr(value, "__func__", value)
        code = getattr(func, "__code__", None)
        if code is not None and not code.co_filename.startswith("<frozen"):
            return code.co_filename  # type: ignore[no-any-return]
    return None


def _file_text(filename: str) -> str:
    lines = linecache.getlines(filename)
    if not lines:
        try:
            return Path(filename).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    return "".join(lines)


def _class_source(klass: type, text: str) -> str:
    try:
        return inspect.getsource(klass)
    except (TypeError, OSError):
        pass
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
            return ast.get_source_segment(text, node) or ""
    return ""


def _bytecode_digest(klass: type) -> str:
    """Last resort for a class whose source cannot be found: its methods' code objects."""
    h = hashlib.sha256()

    def feed(code: types.CodeType) -> None:
        h.update(code.co_code)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                feed(const)
            else:
                h.update(repr(const).encode())

    for name in sorted(vars(klass)):
        func = getattr(vars(klass)[name], "__func__", vars(klass)[name])
        code = getattr(func, "__code__", None)
        h.update(name.encode())
        if code is not None:
            feed(code)
    return h.hexdigest()


def _origin(klass: type, filename: str | None) -> str:
    module = klass.__module__
    if module.startswith("workbench_user."):
        return "file"
    if module in ("__main__", "__mp_main__"):
        if filename is None or filename.startswith("<") or "ipykernel" in filename:
            return "notebook cell" if _in_kernel() else "interactive"
        return "script"
    return "package" if not is_user_module(module) else "module"


def _in_kernel() -> bool:
    return "ipykernel" in sys.modules


_identities: weakref.WeakKeyDictionary[type, dict[str, Any]] = weakref.WeakKeyDictionary()
# CPython 3.11's ast (which inspect uses to find a class) is not safe in two threads at once
_identity_lock = threading.Lock()


def code_identity(cls: type) -> dict[str, Any]:
    """Where ``cls``'s code came from and a SHA-256 of it.

    ``{"origin": "package" | "module" | "file" | "script" | "notebook cell" | "interactive",
    "module": ..., "file": path or None, "sha256": ..., "version": cls.version}``. The hash
    covers, for ``cls`` and each class of its own in its MRO, the class's source and the
    whole file or notebook cell it was defined in; a class whose source cannot be found is
    hashed by its methods' byte code (``"source": "bytecode"``). Computed once per class
    object (the code that runs, even if its file changes on disk afterwards).
    """
    with _identity_lock:
        found = _identities.get(cls)
        if found is None:
            found = _code_identity(cls)
            _identities[cls] = found
        return dict(found)


def _code_identity(cls: type) -> dict[str, Any]:
    h = hashlib.sha256()
    files: list[str] = []
    source_kind = "source"
    for klass in _own_classes(cls):
        filename = _source_file(klass)
        text = _file_text(filename) if filename else ""
        body = _class_source(klass, text) if text else ""
        h.update(f"{klass.__module__}:{klass.__qualname__}\n".encode())
        if body or text:
            h.update(body.encode())
            h.update(b"\0")
            h.update(text.encode())
        else:
            source_kind = "bytecode"
            h.update(_bytecode_digest(klass).encode())
        if filename and filename not in files:
            files.append(filename)
    top_file = _source_file(cls)
    origin = _origin(cls, top_file)
    return {
        "origin": origin,
        "module": cls.__module__,
        "file": None if origin in ("notebook cell", "interactive") else top_file,
        "sha256": h.hexdigest(),
        "source": source_kind,
        "version": str(getattr(cls, "version", "")),
    }
