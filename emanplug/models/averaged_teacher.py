"""EMAN for mmpretrain's own momentum-encoder models (MoCo, DenseCL, BYOL, MoCoV3).

mmpretrain builds the teacher of these models as an MMEngine averaged model of the student
``nn.Sequential(backbone, neck)``: ``encoder_k = ExponentialMovingAverage(..., momentum)``
(MoCo v1/v2, DenseCL) or ``target_net`` / ``momentum_encoder = CosineEMA(..., momentum)``
(BYOL, MoCoV3), and calls ``teacher.update_parameters(student)`` at the start of every
training step.  Those teachers average parameters only, copy buffers and normalise with batch
statistics.  :func:`convert_averaged_teachers` replaces each of them by an
:class:`AveragedModelTeacher`: an :class:`~emanplug.core.teacher.EMATeacher` of the chosen
scheme that keeps the averaged model's interface (``module``, ``steps``,
``update_parameters``, ``forward``) and its state-dict keys, so the model's own code runs
unchanged, and whose ``update_parameters`` applies eq. (1)/(9) with mmpretrain's momentum and
schedule read once in mmengine's convention (weight of the new value) and converted to the
paper's.  :class:`emanplug.hooks.EMANTeacherHook` does it from one config line.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseAveragedModel, ExponentialMovingAverage

from ..core.momentum import from_torch_momentum
from ..core.schemes import SCHEMES, NormScheme, build_scheme
from ..core.teacher import EMATeacher, prepare_student
from ..errors import ConfigError


def _schedule_of(averaged: BaseAveragedModel) -> Tuple[float, str]:
    """``(paper momentum m_0, schedule name)`` of an MMEngine averaged model, or ConfigError."""
    kind = type(averaged).__name__
    if not isinstance(averaged, ExponentialMovingAverage):
        raise ConfigError(f'{kind} is not an exponential moving average; allowed: '
                          'ExponentialMovingAverage (MoCo, DenseCL) or CosineEMA (BYOL, MoCoV3)')
    if averaged.update_buffers:
        raise ConfigError(f'{kind}(update_buffers=True) averages buffers itself; allowed: '
                          'update_buffers=False (mmpretrain\'s default), the scheme decides the buffers')
    m0 = from_torch_momentum(averaged.momentum)
    if type(averaged).avg_func is ExponentialMovingAverage.avg_func:
        return m0, 'constant'
    end = getattr(averaged, 'end_momentum', None)
    if kind == 'CosineEMA' and end == 0:
        return m0, 'cosine'  # mmengine m_k = m_end - (m_end - m_start)(cos(pi k/K)+1)/2, to 1
    raise ConfigError(f'{kind}(end_momentum={end!r}) has no emanplug schedule; allowed: '
                      'ExponentialMovingAverage (constant) or CosineEMA with end_momentum=0')


class AveragedModelTeacher(EMATeacher):
    """An EMA teacher that stands in for an MMEngine averaged model inside a model.

    It has the averaged model's interface: ``module`` (the teacher network, e.g.
    ``nn.Sequential(backbone, neck)``: DenseCL calls ``module[0]`` and ``module[1]``),
    ``steps`` (a buffer, saved with checkpoints), ``update_parameters(model)`` and the
    forward, so its state-dict keys stay ``<name>.module.*`` and ``<name>.steps``.  Like
    MMEngine's averaged models, the first ``update_parameters`` (``steps == 0``) copies the
    student (parameters *and* buffers: the teacher starts as an exact copy); each later call
    ``k`` with ``k % interval == 0`` runs :meth:`EMATeacher.update` with the momentum of
    mmpretrain's own schedule at ``k`` (constant, or CosineEMA's ``k / max_iters``) in the
    paper's convention.  Built by :func:`convert_averaged_teachers`.

    Args:
        student (nn.Module): the live student, prepared for ``scheme``.
        scheme: the normalisation scheme (name, token, dict or instance).
        momentum (float): paper-convention m_0 (weight of the old value).
        momentum_schedule (str): 'constant' or 'cosine'.
        interval (int): update every ``interval`` calls (MMEngine's ``interval``). Default 1.
        steps (int): calls made so far (the averaged model's ``steps``). Default 0.
    """

    driven_by_model = True  # the model calls update_parameters; EMANHook must not update it

    def __init__(self, student: nn.Module, scheme='eman', momentum: float = 0.999,
                 momentum_schedule: str = 'constant', interval: int = 1, steps: int = 0) -> None:
        super().__init__(student, scheme, momentum, momentum_schedule)
        if not isinstance(interval, int) or interval < 1:
            raise ConfigError(f'interval={interval!r}; allowed: an integer >= 1')
        self.interval = interval
        self.register_buffer('steps', torch.tensor(int(steps), dtype=torch.long))
        self._checked_student = False

    def _check_student(self, model: nn.Module) -> None:
        """The model passes its student at every call; it must be the one paired at build."""
        if self._checked_student:
            return
        given = [id(p) for p in model.parameters()]
        if given != [id(p) for p in self.student.parameters()]:
            raise ConfigError(f'{type(self).__name__}.update_parameters: the module passed is '
                              'not the student this teacher was built from; allowed: the '
                              "model's own nn.Sequential(backbone, neck)")
        self._checked_student = True

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """What MMEngine's averaged models do at every call, with the scheme's update."""
        self._check_student(model)
        steps = int(self.steps)
        if steps == 0:
            self.reset_to_student()
        elif steps % self.interval == 0:
            total = MessageHub.get_current_instance().get_info('max_iters')
            if total is None and self.momentum_schedule != 'constant':
                raise ConfigError(f'{type(self).__name__}: the {self.momentum_schedule} momentum '
                                  "needs MessageHub's max_iters; allowed: run it in MMEngine's Runner")
            self.update(momentum=self.momentum if total is None else self.momentum_at(steps, total))
            if total is not None:
                self.set_progress(steps, total)  # the forward of step `steps` comes next
        self.steps += 1


def _named_averaged_models(model: nn.Module) -> List[Tuple[nn.Module, str, BaseAveragedModel]]:
    """``(parent, attribute, averaged model)`` for every MMEngine averaged model in ``model``."""
    found = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, BaseAveragedModel):
                found.append((parent, name, child))
    return found


def _signature(module: nn.Module) -> tuple:
    return (type(module),) + tuple((n, tuple(p.shape)) for n, p in module.named_parameters())


def _find_student(model: nn.Module, averaged: BaseAveragedModel, key: str) -> nn.Module:
    """The live modules the averaged model is a copy of, as a module with the same names
    (mmpretrain averages ``nn.Sequential(self.backbone, self.neck)``): each part is matched by
    class and parameter names and shapes among the modules of ``model`` outside any
    averaged model."""
    copies = list(averaged.module) if isinstance(averaged.module, nn.Sequential) else [averaged.module]
    inside = {id(m) for _, _, avg in _named_averaged_models(model) for m in avg.modules()}
    candidates: Dict[tuple, List[nn.Module]] = {}
    for m in model.modules():
        if id(m) not in inside and m is not model:
            candidates.setdefault(_signature(m), []).append(m)
    parts = []
    for copy in copies:
        matches = candidates.get(_signature(copy), [])
        matches = [m for m in matches if not any(m in p.modules() or p in m.modules() for p in parts)]
        if len(matches) != 1:
            what = 'no module' if not matches else f'{len(matches)} modules'
            raise ConfigError(f'{key}: {what} of the model match(es) its part {type(copy).__name__}; '
                              'allowed: an averaged model of the model\'s own parts, e.g. '
                              'nn.Sequential(self.backbone, self.neck)')
        parts.append(matches[0])
    if not isinstance(averaged.module, nn.Sequential):
        return parts[0]
    return nn.Sequential(*parts)


def _prepare_keeping_tensors(student: nn.Module, scheme: NormScheme, key: str) -> nn.Module:
    """:func:`prepare_student` for a student whose optimizer (and DDP wrapper) already exist:
    a norm layer the scheme replaces (e.g. SyncBN -> BN for ``bn-*``) takes over the replaced
    layer's parameter and buffer objects, so the optimizer and DDP keep updating the tensors the
    student uses.  A scheme that needs new parameters is refused."""
    old_params = dict(student.named_parameters())
    old_buffers = dict(student.named_buffers())
    prepare_student(student, scheme)
    for named, old, store in ((student.named_parameters, old_params, '_parameters'),
                              (student.named_buffers, old_buffers, '_buffers')):
        for name, new in list(named()):
            if old.get(name) is new:
                continue
            if name not in old or old[name].shape != new.shape or old[name].dtype != new.dtype:
                raise ConfigError(f'{key}: scheme {scheme.token!r} gives the student a new tensor '
                                  f'{name!r}, which the optimizer built before this hook would not '
                                  'train; allowed: a scheme that keeps the student\'s parameters '
                                  f'({", ".join(model_schemes())}), or set the norm layers in '
                                  'the model config')
            owner = student.get_submodule(name.rpartition('.')[0])
            with torch.no_grad():
                old[name].copy_(new)
            getattr(owner, store)[name.rpartition('.')[2]] = old[name]
    return student


def model_schemes() -> List[str]:
    """Tokens of the registered schemes that work inside a model's own teacher calls (those
    with the plain teacher forward)."""
    return sorted(build_scheme(name).token for name, cls in SCHEMES.items()
                  if cls.forward_teacher is NormScheme.forward_teacher)


def convert_averaged_teachers(model: nn.Module, scheme='bn-eman') -> List[str]:
    """Replace every MMEngine averaged model in ``model`` by an :class:`AveragedModelTeacher`
    of ``scheme``; returns the attribute paths converted (e.g. ``['encoder_k']``).

    The student each one averages is found among the model's modules and prepared for the
    scheme keeping its tensors (so this may run after the optimizer is built).  The old
    averaged model's tensors are emptied: an optimizer built before holds them (MMEngine puts
    frozen parameters into param groups) but never steps them.  Schemes whose teacher needs
    its own forward (ShuffleBN) are refused: mmpretrain's MoCo and DenseCL shuffle the keys
    themselves across processes (``bn-bn`` is that ShuffleBN), and DenseCL calls the teacher's
    parts directly.

    Example:
        >>> from mmpretrain.models import MoCo  # doctest: +SKIP
        >>> convert_averaged_teachers(moco, 'bn-eman')  # doctest: +SKIP
        ['encoder_k']
    """
    scheme = build_scheme(scheme)
    if type(scheme).forward_teacher is not NormScheme.forward_teacher:
        raise ConfigError(f'scheme {scheme.token!r} needs its own teacher forward, which '
                          'mmpretrain models bypass; allowed: ' + ', '.join(model_schemes()) +
                          ' (bn-bn in mmpretrain\'s MoCo/DenseCL is ShuffleBN: they shuffle the '
                          'keys across processes themselves)')
    converted = []
    prefix = {id(m): n for n, m in model.named_modules()}
    for parent, name, averaged in _named_averaged_models(model):
        key = '.'.join(filter(None, (prefix[id(parent)], name)))
        m0, schedule = _schedule_of(averaged)
        student = _prepare_keeping_tensors(_find_student(model, averaged, key), scheme, key)
        teacher = AveragedModelTeacher(student, scheme, m0, schedule, interval=averaged.interval,
                                       steps=int(averaged.steps))
        device = averaged.steps.device
        with torch.no_grad():
            for t in list(averaged.parameters()) + list(averaged.buffers()):
                t.data = t.data.new_empty(0)
        setattr(parent, name, teacher.to(device))
        converted.append(key)
    return converted


def averaged_model_teachers(model: nn.Module) -> Dict[str, AveragedModelTeacher]:
    """``{attribute path: teacher}`` of the :class:`AveragedModelTeacher` s in ``model``."""
    return {n: m for n, m in model.named_modules() if isinstance(m, AveragedModelTeacher)}


def describe(teachers: Dict[str, AveragedModelTeacher]) -> Optional[List[dict]]:
    """What a checkpoint records about the converted teachers (compared on resume)."""
    return [dict(name=n, scheme=t.scheme.token, momentum=t.momentum,
                 momentum_schedule=t.momentum_schedule) for n, t in sorted(teachers.items())]
