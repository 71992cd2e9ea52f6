"""The OpenMMLab adapters of emanplug, loaded together: importing the adapter modules
registers them (models, norm layers, ``EMANHook``, ``KNNEvalHook``, ``TeacherCheckHook``,
datasets, metrics) in MMEngine's / mmpretrain's registries, and :mod:`emanplug.compat`
fixes the known breakages of the stack.  Nothing here runs on ``import emanplug.core``.

The ``emanplug`` scope: a config that inherits one of emanplug's configs
(``_base_ = 'emanplug::mocov2/<config>.py'``) has its parts marked ``_scope_='emanplug'`` by
mmengine, which then builds them from the registries of that scope.  :data:`SCOPE_REGISTRIES`
holds them: one child of each of mmpretrain's registries, holding nothing of its own, so that
every look-up falls through to mmpretrain's (where emanplug's types are) and MMEngine's; their
import location is :mod:`emanplug.adapters` (mmengine would otherwise look for an
``emanplug.utils`` to import).

:func:`register_all_modules` runs once; a registry look-up while it runs (mmengine importing
:mod:`emanplug.adapters` as a location) returns at once."""
import sys
import warnings

SCOPE = 'emanplug'
#: ``{name: Registry}``: the ``emanplug`` scope's child of each mmpretrain registry, e.g. ``MODELS``
SCOPE_REGISTRIES: dict = {}
_registered = False


def _add_scope_registries() -> None:
    import mmpretrain.registry as parents
    from mmengine.registry import Registry

    from . import ADAPTERS
    for name, parent in vars(parents).items():
        if isinstance(parent, Registry) and parent.scope == 'mmpretrain' and name.isupper():
            parent.import_from_location()  # what a look-up in mmpretrain's scope would import
            SCOPE_REGISTRIES[name] = Registry(parent.name, parent=parent, scope=SCOPE, locations=[ADAPTERS])


def register_all_modules() -> None:
    """Apply the stack fixes and register every adapter (once per process)."""
    global _registered
    if _registered:  # also while it runs: a registry look-up inside imports emanplug.adapters
        return
    _registered = True
    try:
        # mmcv-lite has no compiled ops; classification never needs them
        warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')
        from . import compat
        compat.require_mmcv()
        compat.apply()
        from . import datasets, evaluation, hooks, models, testing  # noqa: F401  (registers them)
        from . import engine  # noqa: F401  (registers CPUAutocastOptimWrapper)
        _add_scope_registries()
    except BaseException:
        _registered = False
        raise


if 'mmengine' in sys.modules:  # mmengine imports <scope>.registry to build a config's parts
    register_all_modules()
