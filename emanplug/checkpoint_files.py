"""Checkpoint files that never run a stranger's code and are never lost.

* **Loading** (:func:`load_checkpoint_file`): ``torch.load(weights_only=True)`` with an
  allow-list of exactly what mmengine checkpoints hold (HistoryBuffer and its statistics
  methods, numpy arrays, dtypes and scalars).  Every source mmengine accepts goes through it:
  local paths, and ``http(s)://`` (also behind ``torchvision://``, ``modelzoo://``,
  ``open-mmlab://``, ``mmcls://``), which mmengine loaded with ``weights_only=False`` through
  ``torch.hub``.  A refused file gets one line naming the source and what is wrong (the first
  disallowed global, empty, truncated, not a checkpoint); nothing in it runs.
* **Saving** (:func:`save_checkpoint_atomic`): the checkpoint is serialised in memory, the
  free space checked, written to a temporary file in the same folder, flushed, fsynced and
  renamed over the target: a kill leaves the previous file or the new one, never half of one.
  ``CheckpointHook`` rotates old checkpoints out only after the new one is complete and
  writes ``last_checkpoint`` the same way.
* **Resuming** (:func:`resume_checkpoint`): ``--resume`` without a file takes the checkpoint
  ``last_checkpoint`` names, or, when that is missing, empty or broken, the newest loadable
  checkpoint of the work dir, and says so.  A checkpoint the safe loader refuses stops the
  run (:func:`refused_resume`): refused is not broken; ``--allow-global MODULE.CLASS``
  (:func:`allow_globals`) trusts a class the user knows.

:func:`use_safe_checkpoint_loading` is installed by ``import emanplug`` as soon as mmengine's
checkpoint module is imported (whatever the order); :func:`use_safe_checkpoint_files`
installs the rest (saving) with :func:`emanplug.compat.apply`.
"""
import errno
import glob
import importlib
import io
import os
import os.path as osp
import pickle
import re
import shutil
import socket
import zipfile
from typing import Any, Callable, Optional, Sequence, Tuple

import torch

from .errors import ConfigError


class UnsafeCheckpointError(ConfigError):
    """A checkpoint holds objects outside the allow-list and was not loaded.

    Attributes:
        disallowed: the first global it names that is not allowed (``'posix.system'``).
        source: the file or URL.
    """

    def __init__(self, message: str, disallowed: str = '', source: str = '') -> None:
        super().__init__(message)
        self.disallowed, self.source = disallowed, source


class CheckpointFileError(ConfigError):
    """A checkpoint file cannot be read (empty, truncated, not a checkpoint) or written."""


_BUILTIN_STATISTICS = ('min', 'max', 'mean', 'current')
_allowed = False
_installed = False


def _history_buffer_statistic(owner: Any, name: str) -> Any:
    """Stand-in for ``getattr`` while unpickling: only HistoryBuffer's statistics methods."""
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and isinstance(name, str):
        # the built-in statistics are only put into _statistics_methods by the first
        # HistoryBuffer() of a process, so a fresh process has to name them itself
        method = HistoryBuffer._statistics_methods.get(name)
        if method is None and name in _BUILTIN_STATISTICS:
            method = getattr(HistoryBuffer, name)
        if callable(method):
            return method
    raise pickle.UnpicklingError(
        f'getattr({getattr(owner, "__name__", type(owner).__name__)}, {name!r}) is not allowed')


def allow_mmengine_checkpoints() -> None:
    """Allow-list, for ``torch.load(weights_only=True)``, what mmengine checkpoints hold:
    HistoryBuffer (with its statistics methods), numpy arrays, dtypes and scalars (once)."""
    global _allowed
    if _allowed:
        return
    _allowed = True
    import numpy as np
    from mmengine.logging import HistoryBuffer
    from numpy._core.multiarray import _reconstruct, scalar
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    torch.serialization.add_safe_globals(
        [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar, *dtype_classes,
         (_history_buffer_statistic, 'builtins.getattr')])


#: modules whose callables run commands, read or write files or import code: none of their
#: globals is ever allowed, whatever ``--allow-global`` names
NEVER_ALLOWED = ('builtins', 'os', 'posix', 'nt', 'subprocess', 'sys', 'shutil', 'importlib',
                 'runpy', 'pty', 'socket', 'pickle', 'marshal', 'ctypes', 'code', 'multiprocessing',
                 'io', 'pathlib', 'tempfile', 'webbrowser')


