"""Normalisation schemes of student and teacher (EMAN paper, Tables 1 and 8).

A scheme decides four things, and nothing else:

1. the student's normalisation (:meth:`NormScheme.convert_student`, e.g. GN for ``gn``);
2. the teacher's normalisation (:meth:`NormScheme.convert_teacher`, e.g. EMAN layers);
3. how the teacher's buffers follow the student in the EMA update
   (:meth:`NormScheme.buffer_momentum`: averaged with some momentum, or kept
   as the teacher's own);
4. how the teacher is called (:meth:`NormScheme.forward_teacher`, e.g. ShuffleBN).

Schemes are registered by name; :func:`build_scheme` accepts a name, a config
token ``'{student}-{teacher}{number}'`` such as ``'bn-eman'``,
``'bn-teacherpn0.999'`` or ``'syncbn-syncbn'``, a dict ``dict(type=..., **args)``
or a scheme instance.  A new scheme is one class::

    @register_scheme('myscheme')
    class MyScheme(NormScheme):
        def convert_teacher(self, module):
            ...

All momenta are in the paper's convention (weight of the *old* value).
"""
import inspect
import re
from typing import Any, Callable, Dict, Optional, Type, Union

import torch
import torch.nn as nn

from ..errors import ConfigError
from .distributed import all_gather_cat, broadcast_, rank, world_size
from .momentum import check_momentum, to_torch_momentum
from .norms import (EMAN, BatchNorm, GlobalBatchNorm, InstanceNorm, MomentumBN, SplitBatchNorm,
                    TeacherPN, bn_kwargs, copy_norm_state, momentum_bn_weight,
                    replace_batchnorms)

SCHEMES: Dict[str, Type['NormScheme']] = {}


def register_scheme(name: str, force: bool = False) -> Callable[[type], type]:
    """Class decorator registering a :class:`NormScheme` subclass under ``name``."""
    key = name.lower()

    def wrap(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, NormScheme)):
            raise TypeError(f'register_scheme({name!r}) expects a NormScheme subclass')
        if key in SCHEMES and not force:
            raise KeyError(f'scheme {key!r} is already registered (use force=True to replace it)')
        cls.name = key
        SCHEMES[key] = cls
        return cls
    return wrap


def convert_to(layer_cls: type, **extra: Any) -> Callable[[str, nn.Module], nn.Module]:
    """A :func:`replace_batchnorms` factory building ``layer_cls`` with the BN's arguments."""
    def make(name: str, bn: nn.Module) -> nn.Module:
        if type(bn) is layer_cls and not extra:
            return bn
        return copy_norm_state(bn, layer_cls(**bn_kwargs(bn), **extra))
    return make


