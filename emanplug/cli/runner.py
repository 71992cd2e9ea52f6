"""What the entry points (:mod:`emanplug.cli.train`, :mod:`emanplug.cli.test`) do around
MMEngine's Runner: load a config with its command-line options, apply them (work dir,
resume, AMP, the CPU backend, the non-finite guard, the peer timeout), build the Runner (a
run name of its own per Runner), and start and end the process group.  The checks live in
:mod:`emanplug.cli.checks`."""
import contextlib
import datetime
import itertools
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Iterator, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config

from ..core.schemes import build_scheme
from ..errors import ConfigError
from .checks import _check_top_level, _hook_types

def load_config(path: str, options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` + ``--cfg-options``; a broken file or option is a one-line ConfigError.
    A config file is Python: any error its code raises (a ``NameError``, a failing import, in
    the file or in one of its ``_base_`` files) is named with the file and line it comes from."""
    if not osp.isfile(path):
        raise ConfigError(f'config file {path!r} does not exist')
    try:
        cfg = Config.fromfile(path)
        _check_top_level(cfg, options)
        if options:
            cfg.merge_from_dict(options)
    except ConfigError:
        raise
    except Exception as err:  # noqa: BLE001 -- whatever the config's own code raised
        first = str(err).strip().splitlines()[0] if str(err).strip() else ''
        where = _config_line(err)
        if isinstance(err, (TypeError, KeyError, ValueError, SyntaxError, ImportError, AttributeError)):
            raise ConfigError(f'config {path}: {first or type(err).__name__}{where}') from None
        raise ConfigError(f'config {path}: {type(err).__name__}{": " + first if first else ""}{where}; allowed: '
                          'a config file whose code runs without error') from None
    return cfg


def _config_line(err: BaseException) -> str:
    """`` (FILE line N)`` of the innermost frame of ``err`` that is not in Python or an installed
    package: the config file (or ``_base_`` file) whose code raised it; ``''`` when none."""
    import sysconfig
    import traceback
    installed = tuple(osp.realpath(sysconfig.get_paths()[k]) for k in ('stdlib', 'purelib', 'platlib'))
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if osp.isfile(f.filename) and not osp.realpath(f.filename).startswith(installed)]
    return f' ({frames[-1].filename} line {frames[-1].lineno})' if frames else ''


def default_work_dir(cfg: Config, config_path: Optional[str] = None,
                     options: Optional[dict] = None) -> str:
    """``work_dirs/<config name>``; ``work_dirs/<config name>_scheme-<token>`` when the
    command line changed the scheme (``--cfg-options model.scheme=...``), so that two
    schemes of one config never share checkpoints.

    Example:
        >>> cfg = Config(dict(model=dict(type='EMAMoCo', scheme='bn-eman0.9')))
        >>> default_work_dir(cfg, 'configs/mocov2/a_bn-eman.py', {'model.scheme': 'bn-eman0.9'})
        'work_dirs/a_bn-eman_scheme-bn-eman0.9'
    """
    name = osp.splitext(osp.basename(config_path or 'run'))[0]
    if any(key == 'model.scheme' or key.startswith('model.scheme.') for key in options or {}):
        try:
            name += '_scheme-' + build_scheme((cfg.get('model') or {}).get('scheme')).token
        except ConfigError as err:
            raise ConfigError(f'model.scheme: {err}') from None
    return osp.join('work_dirs', name)


_RUNNERS_BUILT = itertools.count(1)


def build_runner(cfg: Config):
    """``Runner.from_cfg(cfg)``, with a run name of its own in this process.

    mmengine names a run's logger, message hub and visualizer ``<config name>_<second>`` and
    hands back the existing instance of a name, so a second run of the same config started in
    the same second of one process (a loop over runs, a notebook, the tests) would log through
    the first run's handlers and add to its scalars.  From the second Runner of a process on,
    the name carries the Runner's number (``<config name>-2_<second>``); the first keeps
    mmengine's name, and an ``experiment_name`` in the config is kept as it is."""
    from mmengine.runner import Runner
    number = next(_RUNNERS_BUILT)
    if number > 1 and not cfg.get('experiment_name'):
        stem = osp.splitext(osp.basename(cfg.filename))[0] if cfg.filename else 'run'
        cfg.experiment_name = f'{stem}-{number}'
    return Runner.from_cfg(cfg)


def prepare_config(cfg: Config, work_dir: Optional[str] = None, resume: Optional[str] = None,
                   amp: bool = False, config_path: Optional[str] = None,
                   options: Optional[dict] = None) -> Config:
    """Apply the command-line options of ``emanplug-train`` and the stack fixes to ``cfg``
    (``options``: the ``--cfg-options`` already merged into ``cfg``, which name the default
    work dir, see :func:`default_work_dir`)."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(cfg, config_path, options)
    if resume == 'auto':  # last_checkpoint, or the newest loadable checkpoint if it is broken
        from ..checkpoint_files import resume_checkpoint
        found, note = resume_checkpoint(cfg.work_dir)  # a refused one stops here (one line)
        if note:
            print(f'[emanplug] --resume: {note}', file=sys.stderr, flush=True)
        cfg.resume, cfg.load_from = found is not None, found
    elif resume is not None:
        from ..checkpoint_files import check_resume_file
        check_resume_file(resume, cfg.work_dir)  # refused: one line before anything is written
        cfg.resume, cfg.load_from = True, resume
    if amp:
        print(f'[emanplug] {apply_amp(cfg)}', flush=True)
    if not torch.cuda.is_available():  # CPU processes: gloo, and DDP without device_ids
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                         broadcast_buffers=False,
                                         find_unused_parameters=cfg.get('find_unused_parameters', False))
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg.setdefault('timeout', PEER_TIMEOUT['nccl' if torch.cuda.is_available() else 'gloo'])
    if 'NonFiniteGuardHook' not in _hook_types(cfg):  # on by default (enabled=False turns it off)
        cfg.custom_hooks = [*(cfg.get('custom_hooks') or []), dict(type='NonFiniteGuardHook')]
    if not torch.cuda.is_available() and 'CPUShareHook' not in _hook_types(cfg):
        cfg.custom_hooks = [*cfg.custom_hooks, dict(type='CPUShareHook')]  # fewer threads when shared
    return cfg


def apply_amp(cfg: Config) -> str:
    """``--amp``: switch ``cfg.optim_wrapper`` to the mixed precision this machine has and
    return one line saying which precision was chosen.

    * CUDA: ``AmpOptimWrapper``, float16 with dynamic loss scaling, or bfloat16 with
      ``--cfg-options optim_wrapper.dtype=bfloat16``;
    * a CPU with native bfloat16 (:func:`emanplug.engine.cpu_bf16_support`):
      ``CPUAutocastOptimWrapper``, bfloat16 autocast (mmengine's AmpOptimWrapper needs a GPU);
    * any other CPU: float32, the config unchanged.

    Example:
        >>> cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))))
        >>> apply_amp(cfg)   # on a CPU with avx512_bf16
        '--amp: CPU bfloat16 autocast (avx512_bf16; CPUAutocastOptimWrapper)'
    """
    wrapper = cfg.get('optim_wrapper')
    if not wrapper:
        raise ConfigError('--amp: the config has no optim_wrapper; allowed: --amp with a '
                          'config that trains (sets optim_wrapper)')
    dtype = wrapper.get('dtype')
    dtype = None if dtype is None else str(dtype).replace('torch.', '')
    if torch.cuda.is_available():
        if dtype not in (None, 'float16', 'bfloat16'):
            raise ConfigError(f'optim_wrapper.dtype={dtype!r} with --amp on CUDA; allowed: '
                              "'float16' (default) or 'bfloat16'")
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
        if dtype == 'bfloat16':
            return '--amp: CUDA bfloat16 autocast (AmpOptimWrapper)'
        return f'--amp: CUDA float16 autocast, loss scale {wrapper.loss_scale} (AmpOptimWrapper)'
    if dtype not in (None, 'bfloat16'):
        raise ConfigError(f'optim_wrapper.dtype={dtype!r} with --amp on a CPU; allowed: '
                          "'bfloat16' (CPU autocast)")
    from ..engine.amp import BF16_CPU_FLAGS, cpu_bf16_support
    flag = cpu_bf16_support()
    if flag is None:
        wrapper.pop('dtype', None)  # OptimWrapper takes no dtype
        return (f'--amp: no CUDA GPU and this CPU has no native bfloat16 '
                f'({" / ".join(BF16_CPU_FLAGS)}); training in float32')
    wrapper.pop('loss_scale', None)  # bfloat16 needs no loss scaling
    wrapper.update(type='CPUAutocastOptimWrapper', dtype='bfloat16')
    return f'--amp: CPU bfloat16 autocast ({flag}; CPUAutocastOptimWrapper)'


#: Seconds a process waits for its peers in a collective operation before the job ends
#: (``env_cfg.dist_cfg.timeout`` overrides it).  A stopped or hung peer must not hold the job:
#: gloo (CPU) 5 minutes instead of torch's 30; nccl (GPUs) torch's own 10 minutes (PyTorch
#: lowered it from 30 to save cluster time on hung collectives; mmengine and torchrun set none,
#: and mmengine's ``timeout=1800`` is only the example of its docs).  Measured with the gloo
#: default: the waiting rank's one line 300 s after the stop, the job over 33 s later
#: (torchrun's SIGTERM, then its SIGKILL of the stopped rank); see docs/reliability.md.
PEER_TIMEOUT = {'gloo': 300, 'nccl': 600}


class PeerTimeoutError(ConfigError):
    """A peer process did not answer within the process group's timeout."""


def init_distributed(launcher: str, timeout: Optional[float] = None) -> None:
    """Initialise torch.distributed for CPU runs (gloo) before the Runner does.

    On GPUs MMEngine initialises nccl itself; on a machine without GPUs it would call
    ``torch.cuda.set_device`` and fail, so emanplug starts the gloo process group from
    the variables torchrun (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) or
    slurm (``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_NODELIST``) set.
    """
    if launcher == 'none' or torch.cuda.is_available() or dist.is_initialized():
        return
    if launcher == 'slurm':
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        os.environ.setdefault('MASTER_PORT', os.environ.get('PORT', '29500'))
        if 'MASTER_ADDR' not in os.environ:
            nodes = subprocess.run(['scontrol', 'show', 'hostname', os.environ['SLURM_NODELIST']],
                                   capture_output=True, text=True, check=True).stdout.split()
            os.environ['MASTER_ADDR'] = nodes[0]
    elif launcher != 'pytorch':
        raise ConfigError(f'--launcher={launcher!r} is not supported on CPU; allowed: none, pytorch, slurm')
    dist.init_process_group('gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']),
                            timeout=datetime.timedelta(seconds=timeout or PEER_TIMEOUT['gloo']))


@contextlib.contextmanager
def distributed(launcher: str, timeout: Optional[float] = None) -> Iterator[None]:
    """``init_distributed`` on entry; on a normal exit every process waits for the others and
    the process group started inside the block is destroyed (one that existed before is left
    to its owner). A gloo group left alive at interpreter exit tears its connections down
    while the peer may still be closing its own, which now and then aborts a process
    ("terminate called without an active exception") after a finished run. On an exception
    nothing waits (a barrier could hang on a peer that already died); a peer that did not
    answer within ``timeout`` seconds (gloo) becomes one line (:class:`PeerTimeoutError`)."""
    owner = not dist.is_initialized()
    init_distributed(launcher, timeout)
    try:
        yield
    except RuntimeError as err:
        if dist.is_initialized() and re.search(r'[Tt]imed out|[Tt]imeout', str(err)):
            me, world = dist.get_rank(), dist.get_world_size()
            peers = f'rank {1 - me}' if world == 2 else f'one of the other {world - 1} ranks'
            raise PeerTimeoutError(
                f'rank {me}: {peers} did not answer within {timeout or PEER_TIMEOUT["gloo"]:g} s (a '
                'stopped, hung or overloaded process); allowed: a longer '
                'env_cfg.dist_cfg.timeout=SECONDS, then resume with --resume') from None
        raise
    if owner and dist.is_initialized():  # on GPUs the Runner started it inside the block
        dist.barrier()
        dist.destroy_process_group()