_DISALLOWED = re.compile(r'GLOBAL ([\w.]+)|function (\S+)|unsupported global.*?(\S+)|'
                         r'(getattr\(\w+, \S+\))')
_ALLOWED_TEXT = ('tensors, containers, numbers, numpy arrays, mmengine HistoryBuffer')


def load_checkpoint_file(filename: str, map_location: Any = None,
                         source: Optional[str] = None) -> Any:
    """``torch.load`` a local checkpoint file with ``weights_only=True`` and the allow-list.

    Args:
        filename: the local file.
        map_location: as ``torch.load``.
        source: what to call the checkpoint in errors (e.g. the URL it was downloaded from);
            default the file name.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeCheckpointError: it holds something else (e.g. a pickled callable); nothing
            in it was executed.
        CheckpointFileError: it is empty, truncated or not a checkpoint.
    """
    allow_mmengine_checkpoints()
    filename = osp.expanduser(filename)
    name = source or filename
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {name} does not exist')
    if osp.getsize(filename) == 0:
        raise CheckpointFileError(f'checkpoint {name} is empty (0 bytes); allowed: a file '
                                  'written by torch.save, e.g. a checkpoint of tools/train.py')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, KeyError, IndexError, OverflowError, TypeError) as err:
        found = _DISALLOWED.search(str(err)) if isinstance(err, pickle.UnpicklingError) else None
        if found is None:  # not a pickle of anything: text (b'h' is an opcode), an image, ...
            raise CheckpointFileError(
                f'checkpoint {name} is not a torch checkpoint ({_first_line(err)}); allowed: a '
                'file written by torch.save, e.g. a checkpoint of tools/train.py') from None
        what = next(g for g in found.groups() if g)
        raise UnsafeCheckpointError(
            f'checkpoint {name} holds {what}, which is not in the allow-list of safe checkpoint '
            f'contents ({_ALLOWED_TEXT}); refusing to load it; allowed: a checkpoint holding only '
            f'those{_trust_hint(what, "emanplug-train")}', what, name) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointFileError(
            f'checkpoint {name} is truncated or corrupt ({_first_line(err)}); allowed: a complete '
            'file written by torch.save (a run killed while saving keeps its previous checkpoint: '
            "resume with --resume and no file)") from None


def _trust_hint(disallowed: str, command: str) -> str:
    """How to trust ``disallowed`` (``--allow-global``), unless it can never be allowed."""
    if disallowed.split('.')[0] in NEVER_ALLOWED or '(' in disallowed:
        return f' ({disallowed} is never allowed: it can run commands or touch files)'
    return f', or, if you trust the file and {disallowed} is a class, {command} --allow-global {disallowed}'


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:160] if text else type(err).__name__


def load_url_safely(url: str, model_dir: Optional[str] = None, map_location: Any = None,
                    progress: bool = False, **kwargs: Any) -> Any:
    """Download ``url`` once into torch's hub cache (``$TORCH_HOME/checkpoints``, or
    ``model_dir``) and load it with :func:`load_checkpoint_file`.  Replaces the
    ``load_url`` of mmengine's ``http(s)://`` loader, which unpickled with
    ``weights_only=False``."""
    from urllib.parse import urlparse
    directory = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(directory, exist_ok=True)
    cached = osp.join(directory, osp.basename(urlparse(url).path) or 'checkpoint.pth')
    if not osp.isfile(cached):
        try:
            torch.hub.download_url_to_file(url, cached, progress=progress)
        except OSError as err:  # URLError, connection refused, HTTP errors
            raise CheckpointFileError(f'checkpoint {url} cannot be downloaded ({_first_line(err)}); '
                                      'allowed: a reachable http(s) URL or a local file') from None
    return load_checkpoint_file(cached, map_location, source=f'{url} (cached as {cached})')


def save_checkpoint_atomic(checkpoint: dict, filename: str, file_client_args: Any = None,
                           backend_args: Any = None, fallback: Optional[Callable] = None) -> None:
    """Write ``checkpoint`` to the local file ``filename`` so that a crash at any moment
    leaves either the previous file or the complete new one: serialise in memory, check the
    free space, write a temporary file in the same folder, flush, fsync, rename.  Remote
    destinations (``s3://``, ...) go to ``fallback`` (mmengine's own writer).

    Raises:
        CheckpointFileError: not enough space (naming the file, the space needed and free)
            or another OS error; the previous checkpoints are untouched.
    """
    if '://' in str(filename):
        return fallback(checkpoint, filename, file_client_args, backend_args)
    directory = osp.dirname(osp.abspath(filename))
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    needed = buffer.tell()
    os.makedirs(directory, exist_ok=True)
    free = shutil.disk_usage(directory).free
    if needed > free:
        raise CheckpointFileError(_no_space(filename, needed, free))
    try:
        write_atomic(filename, buffer.getbuffer())
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise CheckpointFileError(_no_space(filename, needed, shutil.disk_usage(directory).free)) from None
        raise CheckpointFileError(f'checkpoint {filename} cannot be written ({err.strerror or err}); '
                                  'allowed: a writable work dir (--work-dir DIR)') from None


