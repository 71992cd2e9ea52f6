"""The checks of a config before anything is built, trained or written: every value the
tables below name, every key of every built part against the arguments of its registered
class ("did you mean"), top-level keys, the launcher's environment, schemes that need
several processes, data paths, writable outputs, and a checkpoint against the model of a
config.  Each failure is one :class:`~emanplug.errors.ConfigError` line naming the key or
file and what is allowed.  Used by :mod:`emanplug.cli.train` and :mod:`emanplug.cli.test`
(through :mod:`emanplug.cli.runner`, which loads and prepares configs)."""
import copy
import difflib
import fnmatch
import importlib
import inspect
import os
import os.path as osp
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..core.momentum import check_momentum
from ..core.schemes import build_scheme
from ..errors import ConfigError
from . import check_output

TEACHER_MODELS = ('EMAMoCo', 'EMABYOL', 'FixMatch')

# What check_config checks, as data.  A path names config keys: dots between keys, ``*`` any
# key (fnmatch), ``key[Type]`` the entries of the list ``key`` whose type is Type (``[*]``: all).


class Number:
    """Rule for a number: an integer (``integer``) or any real, ``>= low`` (``> low`` with
    ``low_open``) and ``<= high`` where given; ``optional``: None is allowed too."""

    def __init__(self, low: Optional[float] = None, high: Optional[float] = None,
                 integer: bool = False, low_open: bool = False, optional: bool = False) -> None:
        self.low, self.high, self.integer = low, high, integer
        self.low_open, self.optional = low_open, optional
        self.kind = 'an integer' if integer else 'a number'

    @property
    def allowed(self) -> str:
        if self.high is not None:
            return f'{self.kind} in {"(" if self.low_open else "["}{self.low}, {self.high}]'
        return f'{self.kind} {">" if self.low_open else ">="} {self.low}'

    def __call__(self, key: str, value: Any) -> None:
        if value is None and self.optional:
            return
        if isinstance(value, bool) or not isinstance(value, int if self.integer else (int, float)):
            raise ConfigError(f'{key}={value!r} is not {self.kind}; allowed: {self.allowed}')
        if not (value > self.low if self.low_open else value >= self.low) or \
                (self.high is not None and not value <= self.high):
            raise ConfigError(f'{key}={value!r} is out of range; allowed: {self.allowed}')


def _persistent_workers(key: str, loader: Any) -> None:
    if isinstance(loader, dict) and loader.get('persistent_workers') and not loader.get('num_workers'):
        raise ConfigError(f'{key}.persistent_workers=True needs worker processes, and '
                          f'{key}.num_workers={loader.get("num_workers", 0)!r}; allowed: num_workers >= 1, '
                          f'or {key}.persistent_workers=False')


def _dict(optional: bool) -> Callable[[str, Any], None]:
    def rule(key: str, value: Any) -> None:
        if not isinstance(value, dict) and not (optional and value is None):
            raise ConfigError(f'{key}={value!r} is not a dict; allowed: dict(type=..., ...)'
                              + (' or None' if optional else ''))
    return rule


def _local_checkpoint(key: str, value: Any) -> None:
    if isinstance(value, str) and '://' not in value and not osp.isfile(osp.expanduser(value)):
        raise ConfigError(f'{key}={value!r} (the config or --resume FILE) does not exist; allowed: '
                          'a checkpoint file (e.g. work_dirs/<run>/epoch_N.pth), a URL, or None')


def _momentum(key: str, value: Any) -> None:
    if value is not None:  # None: the model's default
        check_momentum(value, key)  # the models' own check, so that --check-only sees it too


POSITIVE_INT, POSITIVE = Number(1, integer=True), Number(0, low_open=True)
UNIT, NON_NEGATIVE = Number(0, 1), Number(0)

