"""The OpenMMLab adapters of emanplug, loaded together: importing the adapter modules
registers them (models, norm layers, ``EMANHook``, ``KNNEvalHook``, ``TeacherCheckHook``,
datasets, metrics) in MMEngine's / mmpretrain's registries, and :mod:`emanplug.compat`
fixes the known breakages of the stack.  Nothing here runs on ``import emanplug.core``."""
import warnings

_registered = False


def register_all_modules() -> None:
    """Apply the stack fixes and register every adapter (once per process)."""
    global _registered
    if _registered:
        return
    # mmcv-lite has no compiled ops; classification never needs them
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    from . import compat
    compat.apply()
    from . import datasets, evaluation, hooks, models, testing  # noqa: F401  (registers them)
    from . import engine  # noqa: F401  (registers CPUAutocastOptimWrapper)
    _registered = True
