"""The EMA teacher: the averaged copy of a student and its update, eq. (1) and (9).

Plain PyTorch, usable from any training loop (see ``examples/lightly_moco_eman.py``)
and driven in MMEngine by :class:`emanplug.hooks.EMANHook`.  Momenta follow the
paper's convention: ``m`` is the weight of the teacher's *old* value.  The pieces the
teacher uses live in their own modules: the student's preparation and unwrapping in
:mod:`~emanplug.core.student`, the pairing of teacher and student tensors in
:mod:`~emanplug.core.pairing`, the momentum schedule in :mod:`~emanplug.core.momentum`;
old checkpoint keys are migrated by :mod:`emanplug.checkpoint`.
"""
import contextlib
import copy
from typing import Any, ContextManager, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from ..errors import ConfigError
from .distributed import all_reduce_mean_, world_size
from .momentum import MomentumSchedule, check_momentum
from .pairing import TensorPairs, in_teacher_dtypes, pair_tensors, unzip
from .schemes import NormScheme, build_scheme
from .student import PREPARED, prepare_student, prepared_scheme, scheme_of_student, unwrap_module

__all__ = ['EMATeacher', 'build_teacher', 'ema_update_', 'no_autocast', 'prepare_student',
           'prepared_scheme', 'unwrap_module']


@torch.no_grad()
def ema_update_(teacher: Sequence[torch.Tensor], student: Sequence[torch.Tensor],
                momentum: float) -> None:
    """In place, for every pair: ``t := m * t + (1 - m) * s`` (eq. 1 / eq. 9).

    One vectorised ``torch._foreach_lerp_`` call over all tensors; ``m = 1`` leaves the
    teacher unchanged and ``m = 0`` copies the student exactly.

    Args:
        teacher: floating tensors to update.
        student: tensors of the same shapes and dtypes.
        momentum: paper convention, weight of the old (teacher) value, in [0, 1].

    Example:
        >>> t, s = [torch.zeros(3)], [torch.ones(3)]
        >>> ema_update_(t, s, 0.9); t[0]
        tensor([0.1000, 0.1000, 0.1000])
    """
    if not teacher or momentum == 1.0:
        return
    if momentum == 0.0:
        torch._foreach_copy_(list(teacher), list(student))
    else:
        torch._foreach_lerp_(list(teacher), list(student), 1.0 - momentum)


def _teacher_copy(student: nn.Module, scheme: NormScheme) -> nn.Module:
    teacher = scheme.convert_teacher(copy.deepcopy(unwrap_module(student)))
    teacher.__dict__.pop(PREPARED, None)  # the copy is a teacher, not a prepared student
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def build_teacher(student: nn.Module, scheme: Union[str, dict, NormScheme] = 'eman') -> nn.Module:
    """A teacher for ``student``: an exact copy, gradients off, norm layers as ``scheme`` says.

    The student is expected to be prepared already (:func:`prepare_student`);
    :class:`EMATeacher` checks that and builds its teacher the same way.  A wrapped
    student (:func:`unwrap_module`) gives a teacher copied from the plain module inside.
    """
    return _teacher_copy(student, build_scheme(scheme))


def no_autocast(module: nn.Module) -> ContextManager:
    """``torch.autocast(device_type, enabled=False)`` for the device type of ``module``'s
    tensors (a null context for a module without tensors or a device without autocast)."""
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    if tensor is None or not torch.amp.is_autocast_available(tensor.device.type):
        return contextlib.nullcontext()
    return torch.autocast(tensor.device.type, enabled=False)


def _update_args(teacher: 'EMATeacher', args: tuple, step: Optional[int],
                 total: Optional[int]) -> Tuple[Optional[int], Optional[int]]:
    """``(step, total)`` of :meth:`EMATeacher.update`'s arguments, checked."""
    if args and isinstance(args[0], nn.Module):
        if unwrap_module(args[0]) is not teacher.student:
            raise ConfigError('EMATeacher.update: the module passed is not the student this '
                              'teacher was built from; allowed: that student (or its wrapper)')
        args = args[1:]
    step, total = tuple(args[:2]) + (step, total)[len(args[:2]):]
    if len(args) > 2 or (step is not None and (not isinstance(step, int) or isinstance(step, bool)
                                               or not isinstance(total, int))):
        raise ConfigError(f'EMATeacher.update{tuple(args)!r}: allowed: update(step, total) or '
                          'update(student, step, total) with integer step and total, or '
                          'update(momentum=m) for an explicit momentum')
    return step, total


def _ema_lists_(lists: dict, m: float, buffer_m: Optional[float]) -> None:
    """Eq. (1) with ``m`` on the parameters of :meth:`TensorPairs.lists` and, where
    ``buffer_m`` is not None, eq. (9) with it on the floating buffers and a copy of the
    integer ones; student tensors of another dtype are cast to the teacher's first."""
    if buffer_m == m:  # EMAN: parameters and statistics in one vectorised call
        ema_update_(*in_teacher_dtypes(*lists['both']), m)
    else:
        ema_update_(*in_teacher_dtypes(*lists['params']), m)
        if buffer_m is not None:
            ema_update_(*in_teacher_dtypes(*lists['floats']), buffer_m)
    if buffer_m is not None and lists['others'][0]:
        torch._foreach_copy_(*lists['others'])