#: (path, rule): the values check_config checks; a rule raises ConfigError naming the key.
VALUE_RULES: Tuple[Tuple[str, Callable[[str, Any], None]], ...] = (
    ('model', _dict(optional=False)),
    ('model.backbone', _dict(optional=False)),
    ('*_cfg', _dict(optional=True)),
    ('*_dataloader', _dict(optional=True)),
    ('*_dataloader.dataset', _dict(optional=False)),
    ('optim_wrapper', _dict(optional=True)),
    ('load_from', _local_checkpoint),
    ('*_dataloader.batch_size', POSITIVE_INT),
    ('*_dataloader.num_workers', Number(0, integer=True)),
    ('*_dataloader', _persistent_workers),
    ('*_dataloader.dataset.mu', POSITIVE_INT),
    ('train_cfg.max_epochs', POSITIVE_INT),
    ('train_cfg.max_iters', POSITIVE_INT),
    ('train_cfg.val_interval', POSITIVE_INT),
    ('optim_wrapper.optimizer.lr', POSITIVE),
    ('optim_wrapper.optimizer.momentum', UNIT),
    ('optim_wrapper.optimizer.weight_decay', NON_NEGATIVE),
    ('model.teacher_momentum', _momentum),
    ('model.momentum', _momentum),
    ('model.base_momentum', _momentum),
    ('model.threshold', UNIT),
    ('model.unsup_weight', NON_NEGATIVE),
    ('model.queue_len', POSITIVE_INT),
    ('model.feat_dim', POSITIVE_INT),
    ('model.head.temperature', POSITIVE),
    ('custom_hooks[KNNEvalHook].k', POSITIVE_INT),
    ('custom_hooks[KNNEvalHook].temperature', POSITIVE),
    ('custom_hooks[KNNEvalHook].interval', POSITIVE_INT),
    ('custom_hooks[KNNEvalHook].batch_size', POSITIVE_INT),
    ('default_hooks.logger.interval', POSITIVE_INT),
    ('randomness.seed', Number(0, 2**32 - 1, integer=True, optional=True)),
)

#: (path, registry of mmpretrain.registry that builds it from its ``type``, what builds it
#: when it has no type, keys its builder takes besides the arguments): the dicts whose keys
#: check_config compares with the arguments of what builds them.
BUILT_FROM: Tuple[Tuple[str, Optional[str], Optional[str], Tuple[str, ...]], ...] = (
    ('model', 'MODELS', None, ()),
    ('model.backbone', 'MODELS', None, ()),
    ('model.neck', 'MODELS', None, ()),
    ('model.head', 'MODELS', None, ()),
    ('train_cfg', 'LOOPS', None, ()),
    ('val_cfg', 'LOOPS', None, ()),
    ('test_cfg', 'LOOPS', None, ()),
    ('optim_wrapper', 'OPTIM_WRAPPERS', None, ('constructor', 'paramwise_cfg')),
    ('optim_wrapper.optimizer', 'OPTIMIZERS', None, ()),
    ('param_scheduler[*]', 'PARAM_SCHEDULERS', None, ('convert_to_iter_based',)),
    ('default_hooks.*', 'HOOKS', None, ('priority',)),
    ('custom_hooks[*]', 'HOOKS', None, ('priority',)),
    ('*_dataloader', None, 'torch.utils.data:DataLoader', ('num_batch_per_epoch',
                                                           'disable_subprocess_warning')),
    ('*_dataloader.sampler', 'DATA_SAMPLERS', None, ()),
    ('*_dataloader.dataset', 'DATASETS', None, ()),
    ('*_dataloader.dataset.dataset', 'DATASETS', None, ()),
    ('log_processor', 'LOG_PROCESSORS', 'mmengine.runner:LogProcessor', ()),
    ('randomness', None, 'mmengine.runner:Runner.set_randomness', ()),
)
#: Arguments that the builders pass themselves (not config keys).
PASSED_BY_BUILDER = frozenset({'self', 'runner', 'dataloader', 'evaluator', 'params'})
#: Top-level keys MMEngine's Runner reads besides the arguments of ``Runner.__init__``.
RUNNER_EXTRA_KEYS = ('model_wrapper_cfg', 'find_unused_parameters', 'compile',
                     'activation_checkpointing', 'efficient_conv_bn_eval', 'custom_imports')