def _no_space(filename: str, needed: int, free: int) -> str:
    return (f'checkpoint {filename} not written: it needs {needed / 2**20:.1f} MiB and '
            f'{free / 2**20:.1f} MiB are free; the previous checkpoints are intact; allowed: free '
            'space there or choose another --work-dir, then resume with --resume')


def write_atomic(filename: str, data: Any) -> None:
    """Write ``data`` (bytes or str) to ``filename`` through a fsynced temporary file in the
    same folder and a rename; on error the temporary file is removed and ``filename`` is as
    it was."""
    directory = osp.dirname(osp.abspath(filename))
    tmp = osp.join(directory, f'.{osp.basename(filename)}.tmp-{socket.gethostname()}-{os.getpid()}')
    mode = 'w' if isinstance(data, str) else 'wb'
    try:
        with open(tmp, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power loss
    finally:
        os.close(fd)


#: ``.<file>.tmp-<host>-<pid>`` (``.<file>.tmp-<pid>`` before the host was written)
_TEMP = re.compile(r'^\.(?P<file>.+)\.tmp-(?:(?P<host>.+)-)?(?P<pid>\d+)$')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_crash_leftovers(work_dir: str) -> list:
    """Remove the temporary files that a save killed midway left in ``work_dir``
    (:func:`write_atomic`'s ``.<file>.tmp-<host>-<pid>``): those written on this host by a
    process that no longer runs.  A file of a live process, or of another host (a shared
    file system), is kept.  Returns the names removed."""
    removed = []
    host = socket.gethostname()
    for path in glob.glob(osp.join(glob.escape(work_dir), '.*.tmp-*')):
        match = _TEMP.match(osp.basename(path))
        if not match or match['host'] not in (None, host) or _alive(int(match['pid'])):
            continue
        try:
            os.remove(path)
        except FileNotFoundError:  # another process of the same job removed it first
            continue
        removed.append(osp.basename(path))
    return sorted(removed)


def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
    """``CheckpointHook._save_checkpoint_with_step`` in the order that cannot lose a run:
    write the new checkpoint (atomically), then ``last_checkpoint`` (atomically), then remove
    the one that falls out of ``max_keep_ckpts``.  (mmengine removed it first.)"""
    from mmengine.dist import is_main_process
    outgoing = None
    ids = self.keep_ckpt_ids if self.max_keep_ckpts > 0 else None
    if ids is not None and not (ids and ids[-1] == step):
        if len(ids) == self.max_keep_ckpts:
            outgoing = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(ids.popleft()))
        ids.append(step)  # recorded in this checkpoint's message hub, as mmengine does
        runner.message_hub.update_info('keep_ckpt_ids', list(ids))
    ckpt_filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                           save_optimizer=self.save_optimizer,
                           save_param_scheduler=self.save_param_scheduler, meta=meta,
                           by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    write_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
    if outgoing is not None and self.file_backend.isfile(outgoing):
        self.file_backend.remove(outgoing)
    elif outgoing is not None and self.file_backend.isdir(outgoing):
        self.file_backend.rmtree(outgoing)  # checkpoints saved by deepspeed are directories


def allow_globals(names: Sequence[str], option: str = '--allow-global') -> None:
    """Add classes that the user trusts to this process's allow-list (``--allow-global
    MODULE.CLASS``), e.g. a type that a user hook or a newer emanplug put into a checkpoint:
    such checkpoints then load, still with ``weights_only=True``.  Only classes, and none of
    :data:`NEVER_ALLOWED`'s modules; a function is never allowed (calling one is how a
    pickle runs code)."""
    allowed = ('a class MODULE.CLASS named by the refused checkpoint (not a function, nothing of '
               f'{", ".join(NEVER_ALLOWED)})')
    for name in names:
        module, _, attr = str(name).rpartition('.')
        if not module or not attr or module.split('.')[0] in NEVER_ALLOWED:
            raise ConfigError(f'{option} {name} is not allowed; allowed: {allowed}')
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise ConfigError(f'{option} {name} cannot be imported ({_first_line(err)}); '
                              f'allowed: {allowed}') from None
        if not isinstance(target, type):
            raise ConfigError(f'{option} {name} is a {type(target).__name__}, not a class; '
                              f'allowed: {allowed}')
        torch.serialization.add_safe_globals([target])