def _map_tensors(obj: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    return obj


class NormScheme:
    """Base scheme, also the ``bn`` scheme: the teacher is a copy of the student
    that keeps train-mode BatchNorm (batch statistics) and its own running statistics.

    Subclasses override only what differs.  Attributes: ``name`` (registry key),
    ``student_norm`` (token of the student's normalisation), ``suffix_arg`` (the
    argument a number at the end of a token sets, e.g. ``eman0.9``).
    """

    name = 'bn'
    student_norm = 'bn'
    suffix_arg: Optional[str] = None

    def convert_student(self, module: nn.Module) -> nn.Module:
        """Return the student with the scheme's normalisation (in place where possible).

        For ``bn-*`` schemes the student uses per-process BN: SyncBN layers (e.g. from an
        inherited mmpretrain BYOL config; ``torch.nn.SyncBatchNorm`` or, on CPU,
        :class:`~emanplug.core.norms.GlobalBatchNorm`) become :class:`~emanplug.core.norms.BatchNorm`.
        """
        def make(name: str, bn: nn.Module) -> nn.Module:
            if isinstance(bn, (nn.SyncBatchNorm, GlobalBatchNorm)):
                return copy_norm_state(bn, BatchNorm(**bn_kwargs(bn)))
            return bn
        return replace_batchnorms(module, make)

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        """Return the teacher (a deep copy of the converted student) with the teacher's normalisation."""
        return module

    def buffer_momentum(self, momentum: float) -> Optional[float]:
        """Momentum (paper convention) of the teacher's floating buffers given the parameter
        momentum, or None when the teacher keeps its own buffers."""
        return None

    def forward_teacher(self, teacher: nn.Module, *args: Any, **kwargs: Any) -> Any:
        """Compute the teacher's output."""
        return teacher(*args, **kwargs)

    def set_progress(self, teacher: nn.Module, progress: float) -> None:
        """Tell the teacher how far training is (0 at the start, 1 at the end)."""

    def end_iteration(self, teacher: nn.Module) -> None:
        """Called once per training iteration, after the EMA update (MomentumBN moves its
        running statistics here)."""

    def check_batch_size(self, batch_size: int, key: str = 'batch_size') -> None:
        """Raise ConfigError if the scheme cannot run with this per-process batch size."""

    @property
    def token(self) -> str:
        """The ``{student}-{teacher}`` token used in config names, e.g. ``bn-eman0.9``."""
        suffix = ''
        if self.suffix_arg and getattr(self, self.suffix_arg, None) is not None:
            suffix = f'{getattr(self, self.suffix_arg):g}'
        return f'{self.student_norm}-{self.name}{suffix}'

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({args})'

    def __eq__(self, other: object) -> bool:
        """The same scheme: the same class with the same arguments."""
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(repr(self))


register_scheme('bn')(NormScheme)


@register_scheme('syncbn')
class SyncBN(NormScheme):
    """SyncBN / SyncBN: student and teacher normalise with the statistics of the
    global batch of all processes (BYOL's default).  Runs on CPU (gloo) and GPU (nccl)
    through :class:`~emanplug.core.norms.GlobalBatchNorm`."""

    student_norm = 'syncbn'

    def convert_student(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, convert_to(GlobalBatchNorm))

    convert_teacher = convert_student


@register_scheme('shufflebn')
class ShuffleBN(NormScheme):
    """BN / ShuffleBN (MoCo's default): the teacher's batch statistics come from a
    random shuffle of the batch, so the key of sample i is normalised with other
    samples than its query.

    Across processes the global batch is shuffled and each process normalises its
    share.  Each process's share is further cut into ``num_splits`` sub-batches with
    their own statistics; on one process ``num_splits >= 2`` is required, since a
    shuffle inside one undivided batch changes nothing.

    Args:
        num_splits (int): sub-batches per process. Default 1.
    """

    def __init__(self, num_splits: int = 1) -> None:
        if not isinstance(num_splits, int) or num_splits < 1:
            raise ConfigError(f'num_splits={num_splits!r} is not allowed; allowed: an integer >= 1')
        self.num_splits = num_splits

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, convert_to(SplitBatchNorm, num_splits=self.num_splits))

    def check_batch_size(self, batch_size: int, key: str = 'batch_size') -> None:
        if batch_size % self.num_splits:
            divisors = ', '.join(str(d) for d in range(1, batch_size + 1) if batch_size % d == 0)
            raise ConfigError(f'{key}={batch_size} is not divisible by ShuffleBN num_splits='
                              f'{self.num_splits}; allowed num_splits: {divisors}')

    def forward_teacher(self, teacher: nn.Module, x: torch.Tensor, *args: Any,
                        **kwargs: Any) -> Any:
        processes = world_size()
        if processes == 1 and self.num_splits == 1:
            raise ConfigError('ShuffleBN on a single process needs num_splits >= 2 (a shuffle '
                              'inside one undivided batch changes nothing); allowed: set '
                              'scheme=dict(type="shufflebn", num_splits=N) with N dividing the batch')
        n = x.shape[0]
        self.check_batch_size(n)
        everything = all_gather_cat(x)
        perm = broadcast_(torch.randperm(everything.shape[0], device=x.device))
        mine = slice(rank() * n, (rank() + 1) * n)
        out = teacher(everything[perm[mine]], *args, **kwargs)
        inverse = torch.argsort(perm)
        return _map_tensors(out, lambda t: all_gather_cat(t)[inverse][mine])