#: --launcher -> (environment variables it reads, what sets them, how many processes).
LAUNCHERS = {
    'pytorch': (('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
                'torchrun (bash tools/dist_train.sh CONFIG N)', 'WORLD_SIZE'),
    'slurm': (('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
              'srun (bash tools/slurm_train.sh PARTITION JOB CONFIG)', 'SLURM_NTASKS'),
    'mpi': (('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK',
             'MASTER_ADDR'), 'mpirun', 'OMPI_COMM_WORLD_SIZE'),
}
#: scheme name -> (when it cannot train on one process, why).
ONE_PROCESS_SCHEMES = {
    'syncbn': (lambda scheme: True, 'normalises over the batches of all processes (on one '
               'process it is BN / BN under another name)'),
    'shufflebn': (lambda scheme: scheme.num_splits == 1, 'shuffles the batch across processes '
                  '(inside one undivided batch a shuffle changes nothing)'),
}
#: check_config's modes -> (check the launcher and the processes, data sources read).
TRAIN_DATA = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'KNNEvalHook')
MODES = {'train': True, 'check': False, 'test': True}


def _type_name(cfg: dict) -> str:
    t = cfg.get('type', '') if isinstance(cfg, dict) else ''
    return t.split('.')[-1] if isinstance(t, str) else getattr(t, '__name__', '')


def _hook_types(cfg: Config) -> set:
    return {_type_name(h) for h in cfg.get('custom_hooks', []) or []}


def find(node: Any, pattern: str, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    """``(path, value)`` of every key of the config ``node`` that ``pattern`` names (see
    the table above).

    Example:
        >>> list(find(dict(train_dataloader=dict(batch_size=4)), '*_dataloader.batch_size'))
        [('train_dataloader.batch_size', 4)]
    """
    if not pattern:
        yield prefix, node
        return
    head, _, rest = pattern.partition('.')
    key, _, selector = head.partition('[')
    if not isinstance(node, dict):
        return
    for name in [k for k in node if fnmatch.fnmatchcase(str(k), key)]:
        path, value = f'{prefix}.{name}' if prefix else str(name), node[name]
        if not selector:
            yield from find(value, rest, path)
            continue
        for item in value if isinstance(value, (list, tuple)) else ():
            if isinstance(item, dict) and fnmatch.fnmatchcase(_type_name(item), selector.rstrip(']')):
                yield from find(item, rest, f'{path}[{_type_name(item)}]')


def _import(target: str) -> Any:
    module, _, names = target.partition(':')
    obj = importlib.import_module(module)
    for name in names.split('.'):
        obj = getattr(obj, name)
    return obj


def accepted_keys(target: Any) -> Optional[set]:
    """The keyword arguments ``target(...)`` takes: the named parameters of its ``__init__``
    (of the function itself for a function) and, while an ``__init__`` passes ``**kwargs``
    on, those of the classes after it in the MRO.  None when that cannot be told (a
    ``**kwargs`` nobody names)."""
    keys: set = set()
    for fn in [k.__dict__['__init__'] for k in target.__mro__ if '__init__' in k.__dict__
               and k is not object] if isinstance(target, type) else [target]:
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            return None
        keys |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return keys - PASSED_BY_BUILDER
    return None


def _registry(name: str) -> Any:
    import mmpretrain.registry
    return getattr(mmpretrain.registry, name)


def _registered_names(registry: Any) -> List[str]:
    names: set = set()
    while registry is not None:
        names |= set(registry.module_dict)
        registry = registry.parent
    return sorted(names)


def _did_you_mean(word: str, choices: Sequence[str], prefix: str = '') -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f' (did you mean {" or ".join(prefix + c for c in close)}?)' if close else ''


def _check_keys_of(path: str, value: dict, registry: Optional[str], default: Optional[str],
                   extra: Sequence[str]) -> None:
    """The keys of the config dict ``value`` (at ``path``) are arguments of what builds it."""
    t = value.get('type')
    if t is None:
        target = _import(default) if default else None
    elif not isinstance(t, str):
        target = t
    elif registry is None:
        return
    else:
        target = _registry(registry).get(t)
        if target is None:
            if '.' in t:  # another package's scope: not this check's business
                return
            names = _registered_names(_registry(registry))
            raise ConfigError(f'{path}.type={t!r} is not registered{_did_you_mean(t, names)}; '
                              f'allowed: a type registered in {registry} (e.g. '
                              f'{", ".join(difflib.get_close_matches(t, names, 5, 0))})')
    allowed = accepted_keys(target) if target is not None else None
    if allowed is None:
        return
    allowed |= set(extra)
    for key in value:
        if key not in allowed and key not in ('type', '_scope_'):
            name = getattr(target, '__qualname__', str(target))
            raise ConfigError(f'{path}.{key} is not an argument of {name}'
                              f'{_did_you_mean(str(key), sorted(allowed), path + ".")}; '
                              f'allowed: {", ".join(sorted(allowed))}')


def cfg_options_action() -> type:
    """mmengine's ``DictAction`` for ``--cfg-options``, with a one-line argparse error for
    an item that is not ``KEY=VALUE`` (``DictAction`` fails with a ValueError traceback)."""
    from mmengine.config import DictAction

    class CfgOptions(DictAction):
        def __call__(self, parser, namespace, values, option_string=None):
            for item in values or ():
                if '=' not in item or item.startswith('='):
                    parser.error(f'argument --cfg-options: {item!r} is not KEY=VALUE; allowed: '
                                 'key=value items, e.g. train_cfg.max_epochs=10')
            super().__call__(parser, namespace, values, option_string)
    return CfgOptions


def runner_keys() -> List[str]:
    """The top-level config keys MMEngine's Runner reads."""
    from mmengine.runner import Runner
    params = inspect.signature(Runner.__init__).parameters
    return sorted((set(params) - {'self', 'cfg'}) | set(RUNNER_EXTRA_KEYS))


def _check_top_level(cfg: Config, options: Optional[dict] = None) -> None:
    """A top-level key is one the Runner reads, or a variable the file uses while it is
    read; a ``--cfg-options`` key must be one the Runner reads (setting a variable of the
    file after it was read changes nothing), a key in the file must not look like a
    misspelt Runner key."""
    keys = runner_keys()
    for option in options or {}:
        top = option.split('.')[0]
        if top in keys:
            continue
        if top in cfg:
            uses = sorted(p for p in _leaf_paths(cfg.to_dict()) if p.rsplit('.', 1)[-1] == top and p != top)
            hint = f'set {" or ".join(uses)} instead' if uses else 'set the keys that use it'
            raise ConfigError(f'--cfg-options {option}: {top} is a variable of the config file, '
                              f'used only while the file is read, so setting it here changes '
                              f'nothing; allowed: {hint}')
        raise ConfigError(f'--cfg-options {option}: {top!r} is not a key the Runner reads'
                          f'{_did_you_mean(top, keys)}; allowed: {", ".join(keys)}')
    for key in cfg.keys():
        if key not in keys and difflib.get_close_matches(key, keys, n=1, cutoff=0.85):
            raise ConfigError(f'config key {key!r} is not a key the Runner reads'
                              f'{_did_you_mean(key, keys)}; allowed: {", ".join(keys)}, or a '
                              'variable that other keys use')


def _leaf_paths(node: Any, prefix: str = '') -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, f'{prefix}.{key}' if prefix else str(key))
    elif prefix:
        yield prefix


def _dataset_sources(cfg: dict, sources: Sequence[str]) -> Iterator[Tuple[str, dict]]:
    """``(path, dataset config)`` of the data a run reads: the dataloaders in ``sources``
    and, for 'KNNEvalHook', the bank and query of the kNN hooks (one without a type is the
    training dataset with these keys replaced, as the hook builds it)."""
    train = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    for source in sources:
        if source != 'KNNEvalHook':
            yield from find(cfg, f'{source}.dataset')
            continue
        for path, hook in find(cfg, 'custom_hooks[KNNEvalHook]'):
            for part in ('bank', 'query'):
                data = hook.get(part)
                if isinstance(data, dict):
                    yield f'{path}.{part}', data if 'type' in data else dict(train, **data)


def _check_dataset_paths(cfg: dict, sources: Sequence[str]) -> None:
    for key, dataset in _dataset_sources(cfg, sources):
        split = None
        while isinstance(dataset, dict) and isinstance(dataset.get('dataset'), dict):
            split = dataset.get('split_file') or split  # wrappers: LabeledSubset, RepeatDataset
            dataset, key = dataset['dataset'], key + '.dataset'
        if not isinstance(dataset, dict) or not dataset.get('data_root'):
            continue
        root = dataset['data_root']
        if not osp.isdir(root):
            raise ConfigError(f'{key}.data_root={root!r} does not exist; allowed: an existing '
                              f'folder (set it with --cfg-options {key}.data_root=/path)')
        if split and not osp.isfile(split):
            raise ConfigError(f'{key.rsplit(".dataset", 1)[0]}.split_file={split!r} does not exist; '
                              'allowed: a split written by tools/make_split.py (e.g. python '
                              f'tools/make_split.py {root} --num-labeled 4000) or a published index list')
        if split:  # a split that selects nothing stops here, before the Runner writes its logs
            from ..datasets.splits import read_index_split, read_split
            if read_index_split(split) is None:
                read_split(split)
        prefix = dataset.get('data_prefix')
        prefix = prefix.get('img_path', '') if isinstance(prefix, dict) else (prefix or '')
        if prefix and not osp.exists(osp.join(root, prefix)):
            raise ConfigError(f'{key}.data_prefix={prefix!r} does not exist under data_root '
                              f'{root!r}; allowed: a sub-folder of data_root (e.g. train/ of the '
                              'ImageFolder layout)')
        if _type_name(dataset) in IMAGE_FOLDER_DATASETS and not dataset.get('ann_file'):
            _check_image_folder(key, osp.join(root, prefix), dataset)


#: datasets that read an image folder when they have no ``ann_file`` (mmpretrain's ImageFolder)
IMAGE_FOLDER_DATASETS = ('CustomDataset', 'ImageNet')


def _has_image(folder: str, extensions: Tuple[str, ...]) -> bool:
    for _, _, files in os.walk(folder, followlinks=True):
        if any(name.lower().endswith(extensions) for name in files):
            return True
    return False


def _check_image_folder(key: str, folder: str, dataset: dict) -> None:
    """The image folder a dataset reads holds images: ``<folder>/<class>/<image>`` (mmpretrain
    failed with a traceback, "Found 0 files in subfolders"), or any image below it with
    ``with_label=False``."""
    from mmpretrain.datasets import CustomDataset
    default = inspect.signature(CustomDataset.__init__).parameters['extensions'].default
    extensions = tuple(e.lower() for e in dataset.get('extensions') or default)
    layout = (f'allowed: the ImageFolder layout {folder}/<class>/<image> with images ending in '
              f'{", ".join(extensions)}')
    if not osp.isdir(folder):
        return
    if dataset.get('with_label', True):
        classes = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir())
        if not classes:
            what = 'is empty' if not os.listdir(folder) else 'holds no class folders'
            raise ConfigError(f'{key}: image folder {folder} {what}; {layout}')
        if not any(_has_image(osp.join(folder, c), extensions) for c in classes):
            shown = ', '.join(classes[:5]) + (f' and {len(classes) - 5} more' if len(classes) > 5 else '')
            raise ConfigError(f'{key}: the class folders of {folder} ({shown}) hold no image; {layout}')
    elif not _has_image(folder, extensions):
        raise ConfigError(f'{key}: image folder {folder} holds no image; {layout}')


