"""A hook that checks that a training run's teachers behave as their schemes say (used by the
tests; useful to debug a new scheme: add ``dict(type='TeacherCheckHook')`` to custom_hooks)."""
import math
from typing import Dict, List

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..core.distributed import world_size
from ..core.teacher import EMATeacher
from .eman_hook import find_teachers, require_teachers


def _mean_over_processes(t: torch.Tensor) -> torch.Tensor:
    t = t.detach().clone()
    dist.all_reduce(t)
    return t / world_size()


def _floats(module) -> Dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items() if v.is_floating_point()}


@HOOKS.register_module()
class TeacherCheckHook(Hook):
    """After each iteration (after ``EMANHook``), assert that every loss is finite and that
    each teacher followed eq. (1) for its parameters and, where its scheme averages
    buffers, eq. (9) for its statistics (integer counters copied), relative to the state
    it had before the iteration.  Raises AssertionError with the offending tensor's name.
    A model without a teacher stops the run (ConfigError), unless ``expect_teacher=False``
    (a run with no teacher by design: then only its losses are checked, and a teacher is an
    error).  ``checked_iters`` counts the iterations whose every teacher (one at least, when
    one is expected) was checked.

    Args:
        rtol (float): relative tolerance of the comparison. Default 1e-5.
        expect_teacher (bool): whether the model has teachers to check. Default True.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, rtol: float = 1e-5, expect_teacher: bool = True) -> None:
        self.rtol = rtol
        self.expect_teacher = expect_teacher
        self.before: List[Dict[str, torch.Tensor]] = []
        self.checked_iters = 0

    def _teachers(self, model) -> List[EMATeacher]:
        if self.expect_teacher:
            return require_teachers(model, 'TeacherCheckHook')
        teachers = find_teachers(model)
        assert not teachers, f'TeacherCheckHook(expect_teacher=False): the model has {len(teachers)} teacher(s)'
        return teachers

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.before = [_floats(t.module) for t in self._teachers(runner.model)]

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for key, value in (outputs or {}).items():
            if 'loss' in key:
                assert math.isfinite(float(value)), f'{key}={float(value)} at iteration {runner.iter}'
        teachers = self._teachers(runner.model)
        assert len(teachers) == len(self.before), 'the model\'s teachers changed during an iteration'
        for teacher, before in zip(teachers, self.before):
            self._check(teacher, before, teacher.momentum_at(runner.iter, runner.max_iters))
        self.checked_iters += 1

    def _check(self, teacher: EMATeacher, before: Dict[str, torch.Tensor], m: float) -> None:
        buffer_m = teacher.scheme.buffer_momentum(m)
        student = teacher.student.state_dict()
        if world_size() > 1:  # the teacher averages its statistics over processes
            student = {k: _mean_over_processes(v) if v.is_floating_point() and
                       k not in dict(teacher.student.named_parameters()) else v
                       for k, v in student.items()}
        param_names = {k for k, _ in teacher.module.named_parameters()}
        for name, value in teacher.module.state_dict().items():
            if name in param_names:
                expected = m * before[name] + (1 - m) * student[name]
            elif buffer_m is None or name not in student:
                continue  # the teacher's own statistics
            elif not value.is_floating_point():
                assert torch.equal(value, student[name]), f'{name}: counter not copied'
                continue
            else:
                expected = buffer_m * before[name] + (1 - buffer_m) * student[name]
            assert torch.allclose(value, expected, rtol=self.rtol, atol=1e-6), \
                f'teacher {name} does not follow the EMA update ({teacher.scheme.token}, m={m})'
