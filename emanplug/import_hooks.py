"""Run a function right after a module is imported, whatever the import order: what emanplug
must change in a library it does not import itself (e.g. mmengine's table of packages whose
configs ``_base_ = '<package>::<config>'`` may name), without importing that library early.

    >>> when_imported('mmengine.config.utils', lambda module: print(module.__name__))  # doctest: +SKIP

If the module is already imported, the function runs at once; else a finder on
``sys.meta_path`` wraps the module's loader so that the function runs once the module's code has
run.  Plain Python: importing this loads nothing else."""
import importlib.abc
import importlib.util
import sys
import threading
from typing import Callable, Dict, List

_callbacks: Dict[str, List[Callable]] = {}
_lock = threading.RLock()


class _PostImportLoader(importlib.abc.Loader):
    def __init__(self, loader, name: str):
        self._loader = loader
        self._name = name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _run(self._name, module)

    def __getattr__(self, attr):  # get_source, get_filename, ... of the wrapped loader
        return getattr(self._loader, attr)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    def __init__(self):
        self._busy = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _callbacks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:  # the spec the other finders would give
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        spec.loader = _PostImportLoader(spec.loader, fullname)
        return spec


_finder = _PostImportFinder()


def _run(name: str, module) -> None:
    with _lock:
        callbacks = _callbacks.pop(name, [])
    for callback in callbacks:
        callback(module)


def when_imported(name: str, callback: Callable) -> None:
    """Call ``callback(module)`` once the module ``name`` is imported (at once if it is)."""
    with _lock:
        if name in sys.modules:
            module = sys.modules[name]
        else:
            _callbacks.setdefault(name, []).append(callback)
            if _finder not in sys.meta_path:
                sys.meta_path.insert(0, _finder)
            return
    callback(module)