class _GroupNormScheme(NormScheme):
    """Student and teacher without batch dependency: every BN becomes a group-wise norm."""

    def make_layer(self, name: str, bn: nn.Module) -> nn.Module:
        raise NotImplementedError

    def convert_student(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, self.make_layer)

    convert_teacher = convert_student


@register_scheme('gn')
class GN(_GroupNormScheme):
    """GN / GN: GroupNorm in student and teacher.

    Args:
        num_groups (int): groups per layer; must divide the channels of every
            BatchNorm layer it replaces. Default 32.
    """

    student_norm = 'gn'

    def __init__(self, num_groups: int = 32) -> None:
        if not isinstance(num_groups, int) or num_groups < 1:
            raise ConfigError(f'num_groups={num_groups!r} is not allowed; allowed: an integer >= 1')
        self.num_groups = num_groups

    def make_layer(self, name: str, bn: nn.Module) -> nn.Module:
        c = bn.num_features
        if c % self.num_groups:
            divisors = ', '.join(str(d) for d in range(1, c + 1) if c % d == 0)
            raise ConfigError(f'gn: num_groups={self.num_groups} does not divide the {c} channels '
                              f'of layer {name!r}; allowed: a common divisor of all norm layers '
                              f'(for this one: {divisors})')
        return copy_norm_state(bn, nn.GroupNorm(self.num_groups, c, bn.eps, bn.affine))


@register_scheme('in')
class IN(_GroupNormScheme):
    """IN / IN: instance norm in student and teacher (LayerNorm on (N, C) inputs,
    see :class:`~emanplug.core.norms.InstanceNorm`)."""

    student_norm = 'in'

    def make_layer(self, name: str, bn: nn.Module) -> nn.Module:
        return copy_norm_state(bn, InstanceNorm(bn.num_features, bn.eps, bn.affine))


@register_scheme('eman')
class EMANScheme(NormScheme):
    """BN / EMAN: the teacher normalises with EMAN layers (eq. 8) whose statistics are
    the EMA of the student's BN statistics (eq. 9).

    Args:
        momentum (float, optional): paper-convention momentum of the statistics;
            None (default) uses the parameter momentum, as in the paper. Table 8
            also tries 0.9 and 0.99999.
    """

    suffix_arg = 'momentum'

    def __init__(self, momentum: Optional[float] = None) -> None:
        self.momentum = None if momentum is None else check_momentum(momentum, 'eman momentum')

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, convert_to(EMAN))

    def buffer_momentum(self, momentum: float) -> Optional[float]:
        return momentum if self.momentum is None else self.momentum


@register_scheme('teacherpn')
class TeacherPNScheme(NormScheme):
    """BN / teacher PN(alpha): the teacher normalises with its own proxy statistics up
    to the previous iteration and updates them from the batch with BN momentum alpha.

    Args:
        alpha (float): paper-convention BN momentum (weight of the old statistics). Default 0.9.
    """

    suffix_arg = 'alpha'

    def __init__(self, alpha: float = 0.9) -> None:
        self.alpha = check_momentum(alpha, 'teacherpn alpha')

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        def make(name: str, bn: nn.Module) -> nn.Module:
            kwargs = dict(bn_kwargs(bn), momentum=to_torch_momentum(self.alpha))
            return copy_norm_state(bn, TeacherPN(**kwargs))
        return replace_batchnorms(module, make)


@register_scheme('studentpn')
class StudentPNScheme(NormScheme):
    """BN / student PN(alpha): the student's BN momentum is alpha, and the teacher
    normalises with a copy of the student's proxy statistics (EMAN with m = 0).

    Args:
        alpha (float): paper-convention BN momentum of the student. Default 0.9.
    """

    suffix_arg = 'alpha'

    def __init__(self, alpha: float = 0.9) -> None:
        self.alpha = check_momentum(alpha, 'studentpn alpha')

    def convert_student(self, module: nn.Module) -> nn.Module:
        module = super().convert_student(module)
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.momentum = to_torch_momentum(self.alpha)
        return module

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, convert_to(EMAN))

    def buffer_momentum(self, momentum: float) -> Optional[float]:
        return 0.0


