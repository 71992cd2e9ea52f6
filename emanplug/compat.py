"""Fixes for the known breakages of the torch 2.14 / mmengine 0.10.7 / mmcv 2.2 /
mmpretrain 1.2 stack (method notes, section 5).  :func:`apply` runs once, when the
OpenMMLab adapters load (:func:`emanplug.registry.register_all_modules`); each fix is
idempotent and targeted:

* checkpoint files (:mod:`emanplug.checkpoint_files`): torch >= 2.6 loads with
  ``weights_only=True`` and refuses mmengine's own checkpoints, so exactly what they hold is
  allow-listed and every source mmengine accepts (local paths, ``http(s)://``,
  ``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``modelzoo://``) loads through
  :func:`~emanplug.checkpoint_files.load_checkpoint_file`, which refuses anything else with
  one line (``weights_only`` is never switched off; mmengine's remote loader had it off).
  Checkpoints are written atomically and the previous one is rotated out only after the new
  one is complete (mmengine wrote in place after deleting the previous one).
* numpy 2 + ``mmcv.adjust_hue``: ``np.uint8(negative)`` overflows; the hue shift is
  done modulo 256 instead.
* setuptools >= 81 has no ``pkg_resources``, which mmengine uses to resolve
  ``_base_ = 'mmpretrain::...'``; the same look-ups are done with ``importlib.metadata``, and
  ``'emanplug::...'`` resolves too (:func:`fix_config_resolution`, installed by ``import
  emanplug`` whenever mmengine's config module loads).
* ``mmcv``'s ``LoadImageFromFile`` fails on a zero-byte or corrupt image inside ``cv2`` without
  naming the file: it raises one line naming the file instead (every dataset).
* ``Runner.build_dataloader`` passes ``_scope_`` into ``collate_fn`` for configs
  inherited across packages (``TypeError: default_collate() got an unexpected keyword argument
  '_scope_'``, in mmpretrain's own ``tools/train.py`` too): the patched ``build_dataloader``
  drops it.
* distributed runs on CPU (``--launcher pytorch`` without GPUs, e.g. mmpretrain's own
  ``tools/dist_train.sh``): gloo, no ``torch.cuda.set_device``, DDP without device ids.

:func:`require_mmcv` says in one line what to install when no mmcv 2.x is there (emanplug does
not require one: a compiled ``mmcv`` and ``mmcv-lite`` are both fine, and neither may be
installed over the other).
"""
import importlib.metadata
import importlib.util
import os.path as osp
import sys
from typing import Optional

import numpy as np

from .core.norms import GlobalBatchNorm, replace_batchnorms
from .core.schemes import convert_to

from .checkpoint_files import (UnsafeCheckpointError, allow_mmengine_checkpoints,  # noqa: F401
                               load_checkpoint_file, use_safe_checkpoint_files)