def refused_resume(err: UnsafeCheckpointError, work_dir: str) -> UnsafeCheckpointError:
    """The one line of ``--resume`` onto a checkpoint that the safe loader refuses: refused is
    not broken, so the run neither falls back nor starts over; the user decides."""
    return UnsafeCheckpointError(
        f'--resume: checkpoint {err.source} holds {err.disallowed}, which the safe loader does not '
        f'allow (weights_only=True with the allow-list); nothing was loaded or run and nothing in '
        f'{work_dir} was changed; allowed: start a new run with another --work-dir'
        f'{_trust_hint(err.disallowed, f"--resume {err.source}")}', err.disallowed, err.source)


def check_resume_file(path: str, work_dir: str) -> None:
    """``--resume FILE``: a local file that the safe loader refuses stops the run before
    anything is written (:func:`refused_resume`); a missing one is left to the config check,
    an empty or truncated one is its own one line."""
    if '://' in str(path) or not osp.isfile(osp.expanduser(path)):
        return
    try:
        load_checkpoint_file(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        raise refused_resume(err, work_dir) from None


def _loadable(path: str) -> bool:
    """Whether ``path`` loads; a refused file raises (:class:`UnsafeCheckpointError`)."""
    try:
        load_checkpoint_file(path, map_location='cpu')
        return True
    except UnsafeCheckpointError:
        raise
    except (ConfigError, OSError):
        return False


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint to resume a run of ``work_dir`` from, and a one-line note when it is not
    the one ``last_checkpoint`` names (missing, empty, or naming a broken or deleted file):
    then the newest loadable ``*.pth`` of the work dir.  ``(None, note)`` when there is none.

    Raises:
        UnsafeCheckpointError: the checkpoint it would resume from (the one ``last_checkpoint``
            names, or the newest that is not broken) holds something the safe loader refuses
            (:func:`refused_resume`); nothing is skipped over it.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = ''
    try:
        if osp.isfile(pointer):
            with open(pointer) as f:
                named = f.read().strip()
            if named and _loadable(named):
                return named, None
        candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime, reverse=True)
        found = next((c for c in candidates if _loadable(c)), None)
    except UnsafeCheckpointError as err:
        raise refused_resume(err, work_dir) from None
    why = (f'{pointer} is missing' if not osp.isfile(pointer) else f'{pointer} is empty' if not named
           else f'{pointer} names {named}, which is missing or broken')
    if found is None:
        return None, f'{why} and no loadable checkpoint is in {work_dir}: training starts from the beginning'
    return found, f'{why}: resuming from {found}, the newest loadable checkpoint of the work dir'


def use_safe_checkpoint_loading(checkpoint_module: Any = None) -> None:
    """Make mmengine's checkpoint loaders (``mmengine.runner.checkpoint``: local paths, and
    ``http(s)://`` also behind ``torchvision://``, ``modelzoo://``, ``open-mmlab://``,
    ``mmcls://``) load through :func:`load_checkpoint_file`.  ``import emanplug`` runs it as
    soon as mmengine's checkpoint module is imported, whatever the import order, so it imports
    nothing of mmengine itself when given the module."""
    if checkpoint_module is None:
        import mmengine.runner.checkpoint as checkpoint_module
    checkpoint_module.CheckpointLoader.register_scheme(prefixes='', loader=load_checkpoint_file,
                                                       force=True)
    checkpoint_module.load_url = load_url_safely  # behind http(s)://, torchvision://, ...


def use_safe_checkpoint_files() -> None:
    """Install safe loading for every source and crash-safe saving into mmengine (once)."""
    global _installed
    if _installed:
        return
    import mmengine.runner.runner as runner_module
    from mmengine.hooks import CheckpointHook
    allow_mmengine_checkpoints()
    use_safe_checkpoint_loading()
    original_save = runner_module.save_checkpoint

    def save(checkpoint, filename, file_client_args=None, backend_args=None):
        save_checkpoint_atomic(checkpoint, filename, file_client_args, backend_args, original_save)
    runner_module.save_checkpoint = save
    CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step
    _installed = True
