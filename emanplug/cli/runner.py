"""What the entry points (:mod:`emanplug.cli.train`, :mod:`emanplug.cli.test`) do around
MMEngine's Runner: check the config before anything is built, pick the distributed backend
for the machine, and apply command-line options."""
import contextlib
import os
import os.path as osp
import subprocess
from typing import Iterator, Optional

import torch
import torch.distributed as dist
from mmengine.config import Config

from ..compat import strip_collate_scope
from ..core.schemes import build_scheme
from ..errors import ConfigError

TEACHER_MODELS = ('EMAMoCo', 'EMABYOL', 'FixMatch')


def _type_name(cfg: dict) -> str:
    t = cfg.get('type', '') if isinstance(cfg, dict) else ''
    return t.split('.')[-1] if isinstance(t, str) else getattr(t, '__name__', '')


def _hook_types(cfg: Config) -> set:
    return {_type_name(h) for h in cfg.get('custom_hooks', []) or []}


def _check_dataset_paths(cfg: Config) -> None:
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') if isinstance(cfg.get(key), dict) else None
        while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']  # wrappers such as RepeatDataset
        if not isinstance(dataset, dict) or not dataset.get('data_root'):
            continue
        root = dataset['data_root']
        if not osp.isdir(root):
            raise ConfigError(f'{key}.dataset.data_root={root!r} does not exist; allowed: an existing '
                              f'folder (set it with --cfg-options {key}.dataset.data_root=/path)')
        split = (cfg.get(key) or {}).get('dataset', {}).get('split_file')
        if split and not osp.isfile(split):
            raise ConfigError(f'{key}.dataset.split_file={split!r} does not exist; allowed: a split '
                              'written by tools/make_split.py (e.g. python tools/make_split.py '
                              f'{root} --num-labeled 4000) or a published index list')
        prefix = dataset.get('data_prefix')
        prefix = prefix.get('img_path', '') if isinstance(prefix, dict) else (prefix or '')
        if prefix and not osp.exists(osp.join(root, prefix)):
            raise ConfigError(f'{key}.dataset.data_prefix={prefix!r} does not exist under data_root '
                              f'{root!r}; allowed: a sub-folder of data_root (e.g. train/ of the '
                              'ImageFolder layout)')


def load_config(path: str, options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` + ``--cfg-options``; a broken file or option is a one-line ConfigError."""
    if not osp.isfile(path):
        raise ConfigError(f'config file {path!r} does not exist')
    try:
        cfg = Config.fromfile(path)
        if options:
            cfg.merge_from_dict(options)
    except (TypeError, KeyError, ValueError, SyntaxError, ImportError, AttributeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f'config {path}: {first}') from None
    return cfg


def check_config(cfg: Config) -> None:
    """Raise ConfigError (one line, naming the key) before anything is built or trained."""
    model = cfg.get('model') or {}
    if _type_name(model) in TEACHER_MODELS and model.get('scheme') is not None:
        try:
            scheme = build_scheme(model['scheme'])
        except ConfigError as err:
            raise ConfigError(f'model.scheme: {err}') from None
        if 'EMANHook' not in _hook_types(cfg):
            raise ConfigError(f'model {_type_name(model)} has an EMA teacher but custom_hooks has no '
                              "EMANHook; allowed: add custom_hooks=[dict(type='EMANHook')]")
        loader = cfg.get('train_dataloader') or {}
        batch = loader.get('batch_size')
        if isinstance(batch, int):
            batch *= (loader.get('dataset') or {}).get('mu', 1)  # FixMatch: the teacher sees mu x batch
            try:
                scheme.check_batch_size(batch, 'train_dataloader.batch_size')
            except ConfigError as err:
                raise ConfigError(f'model.scheme: {err}') from None
    _check_dataset_paths(cfg)


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
        found, note = resume_checkpoint(cfg.work_dir)
        if note:
            print(f'[emanplug] --resume: {note}', flush=True)
        cfg.resume, cfg.load_from = found is not None, found
    elif resume is not None:
        cfg.resume, cfg.load_from = True, resume
    if amp:
        if torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            print('[emanplug] --amp needs a CUDA GPU; none found, training in float32')
    if not torch.cuda.is_available():  # CPU processes: gloo, and DDP without device_ids
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                         broadcast_buffers=False,
                                         find_unused_parameters=cfg.get('find_unused_parameters', False))
    strip_collate_scope(cfg)
    return cfg


def init_distributed(launcher: str) -> None:
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
                            world_size=int(os.environ['WORLD_SIZE']))


@contextlib.contextmanager
def distributed(launcher: str) -> Iterator[None]:
    """``init_distributed`` on entry; on a normal exit every process waits for the others and
    the process group started inside the block is destroyed (one that existed before is left
    to its owner). A gloo group left alive at interpreter exit tears its connections down
    while the peer may still be closing its own, which now and then aborts a process
    ("terminate called without an active exception") after a finished run. On an exception
    nothing waits (a barrier could hang on a peer that already died)."""
    owner = not dist.is_initialized()
    init_distributed(launcher)
    yield
    if owner and dist.is_initialized():  # on GPUs the Runner started it inside the block
        dist.barrier()
        dist.destroy_process_group()