def _check_launcher(cfg: Config, scheme: Any, training: bool) -> None:
    """The launcher's environment is there (torchrun / srun / mpirun set it), and a scheme
    that needs several processes gets them."""
    launcher = cfg.get('launcher') or 'none'
    processes = 1
    if launcher in LAUNCHERS:
        names, starter, size = LAUNCHERS[launcher]
        missing = [n for n in names if n not in os.environ and not (
            launcher == 'slurm' and n == 'SLURM_NODELIST' and 'MASTER_ADDR' in os.environ)]
        if missing:
            raise ConfigError(f'--launcher {launcher} needs {", ".join(missing)} in the environment, '
                              f'which {starter} sets; allowed: --launcher none (one process), or '
                              f'start the command with {starter}')
        try:
            processes = int(os.environ[size])
        except ValueError:
            raise ConfigError(f'--launcher {launcher}: {size}={os.environ[size]!r} is not a number '
                              f'of processes; allowed: an integer >= 1, as {starter} sets it') from None
    check = ONE_PROCESS_SCHEMES.get(getattr(scheme, 'name', None))
    if training and processes == 1 and check and check[0](scheme):
        raise ConfigError(f'model.scheme={scheme.token!r} {check[1]}, and this run has one process; '
                          'allowed: several processes (bash tools/dist_train.sh CONFIG N, N >= 2)'
                          + (", or scheme=dict(type='shufflebn', num_splits=N)" if scheme.name == 'shufflebn'
                             else ', or scheme bn-bn on one process'))


