"""MMEngine adapter of the EMA-teacher update (the math lives in emanplug.core.teacher)."""
import random
from typing import List, Optional

import numpy as np
import torch

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..core.momentum import check_momentum, get_schedule
from ..core.teacher import EMATeacher
from ..errors import ConfigError


def get_rng_state() -> dict:
    """States of the torch (CPU and CUDA), numpy and python random generators."""
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`get_rng_state` returned."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(tuple(state['numpy']))
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


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
    """Updates every EMA teacher of the model from its student after each training iteration.

    After each iteration ``k`` of ``K = runner.max_iters`` it calls
    ``teacher.update(k, K)``: eq. (1) and, as the teacher's scheme says, eq. (9) with the
    momentum of the teacher's schedule at ``k``, and the training progress for the next
    iteration (MomentumBN's batch weight; set before training too, for resumed runs).  The teacher's norm behaviour does not depend on
    ``model.train()``/``model.eval()`` (it lives in its norm layers), so mmengine's
    per-epoch ``model.train()`` cannot change it.  The teachers' state is part of the
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

    def __init__(self, momentum: Optional[float] = None,
                 momentum_schedule: Optional[str] = None, save_rng_state: bool = True) -> None:
        self.save_rng_state = save_rng_state
        self.momentum = None if momentum is None else check_momentum(momentum, 'EMANHook.momentum')
        self.momentum_schedule = momentum_schedule
        if momentum_schedule is not None:
            get_schedule(momentum_schedule)
        self.teachers: List[EMATeacher] = []

    def _teachers(self, runner) -> List[EMATeacher]:
        if not self.teachers:
            self.teachers = require_teachers(runner.model, 'EMANHook')
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
