"""The EMA teacher: construction from a student and the update of eq. (1) and (9).

Plain PyTorch, usable from any training loop (see ``examples/lightly_moco_eman.py``)
and driven in MMEngine by :class:`emanplug.hooks.EMANHook`.  Momenta follow the
paper's convention: ``m`` is the weight of the teacher's *old* value.

Wrapped students (``torch.compile``, ``DistributedDataParallel`` / ``DataParallel``, mmengine's
model wrappers) are unwrapped to the plain module (:func:`unwrap_module`); the teacher is a
plain module.  Under ``torch.autocast`` the teacher keeps float32 parameters and buffers and
its update runs with autocast disabled, in the teacher's precision.
"""
import contextlib
import copy
import sys
from operator import attrgetter, is_, ne
from typing import Any, ContextManager, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from ..checkpoint import name_positional_keys
from ..errors import ConfigError
from .distributed import all_reduce_mean_, world_size
from .momentum import check_momentum, get_schedule
from .schemes import NormScheme, build_scheme


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


STUDENT_MARK = '_emanplug_student_scheme'


def _inner_module(module: nn.Module) -> Optional[nn.Module]:
    """The module one wrapper inside ``module``, or None when it is not a wrapper."""
    inner = getattr(module, '_orig_mod', None)  # torch.compile's OptimizedModule
    if isinstance(inner, nn.Module):
        return inner
    if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        return module.module
    mm = sys.modules.get('mmengine.model')  # mmengine's wrappers, only where it is loaded already
    if mm is not None and mm.is_model_wrapper(module):
        return module.module
    return None


def _wrapper_chain(module: nn.Module) -> List[nn.Module]:
    """``[module, the module it wraps, ..., the plain module]``."""
    chain = [module]
    inner = _inner_module(module)
    while inner is not None and all(inner is not m for m in chain):
        chain.append(inner)
        inner = _inner_module(inner)
    return chain


def unwrap_module(module: nn.Module) -> nn.Module:
    """The plain module inside ``module``'s wrappers, unwrapped repeatedly: ``torch.compile``'s
    ``OptimizedModule`` (``._orig_mod``), ``DistributedDataParallel`` / ``DataParallel`` and,
    when mmengine is loaded, its model wrappers (``.module``).  A plain module is returned as it is.

    Example:
        >>> net = nn.Linear(4, 4)
        >>> unwrap_module(nn.DataParallel(torch.compile(net))) is net
        True
    """
    return _wrapper_chain(module)[-1]


def _holds_parameters(wrapper: nn.Module) -> bool:
    """Whether a wrapper keeps references to its module's parameters (DDP's gradient buckets),
    so that replacing a layer inside it leaves the wrapper with stale parameters."""
    return not (isinstance(getattr(wrapper, '_orig_mod', None), nn.Module)
                or isinstance(wrapper, nn.DataParallel))


def prepare_student(student: nn.Module, scheme: Union[str, dict, NormScheme] = 'eman') -> nn.Module:
    """Give ``student`` the scheme's normalisation; call it before building the optimizer.

    Some schemes change the student's norm layers (``gn-gn`` and ``in-in`` replace its BN
    layers, ``syncbn-syncbn`` makes them global, ``bn-*`` turns SyncBN into per-process BN,
    ``bn-studentpn`` sets their momentum).  A replaced layer has new parameters: an
    optimizer built before the conversion would never see them, so the conversion is an
    explicit step that comes first, and :class:`EMATeacher` refuses a student that did not
    go through it.  The student is converted in place and returned.

    A wrapped student (``torch.compile``, DDP, DataParallel, mmengine's wrappers) is converted
    and marked through its wrappers (:func:`unwrap_module`); the wrapper is returned.  A
    scheme that replaces layers of a student already inside DDP is refused (DDP would keep
    synchronising the old parameters): prepare the student before wrapping it in DDP.

    Example:
        >>> student = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        >>> student = prepare_student(student, 'gn-gn')   # BN -> GroupNorm
        >>> optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
        >>> teacher = EMATeacher(student, 'gn-gn')
    """
    scheme = build_scheme(scheme)
    *wrappers, module = _wrapper_chain(student)
    before = [id(p) for p in module.parameters()]
    if scheme.convert_student(module) is not module:
        raise ConfigError(f'scheme {scheme.name!r} cannot convert a student that is itself a '
                          'norm layer; allowed: a module containing its norm layers')
    held = [type(w).__name__ for w in wrappers if _holds_parameters(w)]
    if held and [id(p) for p in module.parameters()] != before:
        raise ConfigError(f'prepare_student: scheme {scheme.token!r} replaced norm layers of a '
                          f'student already wrapped in {held[0]}, which keeps the old parameters; '
                          'allowed: prepare_student(module, ...) before wrapping it')
    setattr(module, STUDENT_MARK, scheme.token)
    return student