@register_scheme('momentumbn')
class MomentumBNScheme(NormScheme):
    """BN / MomentumBN (Momentum^2 Teacher): the teacher normalises with
    ``w * batch + (1 - w) * running`` statistics, ``w`` decaying from 1 to 0 by
    cosine over training (:func:`~emanplug.core.norms.momentum_bn_weight`); the running
    statistics are fixed within an iteration and move once per iteration, from the mean of
    the iteration's batch statistics (:class:`~emanplug.core.norms.MomentumBN`)."""

    def convert_teacher(self, module: nn.Module) -> nn.Module:
        return replace_batchnorms(module, convert_to(MomentumBN))

    def set_progress(self, teacher: nn.Module, progress: float) -> None:
        weight = momentum_bn_weight(progress)
        for m in teacher.modules():
            if isinstance(m, MomentumBN):
                m.batch_weight = weight

    def end_iteration(self, teacher: nn.Module) -> None:
        for m in teacher.modules():
            if isinstance(m, MomentumBN):
                m.end_iteration()


_TOKEN = re.compile(r'(?:(?P<student>[a-z0-9]+)-)?(?P<name>[a-z]+)(?P<number>\d*\.?\d+)?')


def _allowed() -> str:
    return ', '.join(sorted(SCHEMES))


def _instantiate(cls: Type[NormScheme], kwargs: Dict[str, Any], what: str) -> NormScheme:
    params = [p for p in inspect.signature(cls.__init__).parameters if p != 'self']
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ConfigError(f'scheme {what!r} got unknown argument(s) {", ".join(unknown)}; '
                          f'allowed: {", ".join(params) or "none"}')
    return cls(**kwargs)


def build_scheme(spec: Union[str, dict, NormScheme, None]) -> NormScheme:
    """Build a scheme from a name, a ``'{student}-{teacher}{number}'`` token, a dict
    ``dict(type=name_or_token, **args)`` or an instance.

    Example:
        >>> build_scheme('bn-eman').token
        'bn-eman'
        >>> build_scheme('bn-teacherpn0.999').alpha
        0.999
        >>> build_scheme(dict(type='shufflebn', num_splits=4)).num_splits
        4
    """
    if isinstance(spec, NormScheme):
        return spec
    if isinstance(spec, dict):
        kwargs = dict(spec)
        kwargs.pop('_scope_', None)
        token = kwargs.pop('type', None)
    else:
        token, kwargs = spec, {}
    if not isinstance(token, str):
        raise ConfigError(f'scheme={spec!r} is not a scheme; allowed: one of {_allowed()}, '
                          "a token such as 'bn-eman', or dict(type=name, ...)")
    match = _TOKEN.fullmatch(token.strip().lower())
    cls = SCHEMES.get(match.group('name')) if match else None
    if cls is None:
        raise ConfigError(f'scheme={token!r} is unknown; allowed: {_allowed()} '
                          "(optionally as '{student}-{teacher}{number}', e.g. 'bn-eman0.9')")
    if match.group('student') and match.group('student') != cls.student_norm:
        raise ConfigError(f'scheme={token!r}: scheme {cls.name!r} uses student norm '
                          f'{cls.student_norm!r}, not {match.group("student")!r}; '
                          f'allowed: {cls.student_norm}-{cls.name}')
    if match.group('number'):
        if not cls.suffix_arg:
            raise ConfigError(f'scheme={token!r}: scheme {cls.name!r} takes no number; '
                              f'allowed: {cls.student_norm}-{cls.name}')
        kwargs.setdefault(cls.suffix_arg, float(match.group('number')))
    return _instantiate(cls, kwargs, token)