def adjust_hue(img: np.ndarray, hue_factor: float, backend: Optional[str] = None) -> np.ndarray:
    """``mmcv.adjust_hue`` with the hue shift taken modulo 256, valid under numpy 2."""
    import cv2
    from PIL import Image
    import mmcv.image.photometric as photometric
    backend = backend or photometric.imread_backend
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f"backend={backend!r} is not supported; allowed: 'cv2', 'pillow'")
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor={hue_factor} is not in [-0.5, 0.5]')
    if not (isinstance(img, np.ndarray) and img.ndim in (2, 3)):
        raise TypeError('img should be an ndarray with 2 or 3 dimensions')
    shift = np.uint8(int(hue_factor * 255) % 256)
    if backend == 'pillow':
        pil = Image.fromarray(np.ascontiguousarray(img[..., ::-1]), mode='RGB')
        h, s, v = pil.convert('HSV').split()
        h = Image.fromarray(np.array(h, dtype=np.uint8) + shift, 'L')
        return np.array(Image.merge('HSV', (h, s, v)).convert('RGB'), dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += shift  # uint8 arithmetic wraps around the hue circle
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


def _fix_hue() -> None:
    import mmcv
    import mmcv.image
    import mmcv.image.photometric
    for module in (mmcv, mmcv.image, mmcv.image.photometric):
        module.adjust_hue = adjust_hue


def _fix_random_crop_padding() -> None:
    """mmpretrain 1.2.0's ``RandomCrop(padding=4, padding_mode='reflect')`` pads with the
    constant ``pad_val`` whatever ``padding_mode`` says (the mode only reaches the
    ``pad_if_needed`` branch): the CIFAR weak augmentation got black borders.  Pad with the
    configured mode, as documented."""
    import mmcv
    from mmpretrain.datasets.transforms import RandomCrop
    original = RandomCrop.transform
    if getattr(original, '_emanplug_fixed', False):
        return

    def transform(self, results: dict) -> dict:
        if self.padding is None or self.padding_mode == 'constant':
            return original(self, results)
        results['img'] = mmcv.impad(results['img'], padding=self.padding, pad_val=self.pad_val,
                                    padding_mode=self.padding_mode)
        padding, self.padding = self.padding, None
        try:
            return original(self, results)
        finally:
            self.padding = padding

    transform._emanplug_fixed = True
    transform.__doc__ = original.__doc__
    RandomCrop.transform = transform


def _name_bad_images() -> None:
    """mmcv's ``LoadImageFromFile`` names the image file it cannot read or decode (one line,
    :func:`~emanplug.datasets.semi_supervised.naming_bad_images`) instead of failing in
    ``cv2.imdecode`` with an assertion that names no file: a zero-byte or corrupt image is one
    line in every dataset, the validation and test sets and the kNN bank included."""
    from mmcv.transforms import LoadImageFromFile

    from .datasets.semi_supervised import naming_bad_images
    original = LoadImageFromFile.transform
    if getattr(original, '_emanplug_fixed', False):
        return

    def transform(self, results: dict):
        with naming_bad_images(lambda: results.get('img_path')):
            return original(self, results)

    transform._emanplug_fixed = True
    transform.__doc__ = original.__doc__
    LoadImageFromFile.transform = transform


def package2module(package: str) -> str:
    """Top-level module of an installed distribution (``mmcv-lite`` -> ``mmcv``)."""
    dist = importlib.metadata.distribution(package)
    top = (dist.read_text('top_level.txt') or '').split()
    if top:
        return top[0]
    modules = [m for m, dists in importlib.metadata.packages_distributions().items()
               if dist.metadata['Name'] in dists and not m.startswith('_')]
    if not modules:
        raise ValueError(f'can not infer the module name of {package}')
    return sorted(modules)[0]


def is_installed(package: str) -> bool:
    """Whether a distribution or module named ``package`` is installed."""
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def get_installed_path(package: str) -> str:
    """Directory of the installed package ``package`` (distribution or module name)."""
    try:
        module = package2module(package)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        module = package
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f'package {package!r} is not installed')
    return osp.dirname(spec.origin)


def fix_config_resolution() -> None:
    """How mmengine finds another package's config (``_base_ = '<package>::<config>'``): with
    ``importlib.metadata`` instead of ``pkg_resources`` (gone in setuptools >= 81; its paths were
    also wrong for editable installs), and with emanplug in mmengine's table of such packages
    (``MODULE2PACKAGE``), so that ``'emanplug::mocov2/<config>.py'`` resolves (in
    ``emanplug/.mim/configs``).  Run when mmengine's config module is imported by a program that
    imported emanplug, in either order."""
    import mmengine.config.config as config_module
    import mmengine.config.utils as config_utils
    import mmengine.utils
    import mmengine.utils.package_utils as package_utils
    config_utils.MODULE2PACKAGE.setdefault('emanplug', 'emanplug')
    for module in (package_utils, mmengine.utils, config_module, config_utils):
        for fn in (is_installed, get_installed_path, package2module):
            if hasattr(module, fn.__name__):
                setattr(module, fn.__name__, fn)


def _drop_collate_scope(loader: dict) -> dict:
    collate = loader.get('collate_fn')
    if isinstance(collate, dict) and '_scope_' in collate:
        loader['collate_fn'] = {k: v for k, v in collate.items() if k != '_scope_'}
    return loader