def build_teacher(student: nn.Module, scheme: Union[str, dict, NormScheme] = 'eman') -> nn.Module:
    """A teacher for ``student``: an exact copy, gradients off, norm layers as ``scheme`` says.

    The student is expected to be prepared already (:func:`prepare_student`);
    :class:`EMATeacher` checks that and builds the teacher with this function.  A wrapped
    student (:func:`unwrap_module`) gives a teacher copied from the plain module inside.
    """
    teacher = build_scheme(scheme).convert_teacher(copy.deepcopy(unwrap_module(student)))
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


class EMATeacher(nn.Module):
    """An EMA teacher of a student module under a normalisation scheme.

    The student must have gone through :func:`prepare_student` with the same scheme
    (which gives it the scheme's normalisation before its optimizer is built); the
    teacher becomes an exact copy of it with the teacher's norm layers.  Calling the
    teacher runs the scheme's forward without gradients (ShuffleBN shuffles).
    :meth:`update` applies eq. (1) to the parameters and, where the scheme averages
    buffers (EMAN, student PN), eq. (9) to floating buffers with the scheme's
    statistics momentum and copies integer buffers (``num_batches_tracked``); given the
    step, it also follows the momentum schedule and tells the scheme how far training is
    (MomentumBN), so one call per step is all a training loop needs.

    The student is referenced, not owned: it is not part of this module's
    ``state_dict``.  A wrapped student (``torch.compile``, DDP, DataParallel, mmengine's
    wrappers) is followed through its wrappers: the teacher is a plain copy of the module
    inside, its tensors are paired by that module's names (no ``_orig_mod.`` / ``module.``).

    Mixed precision: under ``torch.autocast`` the teacher's forward runs in low precision
    like the student's, while its parameters and buffers stay in their own dtype (float32
    for a float32 student, as under autocast) and :meth:`update`, :meth:`reset_to_student`
    and :meth:`average_buffers_across_processes` run with autocast disabled.  The update is
    eq. (1) / (9) in the teacher's dtype: a student tensor of another dtype (e.g. a
    ``.half()``-ed student) is cast to the teacher's dtype first, so a float32 teacher stays
    float32 and keeps the precision an EMA with ``m`` close to 1 needs.

    Args:
        student (nn.Module): the online network (e.g. backbone + neck), possibly wrapped.
        scheme: scheme name, token, dict or instance (see :func:`build_scheme`). Default 'eman'.
        momentum (float): paper-convention m of eq. (1), weight of the old value. Default 0.999.
        momentum_schedule (str): 'constant' (MoCo, FixMatch) or 'cosine' (BYOL). Default 'constant'.

    Example:
        >>> student = prepare_student(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)), 'bn-eman')
        >>> teacher = EMATeacher(student, 'bn-eman', momentum=0.99)
        >>> for step in range(3):  # a training loop
        ...     loss = student(torch.randn(16, 4)).pow(2).mean()  # (optimizer step here)
        ...     teacher.update(step, 3)
        >>> teacher(torch.randn(2, 4)).shape
        torch.Size([2, 8])
    """

    def __init__(self, student: nn.Module, scheme: Union[str, dict, NormScheme] = 'eman',
                 momentum: float = 0.999, momentum_schedule: str = 'constant') -> None:
        super().__init__()
        self.scheme = build_scheme(scheme)
        self.set_momentum(momentum, momentum_schedule)
        student = unwrap_module(student)
        prepared = getattr(student, STUDENT_MARK, None)
        if prepared != self.scheme.token:
            found = f' (it was prepared for {prepared!r})' if prepared else ''
            raise ConfigError(f'EMATeacher: the student is not prepared for scheme '
                              f'{self.scheme.token!r}{found}; allowed: call student = '
                              f'prepare_student(student, {self.scheme.token!r}) before building '
                              'its optimizer and the teacher')
        self._student = [student]  # a list, so that nn.Module does not register it
        self.module = build_teacher(student, self.scheme)
        self.updates_this_process = 0  # lets models check that something drives update()
        self._cache: Optional[dict] = None  # tensor lists for update(), see _tensor_lists()

    def set_momentum(self, momentum: Optional[float] = None,
                     schedule: Optional[str] = None) -> None:
        """Change the base momentum (paper convention) and/or the schedule's name."""
        if momentum is not None:
            self.momentum = check_momentum(momentum)
        if schedule is not None:
            self._schedule = get_schedule(schedule)
            self.momentum_schedule = schedule

    @property
    def student(self) -> nn.Module:
        """The student this teacher follows (the plain module inside its wrappers)."""
        return self._student[0]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            return self.scheme.forward_teacher(self.module, *args, **kwargs)

    def momentum_at(self, step: int, total: int) -> float:
        """Parameter momentum (paper convention) after ``step`` of ``total`` steps."""
        return self._schedule(self.momentum, step, total)

    def set_progress(self, step: int, total: int) -> None:
        """Tell the scheme how far training is (MomentumBN's batch weight): ``step`` steps
        of ``total`` are done.  :meth:`update` does this itself; call it only where a run
        starts in the middle (resume)."""
        self.scheme.set_progress(self.module, step / max(total, 1))

    def tensor_pairs(self) -> Tuple[List[Tuple[torch.Tensor, torch.Tensor]], ...]:
        """``(params, float_buffers, other_buffers)``: (teacher, student) pairs matched by name.

        Buffers are paired only where the teacher has a buffer of the same name and shape
        (a GroupNorm teacher has none).
        """
        student_params = dict(self.student.named_parameters())
        params = []
        for name, t in self.module.named_parameters():
            if name not in student_params or student_params[name].shape != t.shape:
                raise ConfigError(f'teacher parameter {name!r} has no student counterpart; '
                                  'the student changed its structure after the teacher was built')
            params.append((t, student_params[name]))
        student_buffers = dict(self.student.named_buffers())
        floats, others = [], []
        for name, t in self.module.named_buffers():
            s = student_buffers.get(name)
            if s is None or s.shape != t.shape:
                continue
            (floats if t.is_floating_point() else others).append((t, s))
        return params, floats, others

    def _snapshot(self) -> List[Tuple[dict, tuple]]:
        """Every non-empty ``_modules`` / ``_parameters`` / ``_buffers`` dict of teacher and
        student with its values: if any of them changes (a module replaced, e.g. by a SyncBN
        conversion, a tensor reassigned or moved), the cached pairs are stale."""
        out = []
        for root in (self.module, self.student):
            for m in root.modules():
                for d in (m._modules, m._parameters, m._buffers):
                    if d:
                        out.append((d, tuple(d.values())))
        return out

    def _tensor_lists(self) -> dict:
        """The unzipped tensor pairs of :meth:`tensor_pairs`, cached between calls and rebuilt
        when the structure of teacher or student changed (checked by identity, ~0.1 ms on a
        ResNet-50, against ~1.2 ms for matching the pairs by name)."""
        cache = self._cache
        if cache is not None and all(len(d) == len(v) and all(map(is_, d.values(), v))
                                     for d, v in cache['snapshot']):
            return cache
        params, floats, others = self.tensor_pairs()
        self._cache = cache = dict(
            params=_unzip(params), floats=_unzip(floats), others=_unzip(others),
            both=_unzip(params + floats),
            teacher_floats=[b for b in self.module.buffers() if b.is_floating_point()],
            snapshot=self._snapshot())
        return cache

    def _no_autocast(self) -> ContextManager:
        """``torch.autocast(device_type, enabled=False)`` for the device type of the teacher's
        tensors (a null context for a teacher without tensors or a device without autocast)."""
        tensor = next(self.module.parameters(), None)
        if tensor is None:
            tensor = next(self.module.buffers(), None)
        if tensor is None or not torch.amp.is_autocast_available(tensor.device.type):
            return contextlib.nullcontext()
        return torch.autocast(tensor.device.type, enabled=False)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any, **kwargs: Any) -> None:
        # a teacher of named parts (backbone, neck, ...) also reads the keys of checkpoints
        # written when they were positional (``teacher.module.0.`` = the first part)
        names = list(self.module._modules)
        if names and not any(n.isdigit() for n in names):
            name_positional_keys(state_dict, prefix + 'module.', names)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _apply(self, *args: Any, **kwargs: Any) -> 'EMATeacher':
        self._cache = None
        return super()._apply(*args, **kwargs)

    def __getstate__(self) -> dict:
        return {**super().__getstate__(), '_cache': None}  # copies rebuild their own pairs

    @torch.no_grad()
    def reset_to_student(self) -> None:
        """Make the teacher an exact copy of the student again (every matching parameter and
        buffer), e.g. after a framework re-initialised the student's weights."""
        params, floats, others = self.tensor_pairs()
        with self._no_autocast():
            for pairs in (params, floats, others):
                if pairs:
                    torch._foreach_copy_(*_unzip(pairs))  # casts to the teacher's dtypes

    @torch.no_grad()
    def update(self, step: Optional[int] = None, total: Optional[int] = None, *,
               momentum: Optional[float] = None) -> None:
        """Move the teacher towards the student (eq. 1 and, per the scheme, eq. 9).

        Call it once after each optimizer step.  With ``step`` (0-based) and ``total``
        the momentum follows the teacher's schedule (:meth:`momentum_at`) and the scheme
        learns the progress ``(step + 1) / total`` for the next forward (MomentumBN);
        without them the base momentum is used.  It runs with autocast disabled, in the
        teacher's dtypes (student values of another dtype are cast to them), so it may be
        called inside a ``torch.autocast`` block.

        Args:
            step: the optimizer step just taken, counted from 0.
            total: the number of steps of the whole run.
            momentum: paper-convention m for this call, overriding the schedule.
        """
        if step is not None:
            if not isinstance(step, int) or isinstance(step, bool) or not isinstance(total, int):
                raise ConfigError(f'EMATeacher.update(step={step!r}, total={total!r}): allowed: '
                                  'integer step and total, or update(momentum=m) for an explicit '
                                  'momentum')
            if momentum is None:
                momentum = self.momentum_at(step, total)
        m = self.momentum if momentum is None else check_momentum(momentum)
        lists = self._tensor_lists()
        buffer_m = self.scheme.buffer_momentum(m)
        if buffer_m is not None:
            buffer_m = check_momentum(buffer_m, 'buffer momentum')
        # student tensors of another dtype than the teacher's (a .half()-ed student) are cast
        pairs = _to_teacher_dtypes if _dtypes_differ(*lists['both']) else _same
        with self._no_autocast():
            if buffer_m == m:  # EMAN: parameters and statistics in one vectorised call
                ema_update_(*pairs(*lists['both']), m)
            else:
                ema_update_(*pairs(*lists['params']), m)
                if buffer_m is not None:
                    ema_update_(*pairs(*lists['floats']), buffer_m)
            if buffer_m is not None and lists['others'][0]:
                torch._foreach_copy_(*lists['others'])
            self.scheme.end_iteration(self.module)
            self.average_buffers_across_processes()
        self.updates_this_process += 1
        if step is not None:
            self.set_progress(step + 1, total)

    @torch.no_grad()
    def average_buffers_across_processes(self) -> None:
        """Average the teacher's floating buffers over all processes (a no-op on one process).

        Each process's student normalises its own batches, so its statistics differ; after
        the update (eq. 9 is linear) the average equals the EMA of the students' mean
        statistics and every process holds the same teacher.
        """
        if world_size() == 1:
            return
        with self._no_autocast():
            all_reduce_mean_(self._tensor_lists()['teacher_floats'])

    def extra_repr(self) -> str:
        return (f'scheme={self.scheme.token}, momentum={self.momentum}, '
                f'momentum_schedule={self.momentum_schedule!r}')


def _unzip(pairs: List[Tuple[torch.Tensor, torch.Tensor]]) -> Tuple[list, list]:
    return [t for t, _ in pairs], [s for _, s in pairs]


_dtype = attrgetter('dtype')


def _dtypes_differ(teacher: list, student: list) -> bool:
    """Checked at every update (~40 us for ResNet-50's 267 pairs): ``.half()`` changes a
    parameter's dtype in place, which the cache of tensor pairs cannot see."""
    return any(map(ne, map(_dtype, teacher), map(_dtype, student)))


def _same(teacher: list, student: list) -> Tuple[list, list]:
    return teacher, student


def _to_teacher_dtypes(teacher: list, student: list) -> Tuple[list, list]:
    return teacher, [s if s.dtype == t.dtype else s.to(t.dtype) for t, s in zip(teacher, student)]
