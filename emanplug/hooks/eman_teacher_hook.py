"""One config line that gives mmpretrain's own MoCo, DenseCL, BYOL and MoCoV3 an EMAN teacher."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ..core.schemes import build_scheme
from ..errors import ConfigError
from ..models.averaged_teacher import averaged_model_teachers, convert_averaged_teachers, describe


@HOOKS.register_module()
class EMANTeacherHook(Hook):
    """Converts the averaged-model teachers of mmpretrain's models into emanplug EMA teachers,
    which the model then keeps driving itself (unlike :class:`~emanplug.hooks.EMANHook`, which
    drives the teachers of emanplug's models).

    For mmpretrain's ``MoCo`` (``encoder_k``), ``DenseCL`` (``encoder_k``), ``BYOL``
    (``target_net``) and ``MoCoV3`` (``momentum_encoder``), and any model that keeps its
    teacher as ``ExponentialMovingAverage`` / ``CosineEMA`` of its own parts: before the run
    (after the model, its DDP wrapper and optimizer are built, before weights are initialised
    or a checkpoint is loaded) each averaged model becomes an
    :class:`~emanplug.models.averaged_teacher.AveragedModelTeacher` of ``scheme``, with the
    model's momentum and schedule converted to the paper's convention once.  The model keeps
    driving it (its ``update_parameters`` call at each step: eq. (1) for the parameters, and
    for EMAN eq. (9) for floating buffers with the same momentum, integer counters copied)
    and its own key shuffle; nothing else changes.  The scheme and momenta are stored in
    checkpoints and a resume with different ones is refused.

    Args:
        scheme (str | dict): a normalisation scheme whose teacher uses the plain forward
            (``bn-eman`` (default), ``bn-bn``, ``bn-teacherpn``, ``bn-momentumbn``, ``gn-gn``,
            ...; ShuffleBN is refused: MoCo and DenseCL shuffle keys themselves).

    Example (config)::

        _base_ = 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'
        custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
        custom_hooks = [dict(type='EMANTeacherHook', scheme='bn-eman')]
    """

    priority = 'VERY_HIGH'  # before other hooks look at the model in before_run
    driven_by_model = True  # the converted teachers are updated by their model, not a hook

    def __init__(self, scheme='bn-eman') -> None:
        try:
            self.scheme = build_scheme(scheme)
        except ConfigError as err:
            raise ConfigError(f'EMANTeacherHook.scheme: {err}') from None

    def before_run(self, runner) -> None:
        # a hook that updates teachers itself (EMANHook) says so with driven_by_model = False
        if any(getattr(h, 'driven_by_model', None) is False for h in runner.hooks):
            raise ConfigError('EMANTeacherHook: the config also has EMANHook, which would update '
                              'the teacher a second time; allowed: one of them (EMANHook for '
                              'emanplug models, EMANTeacherHook for mmpretrain models)')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        try:
            converted = convert_averaged_teachers(model, self.scheme)
        except ConfigError as err:
            raise ConfigError(f'EMANTeacherHook(scheme={self.scheme.token!r}): {err}') from None
        if not converted and not averaged_model_teachers(model):
            raise ConfigError(f'EMANTeacherHook: model {type(model).__name__} has no teacher '
                              'built as an MMEngine averaged model; allowed: mmpretrain MoCo, '
                              'DenseCL, BYOL, MoCoV3 (emanplug models take model.scheme instead)')
        for name in converted:
            runner.logger.info(f'EMANTeacherHook: {name} is now an EMA teacher of scheme '
                               f'{self.scheme.token}')

    def _describe(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return describe(averaged_model_teachers(model))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['emanplug_averaged_teachers'] = self._describe(runner)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('meta', {}).get('emanplug_averaged_teachers')
        if saved is not None and saved != self._describe(runner):
            raise ConfigError(f'resume: the checkpoint was trained with teachers {saved}, this '
                              f'config has {self._describe(runner)}; allowed: the same scheme')
