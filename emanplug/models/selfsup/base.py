"""What MoCo, BYOL and FixMatch share: a student (backbone + neck) and its EMA teacher."""
import math
from typing import Optional

import torch.nn as nn
from mmengine.logging import print_log

from ...core.momentum import check_momentum, from_torch_momentum
from ...core.teacher import EMATeacher
from ...errors import ConfigError


def resolve_teacher_momentum(teacher_momentum: Optional[float], momentum: Optional[float],
                             default: float, mm_key: str = 'momentum') -> float:
    """The teacher momentum in the paper's convention (weight of the old value).

    ``teacher_momentum`` is emanplug's (paper convention).  ``momentum`` is the key of
    mmpretrain's MoCo/BYOL configs (``momentum=0.001``, ``base_momentum=0.01``), in
    mmengine's convention (weight of the new value); it is converted, so that mmpretrain's
    configs can be inherited unchanged.  Setting both is ambiguous and refused.
    """
    if teacher_momentum is not None and momentum is not None:
        raise ConfigError(f'model.teacher_momentum={teacher_momentum} (paper convention) and '
                          f'model.{mm_key}={momentum} (mmpretrain convention) are both set; '
                          f'allowed: one of them (set {mm_key}=None when inheriting mmpretrain configs)')
    if momentum is not None:
        return from_torch_momentum(check_momentum(momentum, f'model.{mm_key}'))
    if teacher_momentum is not None:
        return check_momentum(teacher_momentum, 'model.teacher_momentum')
    return default


class TeacherStudentMixin:
    """Adds ``self.teacher``, an :class:`EMATeacher` of ``nn.Sequential(backbone, neck)``.

    The teacher is updated by :class:`emanplug.hooks.EMANHook`; a model whose teacher is
    never updated stops with a ConfigError after its second training step.
    """

    def init_teacher(self, scheme, momentum: float, schedule: str = 'constant') -> None:
        self.teacher = EMATeacher(nn.Sequential(self.backbone, self.neck), scheme, momentum,
                                  schedule)
        self._train_steps = 0

    def init_weights(self) -> None:
        super().init_weights()
        self.teacher.reset_to_student()  # the teacher starts as an exact copy of the student

    def check_teacher_is_driven(self) -> None:
        self._train_steps += 1
        if self._train_steps > 2 and self.teacher.updates_this_process == 0:
            raise ConfigError(f'{type(self).__name__}: the teacher is never updated; allowed: '
                              "add custom_hooks=[dict(type='EMANHook')] to the config")


class CollapseMonitor:
    """Warns loudly when a contrastive loss sits at log(K + 1), the loss of constant outputs."""

    def __init__(self, num_negatives: int, patience: int = 50, tol: float = 0.01) -> None:
        self.chance = math.log(num_negatives + 1)
        self.patience, self.tol, self.count = patience, tol, 0

    def __call__(self, loss: float) -> None:
        self.count = self.count + 1 if abs(loss - self.chance) < self.tol * self.chance else 0
        if self.count == self.patience:
            print_log(f'!!! COLLAPSE: the loss has sat at log(K+1) = {self.chance:.3f} for '
                      f'{self.patience} iterations (constant outputs). Use a learning-rate '
                      'warm-up, a lower lr or a higher teacher momentum. !!!',
                      logger='current', level=40)