class EMATeacher(nn.Module):
    """An EMA teacher of a student module: it holds the averaged copy and updates it.

    The student must have gone through :func:`prepare_student` with the same scheme; the
    teacher shares that scheme object and starts as an exact copy of the student with the
    scheme's teacher norm layers.  Calling the teacher runs the scheme's forward without
    gradients (ShuffleBN shuffles).  :meth:`update` applies eq. (1) to the parameters and,
    where the scheme averages buffers (EMAN, student PN), eq. (9) to floating buffers
    (integer buffers copied); given the step it follows the momentum schedule
    (:class:`~emanplug.core.momentum.MomentumSchedule`) and tells the scheme the progress
    (MomentumBN), so one call per step is all a training loop needs.

    The student is referenced, not owned (not in ``state_dict()`` nor ``modules()``), as the
    plain module inside its wrappers (:func:`unwrap_module`), whose names pair the tensors
    (:mod:`emanplug.core.pairing`).  Under ``torch.autocast`` the forward runs in low
    precision, the update with autocast off in the teacher's dtypes (float32 for a float32
    student; a ``.half()``-ed student's values are cast), as an EMA with ``m`` near 1 needs.

    Args:
        student (nn.Module): the online network (e.g. backbone + neck), possibly wrapped.
        scheme: the scheme the student was prepared for (name, token, dict or instance, see
            :func:`build_scheme`). Default 'eman'.
        momentum (float): paper-convention m of eq. (1), weight of the old value. Default 0.999.
        momentum_schedule (str): 'constant' (MoCo, FixMatch) or 'cosine' (BYOL). Default 'constant'.

    Example:
        >>> student = prepare_student(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)), 'bn-eman')
        >>> teacher = EMATeacher(student, 'bn-eman', momentum=0.99)
        >>> for step in range(3):  # a training loop
        ...     loss = student(torch.randn(16, 4)).pow(2).mean()  # (optimizer step here)
        ...     teacher.update(student, step, 3)   # or teacher.update(step, 3)
        >>> teacher(torch.randn(2, 4)).shape
        torch.Size([2, 8])
    """

    driven_by_model = False  # updated by a training loop or EMANHook, not by its model

    def __init__(self, student: nn.Module, scheme: Union[str, dict, NormScheme] = 'eman',
                 momentum: float = 0.999, momentum_schedule: str = 'constant') -> None:
        super().__init__()
        self.scheme = scheme_of_student(student, scheme)
        self.schedule = MomentumSchedule(momentum, momentum_schedule)
        object.__setattr__(self, '_student', unwrap_module(student))  # a reference, not a child
        self.module = _teacher_copy(self._student, self.scheme)
        self.updates_this_process = 0  # lets models check that something drives update()
        self._pairs = TensorPairs()

    student = property(lambda self: self._student, doc='The student this teacher follows.')
    momentum = property(lambda self: self.schedule.base, doc='The base momentum m_0.')
    momentum_schedule = property(lambda self: self.schedule.name, doc="'constant' or 'cosine'.")

    def set_momentum(self, momentum: Optional[float] = None, schedule: Optional[str] = None) -> None:
        """Change the base momentum (paper convention) and/or the schedule's name."""
        self.schedule = self.schedule.replace(momentum, schedule)

    def momentum_at(self, step: int, total: int) -> float:
        """Parameter momentum (paper convention) after ``step`` of ``total`` steps."""
        return self.schedule(step, total)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            return self.scheme.forward_teacher(self.module, *args, **kwargs)

    def set_progress(self, step: int, total: int) -> None:
        """Tell the scheme that ``step`` of ``total`` steps are done (MomentumBN's batch
        weight); :meth:`update` does it itself, call it where a run resumes."""
        self.scheme.set_progress(self.module, step / max(total, 1))

    def tensor_pairs(self) -> Tuple[list, list, list]:
        """``(params, float_buffers, other_buffers)`` as (teacher, student) pairs by name."""
        return pair_tensors(self.module, self.student)

    def _apply(self, *args: Any, **kwargs: Any) -> 'EMATeacher':
        self._pairs.clear()
        return super()._apply(*args, **kwargs)

    @torch.no_grad()
    def reset_to_student(self) -> None:
        """Make the teacher an exact copy of the student again (every matching parameter and
        buffer), e.g. after a framework re-initialised the student's weights."""
        with no_autocast(self.module):
            for pairs in self.tensor_pairs():
                if pairs:
                    torch._foreach_copy_(*unzip(pairs))  # casts to the teacher's dtypes

    @torch.no_grad()
    def update(self, *args: Union[nn.Module, int], step: Optional[int] = None,
               total: Optional[int] = None, momentum: Optional[float] = None) -> None:
        """``update([student,] [step, total], *, momentum=None)``, once after each optimizer
        step: eq. (1) and, per the scheme, eq. (9), with autocast off (see the class).

        Args:
            student: the teacher's own student, possibly wrapped (optional, as in timm).
            step, total: the 0-based optimizer step just taken and the run's number of steps:
                the momentum follows the schedule and the scheme learns the progress
                ``(step + 1) / total`` (MomentumBN); without them the base momentum is used.
            momentum: paper-convention m for this call, overriding the schedule.
        """
        step, total = _update_args(self, args, step, total)
        m = self.schedule(step, total) if momentum is None else check_momentum(momentum)
        lists = self._pairs.lists(self.module, self.student)
        with no_autocast(self.module):
            _ema_lists_(lists, m, self.scheme.buffer_momentum(m))
            self.scheme.end_iteration(self.module)
            self.average_buffers_across_processes()
        self.updates_this_process += 1
        if step is not None:
            self.set_progress(step + 1, total)

    @torch.no_grad()
    def average_buffers_across_processes(self) -> None:
        """Average the teacher's floating buffers over all processes (a no-op on one): after
        eq. (9), which is linear, that is the EMA of the students' mean statistics."""
        if world_size() > 1:
            with no_autocast(self.module):
                all_reduce_mean_(self._pairs.lists(self.module, self.student)['teacher_floats'])

    def extra_repr(self) -> str:
        return (f'scheme={self.scheme.token}, momentum={self.momentum}, '
                f'momentum_schedule={self.momentum_schedule!r}')