def check_config(cfg: Config, mode: str = 'train') -> None:
    """Raise ConfigError (one line, naming the key) before anything is built or trained.

    ``mode``: 'train' (``emanplug-train``), 'check' (``--check-only``: everything but how
    the processes are started, which ``tools/dist_train.sh`` checks before it starts them)
    or 'test' (``emanplug-test``: the launcher and the data that is evaluated).
    """
    if mode not in MODES:
        raise ValueError(f'mode={mode!r}; allowed: {", ".join(MODES)}')
    data = cfg.to_dict()
    for path, registry, default, extra in BUILT_FROM:
        for key, value in find(data, path):
            if isinstance(value, dict):
                _check_keys_of(key, value, registry, default, extra)
    for path, rule in VALUE_RULES:
        for key, value in find(data, path):
            rule(key, value)
    model = cfg.get('model') or {}
    scheme = None
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
    if MODES[mode]:
        _check_launcher(cfg, scheme, training=mode == 'train')
    tested = ('test_dataloader',) if data.get('test_dataloader') and data.get('test_evaluator') \
        else ('KNNEvalHook',)
    _check_dataset_paths(data, tested if mode == 'test' else TRAIN_DATA)
    if cfg.get('work_dir'):
        check_output(cfg.work_dir, 'work_dir', folder=True)


def check_checkpoint(cfg: Config, checkpoint: Any, path: str) -> None:
    """Raise ConfigError unless ``checkpoint`` (as loaded) holds the state dict of the model
    that ``cfg`` builds, key by key and shape by shape.  (MMEngine loads with
    ``strict=False``: a checkpoint of another model would be evaluated with random weights
    where its keys are missing.)"""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    from ..checkpoint import state_dict_mismatch
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not state:
        what = 'an empty state dict' if isinstance(state, dict) else \
            f'a {type(checkpoint).__name__}, not a state dict'
        raise ConfigError(f'checkpoint {path} holds {what}; allowed: a checkpoint written by tools/train.py')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(copy.deepcopy(cfg.model))
    problem = state_dict_mismatch(model.state_dict(), state)
    if problem:
        scheme = cfg.model.get('scheme') if isinstance(cfg.model, dict) else None
        scheme = scheme.get('type') if isinstance(scheme, dict) else scheme
        raise ConfigError(f'checkpoint {path} does not fit the model of this config '
                          f'({_type_name(cfg.model)}{", scheme " + str(scheme) if scheme else ""}): '
                          f'{problem}; allowed: a checkpoint written by training this config')

