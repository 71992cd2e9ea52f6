"""What MoCo, BYOL and FixMatch share: a student made of named parts and its EMA teacher."""
from collections import OrderedDict
from typing import Optional, Sequence, Union

import torch.nn as nn

from ..checkpoint import name_positional_teacher_keys
from ..core.momentum import check_momentum, from_torch_momentum
from ..core.schemes import NormScheme
from ..core.teacher import EMATeacher, prepare_student
from ..errors import ConfigError


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
    """Adds ``self.teacher``: an :class:`EMATeacher` of the student's named parts.

    The student is ``nn.Sequential`` of the model's own parts by name (``backbone``,
    ``neck``, and ``head`` for FixMatch), prepared for the scheme before any optimizer
    exists, so the teacher's state dict reads ``teacher.module.backbone.*``, and older
    checkpoints with positional keys keep loading (see :mod:`emanplug.checkpoint`).  The
    teacher is updated by :class:`emanplug.hooks.EMANHook`; a model whose teacher is never
    updated stops with a ConfigError after its second training step
    (:meth:`check_teacher_is_driven`).  A model without a teacher (FixMatch's default) sets
    ``self.teacher = None``.
    """

    _train_steps = 0  # training steps seen by check_teacher_is_driven

    def init_teacher(self, scheme: Union[str, dict, NormScheme], momentum: float,
                     schedule: str = 'constant', parts: Sequence[str] = ('backbone', 'neck')) -> None:
        student = prepare_student(nn.Sequential(OrderedDict((p, getattr(self, p)) for p in parts)),
                                  scheme)
        for p in parts:  # a part that was itself a BN layer was replaced
            setattr(self, p, getattr(student, p))
        self.teacher = EMATeacher(student, scheme, momentum, schedule)
        # checkpoints of emanplug <= 0.1.0 hold the teacher's parts by position
        self.teacher.register_load_state_dict_pre_hook(name_positional_teacher_keys)

    def init_weights(self) -> None:
        super().init_weights()
        if self.teacher is not None:
            self.teacher.reset_to_student()  # the teacher starts as an exact copy of the student

    def check_teacher_is_driven(self) -> None:
        if self.teacher is None:
            return
        self._train_steps += 1
        if self._train_steps > 2 and self.teacher.updates_this_process == 0:
            raise ConfigError(f'{type(self).__name__}: the teacher is never updated; allowed: '
                              "add custom_hooks=[dict(type='EMANHook')] to the config")


def model_part(model: nn.Module, which: str = 'student', part: str = 'backbone') -> Optional[nn.Module]:
    """``part`` (``backbone``, ``neck``, ``head``) of the student or the teacher of an emanplug
    model, through mmengine's model wrappers (DDP); None when it has no teacher."""
    from mmengine.model import is_model_wrapper
    if is_model_wrapper(model):
        model = model.module
    if which == 'teacher':
        teacher = getattr(model, 'teacher', None)
        return None if teacher is None else getattr(teacher.module, part)
    return getattr(model, part)
