"""The command-line entry points of emanplug, one module per command.

==========================  ===============================  =================================
console script              script in a checkout             module
==========================  ===============================  =================================
``emanplug-train``          ``tools/train.py``               :mod:`emanplug.cli.train`
``emanplug-test``           ``tools/test.py``                :mod:`emanplug.cli.test`
``emanplug-export``         ``tools/export_backbone.py``     :mod:`emanplug.cli.export`
``emanplug-split``          ``tools/make_split.py``          :mod:`emanplug.cli.split`
``emanplug-quickstart``     ``tools/quickstart.py``          :mod:`emanplug.cli.quickstart`
``emanplug-run-table``      ``tools/run_table.py``           :mod:`emanplug.cli.run_table`
``emanplug-summarize``      ``tools/summarize_runs.py``      :mod:`emanplug.cli.summarize`
``emanplug-fake-imagenet``  ``tools/make_fake_imagenet.py``  :mod:`emanplug.cli.fake_imagenet`
``emanplug-eval``           ``tools/eval.py``                :mod:`emanplug.cli.evaluate`
==========================  ===============================  =================================

Every command module has ``main(argv=None)``, the command itself (a user error ends it
with one line ``error: ...`` and exit status 1), and ``run(argv=None)``, the same from
Python: it returns what the command made (a Runner, metrics, a path, runs) and raises
:class:`~emanplug.errors.ConfigError` instead of exiting.  ``python -m emanplug.cli.train``
works too.  What the commands do around MMEngine's Runner lives in
:mod:`emanplug.cli.runner`, the checks of a config in :mod:`emanplug.cli.checks`; the library code they call lives with the library
(:mod:`emanplug.datasets.splits`, :mod:`emanplug.evaluation`, :mod:`emanplug.checkpoint`).

Example:
    >>> from emanplug.cli import train
    >>> runner = train.run(['configs/quickstart/mocov2_resnet18-w32_1xb64-coslr-20e_digits_bn-eman.py',
    ...                     '--cfg-options', 'train_cfg.max_epochs=1'])  # doctest: +SKIP
"""
import functools
import os.path as osp
import re
import sys
import tempfile
from typing import Callable, Optional, Sequence

from ..errors import ConfigError

#: emanplug's configs, tools and model index, in mmpretrain's ``.mim`` layout: links to the
#: checkout's ``configs/`` and ``tools/`` in a source checkout, copies in an installed wheel.
#: ``_base_ = 'emanplug::mocov2/<config>.py'`` resolves there (mmengine's cross-package bases).
PACKAGE_DATA = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')
CONFIG_ROOT = osp.join(PACKAGE_DATA, 'configs')
TOOLS_DIR = osp.join(PACKAGE_DATA, 'tools')


def config_name(path: str) -> str:
    """``configs/<family>/<file>.py`` for one of emanplug's configs, else ``path`` unchanged."""
    relative = osp.relpath(osp.realpath(path), osp.realpath(CONFIG_ROOT))
    return path if relative.startswith('..') else osp.join('configs', relative)


def run_cli(run: Callable[[Optional[Sequence[str]]], object],
            argv: Optional[Sequence[str]] = None) -> None:
    """Call ``run(argv)`` as a command: a user error (:class:`ConfigError`, a missing file)
    exits with one line ``error: ...`` (status 1) instead of a traceback; anything else
    propagates.  Returns None, so that a console script exits with status 0."""
    try:
        run(argv)
    except (ConfigError, FileNotFoundError) as err:
        sys.exit(f'error: {one_line(err)}')


def one_line(err: BaseException) -> str:
    """The message of a user error as one line.  A ConfigError raised in a DataLoader worker
    reaches the main process with the worker's traceback in its message; its last line is
    the error itself (``emanplug.errors.ConfigError: <message>``)."""
    lines = [line for line in str(err).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else type(err).__name__
    return re.sub(r'^[\w.]*(ConfigError|Error): ', '', lines[-1].strip())


def check_output(path: str, key: str, folder: bool = False) -> None:
    """Raise ConfigError (one line naming ``key``) unless ``path`` can be written: a file
    (``folder=False``) or a folder, new or existing, under a folder this process can write
    in.  Nothing is created: the test is an unnamed temporary file (O_TMPFILE) in the
    nearest existing folder, which also sees read-only mounts and root's limits."""
    full = osp.abspath(osp.expanduser(path))
    kind = 'a folder' if folder else 'a file'
    if osp.exists(full) and osp.isdir(full) != folder:
        raise ConfigError(f'{key}={path!r} is {"a file" if folder else "a folder"}; allowed: '
                          f'{kind} path (new or existing) in a writable folder')
    existing = full if folder else osp.dirname(full)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not osp.isdir(existing):
        raise ConfigError(f'{key}={path!r} lies under {existing!r}, which is a file; allowed: '
                          f'{kind} path in a writable folder')
    try:
        if osp.isfile(full):
            with open(full, 'ab'):
                pass
        else:
            tempfile.TemporaryFile(dir=existing).close()
    except OSError as err:
        raise ConfigError(f'{key}={path!r} cannot be written ({existing}: {err.strerror or err}); '
                          f'allowed: {kind} path in a writable folder') from None


def command(run: Callable[[Optional[Sequence[str]]], object]) -> Callable[..., None]:
    """The ``main`` of a command module (its console script): ``run`` through :func:`run_cli`."""
    return functools.partial(run_cli, run)
