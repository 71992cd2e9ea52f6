"""MMEngine adapter of the EMA-teacher update of emanplug's models (the math lives in
emanplug.core.teacher)."""
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..core.momentum import MomentumSchedule, check_momentum
from ..core.teacher import EMATeacher
from ..errors import ConfigError
from ..random_state import get_rng_state, set_rng_state

__all__ = ['EMANHook', 'find_teachers', 'require_teachers',
           'get_rng_state', 'set_rng_state']  # the last two: their old import path


def find_teachers(model) -> List[EMATeacher]:
    """Every :class:`EMATeacher` inside ``model`` (through DDP and other wrappers)."""
    return [m for m in model.modules() if isinstance(m, EMATeacher)]


def require_teachers(model, hook: str) -> List[EMATeacher]:
    """:func:`find_teachers`, or a ConfigError naming ``hook`` when the model has none."""
    teachers = find_teachers(model)
    if not teachers:
        raise ConfigError(f'{hook}: model {type(model).__name__} has no EMATeacher; allowed: a '
                          'model built with a teacher (e.g. emanplug MoCo, BYOL, FixMatch with a '
                          'teacher scheme)')
    return teachers


@HOOKS.register_module()
class EMANHook(Hook):
    """Drives the EMA teachers of emanplug's models (MoCo, BYOL, FixMatch, any model holding
    an :class:`~emanplug.core.teacher.EMATeacher`): updates each from its student after each
    training iteration.  Teachers that their model updates itself (``driven_by_model``, the
    converted mmpretrain teachers of :class:`~emanplug.hooks.EMANTeacherHook`) are not its own.

    After each iteration ``k`` of ``K = runner.max_iters`` it calls
    ``teacher.update(k, K)``: eq. (1) and, as the teacher's scheme says, eq. (9) with the
    momentum of the teacher's schedule at ``k``, and the training progress for the next
    iteration (MomentumBN's batch weight; set before training too, for resumed runs).  The
    teacher's norm behaviour does not depend on ``model.train()``/``model.eval()`` (it lives
    in its norm layers), so mmengine's per-epoch ``model.train()`` cannot change it.  The teachers' state is part of the
    model's state dict; the hook stores each teacher's scheme and momentum in the
    checkpoint and refuses to resume a run with a different one.  It also stores the
    random generators' states (torch, numpy, random), which drive the augmentations and
    ShuffleBN's permutation, so that a resumed run continues exactly as an uninterrupted
    one would (bitwise on CPU).

    Args:
        momentum (float, optional): paper-convention base momentum (weight of the old
            value) overriding every teacher's own. Default None (keep the teachers').
        momentum_schedule (str, optional): 'constant' or 'cosine', overriding every
            teacher's own. Default None.
        save_rng_state (bool): save and restore the random generators' states with
            checkpoints. Default True.

    Example (config)::

        custom_hooks = [dict(type='EMANHook')]
    """

    priority = 'NORMAL'
    driven_by_model = False  # this hook updates the teachers (EMANTeacherHook's are the models')

    def __init__(self, momentum: Optional[float] = None,
                 momentum_schedule: Optional[str] = None, save_rng_state: bool = True) -> None:
        self.save_rng_state = save_rng_state
        self.momentum = None if momentum is None else check_momentum(momentum, 'EMANHook.momentum')
        self.momentum_schedule = momentum_schedule
        if momentum_schedule is not None:
            MomentumSchedule(name=momentum_schedule)  # an unknown name fails now, not at run time
        self.teachers: List[EMATeacher] = []

    def _teachers(self, runner) -> List[EMATeacher]:
        if not self.teachers:
            self.teachers = [t for t in require_teachers(runner.model, 'EMANHook')
                             if not t.driven_by_model]
            if not self.teachers:
                raise ConfigError('EMANHook: every teacher of the model is updated by the model '
                                  'itself (EMANTeacherHook); allowed: one of the two hooks')
            for teacher in self.teachers:
                teacher.set_momentum(self.momentum, self.momentum_schedule)
        return self.teachers

    def before_train(self, runner) -> None:
        for teacher in self._teachers(runner):  # a resumed run starts in the middle
            teacher.set_progress(runner.iter, runner.max_iters)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for teacher in self._teachers(runner):
            teacher.update(runner.iter, runner.max_iters)

    def _describe(self, runner) -> List[dict]:
        return [dict(scheme=t.scheme.token, momentum=t.momentum,
                     momentum_schedule=t.momentum_schedule) for t in self._teachers(runner)]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        meta['emanplug_teachers'] = self._describe(runner)
        if self.save_rng_state:
            meta['emanplug_rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta', {})
        saved = meta.get('emanplug_teachers')
        if saved is not None and saved != self._describe(runner):
            raise ConfigError(f'resume: the checkpoint was trained with teachers {saved}, '
                              f'this config has {self._describe(runner)}; allowed: resume with '
                              'the same scheme and momentum')
        if self.save_rng_state and meta.get('emanplug_rng_state') is not None:
            set_rng_state(meta['emanplug_rng_state'])
