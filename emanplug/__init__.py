"""emanplug: EMAN (exponential moving average normalisation) and EMA-teacher
normalisation schemes for self- and semi-supervised learning.

Three layers, each importing only the one below it:

* ``emanplug.core``: the method in plain PyTorch (norm layers, schemes, the EMA
  teacher).  ``import emanplug`` / ``import emanplug.core`` load torch and nothing of
  OpenMMLab, and patch nothing.
* the OpenMMLab adapters (``emanplug.models``, ``emanplug.hooks``, ``emanplug.datasets``,
  ``emanplug.evaluation``): registered into MMEngine's registries, together with the stack
  fixes of :mod:`emanplug.compat`, by :func:`register_all_modules`.  That happens by itself
  when emanplug is imported by an OpenMMLab program, i.e. with mmengine already loaded
  (``custom_imports=dict(imports=['emanplug'])`` in a config, mmpretrain's tools), and, when
  emanplug is imported first, at the first look-up in an mmengine or mmpretrain registry
  (:data:`ADAPTERS` is their import location); mmengine's checkpoint loaders use the safe
  loader as soon as mmengine's checkpoint module is imported, in either order;
* ``emanplug.cli``: the command-line entry points (``tools/*.py``, ``emanplug-*``).
"""
import sys

from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .errors import ConfigError
from .import_hooks import when_imported

__version__ = '0.1.0'
__all__ = list(_core_all) + ['ConfigError', 'EMANHook', 'register_all_modules', '__version__']


def register_all_modules() -> None:
    """Register emanplug's models, norm layers, hooks, datasets and metrics in the
    OpenMMLab registries and apply the stack fixes (idempotent).  Call it in a script that
    imported emanplug before mmengine; configs need nothing, and every command calls it."""
    from .registry import register_all_modules as register
    register()


def __getattr__(name: str):
    if name == 'EMANHook':  # an adapter: loading it registers the adapters
        register_all_modules()
        from .hooks import EMANHook
        return EMANHook
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def _on_mmengine_config(module) -> None:
    """``_base_ = 'emanplug::<family>/<config>.py'`` and ``'mmpretrain::...'`` in any program that
    imported emanplug (:func:`emanplug.compat.fix_config_resolution`)."""
    from .compat import fix_config_resolution
    fix_config_resolution()


def _on_mmengine_checkpoint(module) -> None:
    """mmengine's checkpoint loaders (local, ``http(s)://``, ``torchvision://``, ...) load through
    the safe loader in any program that imported emanplug
    (:func:`emanplug.checkpoint_files.use_safe_checkpoint_loading`)."""
    from .checkpoint_files import use_safe_checkpoint_loading
    use_safe_checkpoint_loading(module)


#: importing this module registers emanplug's adapters (:mod:`emanplug.adapters`)
ADAPTERS = 'emanplug.adapters'


def _on_registries(module) -> None:
    """Registration that cannot be missed: every registry of ``module`` (mmengine's root ones,
    mmpretrain's) gets :data:`ADAPTERS` as an import location, which mmengine imports itself at
    the registry's first look-up, e.g. ``norm_cfg=dict(type='EMAN')`` in a model built after
    ``import emanplug``.  (mmengine has no public call to add a location to a registry.)"""
    for name, registry in vars(module).items():
        if name.isupper() and isinstance(registry, module.Registry) and ADAPTERS not in registry._locations:
            registry._locations.append(ADAPTERS)


# whichever of emanplug and mmengine is imported first (mmengine is not imported here)
when_imported('mmengine.config.config', _on_mmengine_config)
when_imported('mmengine.runner.checkpoint', _on_mmengine_checkpoint)
when_imported('mmengine.registry.root', _on_registries)
when_imported('mmpretrain.registry', _on_registries)
if 'mmengine' in sys.modules:  # imported by an OpenMMLab program (custom_imports, tools)
    register_all_modules()
