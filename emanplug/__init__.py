"""emanplug: EMAN (exponential moving average normalisation) and EMA-teacher
normalisation schemes for self- and semi-supervised learning.

``emanplug.core`` is plain PyTorch.  When MMEngine is installed, importing
emanplug also registers the norm layers, :class:`EMANHook` and the models in the
OpenMMLab registries (``custom_imports=dict(imports=['emanplug'])``) and applies
the fixes of :mod:`emanplug.compat`.
"""
import importlib.util
import warnings

from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from .errors import ConfigError

__version__ = '0.1.0'
__all__ = list(_core_all) + ['ConfigError', '__version__']

if importlib.util.find_spec('mmengine') is not None:
    # mmcv-lite has no compiled ops; classification never needs them
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    from . import compat
    compat.apply()
    from . import datasets, evaluation, models, testing  # noqa: F401  (registers them)
    from .hooks import EMANHook  # noqa: F401
    __all__.append('EMANHook')
