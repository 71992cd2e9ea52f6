"""MMEngine adapter: stop a diverged run before it can overwrite good checkpoints."""
import math
from typing import Iterable, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..core.teacher import EMATeacher
from ..errors import ConfigError


class NonFiniteError(ConfigError):
    """Training produced a non-finite loss or state; the run stopped before saving it."""


def first_non_finite(named: Iterable[Tuple[str, torch.Tensor]]) -> Optional[str]:
    """The name of the first floating tensor holding a NaN or an infinity, else None."""
    for name, value in named:
        if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return name
    return None


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Stops training with one line when a loss, or the state of an EMA teacher, stops being
    finite, so that a diverged run never writes a checkpoint of that state, never marks one
    best and never rotates a finite checkpoint out.

    It checks every loss of every iteration (the values the model returns; no extra
    computation), the teachers' parameters and buffers every ``teacher_interval``
    iterations, and the whole state dict before each checkpoint is written.  It runs before
    :class:`~emanplug.hooks.EMANHook` (so the teacher never averages a NaN) and before
    mmengine's ``CheckpointHook``.  ``tools/train.py`` adds it to every run; a config turns it
    off with ``custom_hooks=[dict(type='NonFiniteGuardHook', enabled=False)]``.

    After a stop, resume from the last good checkpoint with a lower learning rate, e.g.
    ``python tools/train.py CONFIG --resume WORK_DIR/epoch_3.pth --cfg-options
    optim_wrapper.optimizer.lr=0.01``.

    Args:
        enabled (bool): check at all. Default True.
        teacher_interval (int): iterations between checks of the teachers' state. Default 50.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, enabled: bool = True, teacher_interval: int = 50) -> None:
        if not isinstance(teacher_interval, int) or teacher_interval < 1:
            raise ConfigError(f'NonFiniteGuardHook.teacher_interval={teacher_interval!r} is not '
                              'allowed; allowed: an integer >= 1')
        self.enabled, self.teacher_interval = enabled, teacher_interval

    def _stop(self, runner, what: str) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        resume = (f'resume from the last good checkpoint with a lower learning rate: --resume {last} '
                  '--cfg-options optim_wrapper.optimizer.lr=...') if last else \
            'train again with a lower learning rate or a longer warm-up'
        raise NonFiniteError(f'iteration {runner.iter + 1}: {what} is not finite; training stopped '
                             f'and this state was not saved; allowed: {resume}')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.enabled:
            return
        for key, value in (outputs or {}).items():
            if 'loss' not in key:
                continue
            value = float(value.detach()) if torch.is_tensor(value) else float(value)
            if not math.isfinite(value):
                self._stop(runner, f'{key} = {value}')
        if self.every_n_train_iters(runner, self.teacher_interval):
            for teacher in (m for m in runner.model.modules() if isinstance(m, EMATeacher)):
                bad = first_non_finite(teacher.module.state_dict().items())
                if bad is not None:
                    self._stop(runner, f'teacher tensor {bad!r}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.enabled:
            bad = first_non_finite(checkpoint.get('state_dict', {}).items())
            if bad is not None:
                self._stop(runner, f'model tensor {bad!r}')