def _fix_collate_scope() -> None:
    """``Runner.build_dataloader`` without the ``_scope_`` that mmengine marks on a
    ``collate_fn`` inherited from another package's config (it was passed to the function)."""
    from mmengine.runner import Runner
    original = Runner.build_dataloader
    if getattr(original, '_emanplug_fixed', False):
        return

    def build_dataloader(dataloader, *args, **kwargs):
        if isinstance(dataloader, dict):
            dataloader = _drop_collate_scope(dict(dataloader))
        return original(dataloader, *args, **kwargs)

    build_dataloader._emanplug_fixed = True
    build_dataloader.__wrapped__ = original
    build_dataloader.__doc__ = original.__doc__
    Runner.build_dataloader = staticmethod(build_dataloader)


def _accelerator() -> bool:
    """Whether mmengine would run on an accelerator (CUDA, NPU, MLU, MUSA)."""
    import mmengine.device as device
    checks = ('is_cuda_available', 'is_npu_available', 'is_mlu_available', 'is_musa_available')
    return any(getattr(device, name, lambda: False)() for name in checks)


def _fix_cpu_distributed() -> None:
    """Distributed runs on a machine without GPUs (``--launcher pytorch``, e.g. mmpretrain's own
    ``tools/dist_train.sh``): mmengine called ``torch.cuda.set_device`` and started the config's
    backend (nccl by default), then wrapped the model in DDP with ``device_ids=[LOCAL_RANK]``,
    which also refuses ``torch.nn.SyncBatchNorm`` on CPU; all of it fails without CUDA.  There the
    process group is gloo, DDP gets no device ids and SyncBN layers become
    :class:`~emanplug.core.norms.GlobalBatchNorm` (the same global statistics, on CPU); with an
    accelerator nothing changes."""
    import os

    import mmengine.dist.utils as dist_utils
    import torch.distributed as torch_dist
    from mmengine.model import MMDistributedDataParallel
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_emanplug_fixed', False):
        return

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if _accelerator() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch_dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']), **kwargs)

    _init_dist_pytorch._emanplug_fixed = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch
    ddp_init = MMDistributedDataParallel.__init__

    def __init__(self, module, detect_anomalous_params=False, **kwargs):
        if not _accelerator():  # a CPU module: DDP refuses device ids and torch's SyncBN
            kwargs['device_ids'] = None
            module = replace_batchnorms(module, _cpu_sync_bn)
        ddp_init(self, module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    MMDistributedDataParallel.__init__ = __init__


def _cpu_sync_bn(name: str, bn):
    import torch.nn as nn
    return convert_to(GlobalBatchNorm)(name, bn) if isinstance(bn, nn.SyncBatchNorm) else bn


#: the mmcv releases that mmpretrain 1.x and mmengine 0.10 work with
MMCV_RANGE = ('2.0.0', '2.3.0')


def require_mmcv() -> None:
    """One line (:class:`~emanplug.errors.ConfigError`) saying what to install when the import
    name ``mmcv`` is missing or not a 2.x release."""
    from .errors import ConfigError
    low, high = MMCV_RANGE
    hint = (f"pip install 'mmcv-lite>={low},<{high}' (no compiled ops; enough for emanplug), or keep "
            f"a compiled mmcv>={low},<{high}; pip install emanplug[lite] adds mmcv-lite")
    if importlib.util.find_spec('mmcv') is None:
        raise ConfigError(f"emanplug's OpenMMLab adapters need mmcv 2.x, and no mmcv is installed "
                          f'in {sys.executable}: {hint}')
    try:
        version = importlib.metadata.version('mmcv')
    except importlib.metadata.PackageNotFoundError:
        try:
            version = importlib.metadata.version('mmcv-lite')
        except importlib.metadata.PackageNotFoundError:
            return  # an mmcv importable without metadata (a source tree on the import path): trust it
    from packaging.version import Version
    if not Version(low) <= Version(Version(version).base_version) < Version(high):
        raise ConfigError(f'mmcv {version} is installed; emanplug needs mmcv >= {low}, < {high}: {hint}')


_applied = False


def apply() -> None:
    """Apply every fix (once)."""
    global _applied
    if _applied:
        return
    use_safe_checkpoint_files()
    _fix_hue()
    fix_config_resolution()
    _fix_random_crop_padding()
    _name_bad_images()
    _fix_collate_scope()
    _fix_cpu_distributed()
    _applied = True
