"""The student side of an EMA teacher: finding the plain module inside wrappers and giving it
the scheme's normalisation before its optimizer is built (plain PyTorch)."""
import sys
from typing import List, Optional, Union

import torch.nn as nn

from ..errors import ConfigError
from .schemes import NormScheme, build_scheme

#: The attribute of a prepared student that holds the scheme object it was prepared with.
PREPARED = '_emanplug_scheme'


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
    explicit step that comes first, and :class:`~emanplug.core.teacher.EMATeacher` refuses a
    student that did not go through it.  The student is converted in place and returned; it
    keeps the scheme object (:func:`prepared_scheme`), which its teacher then shares.

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
    setattr(module, PREPARED, scheme)
    return student


def prepared_scheme(student: nn.Module) -> Optional[NormScheme]:
    """The scheme object ``student`` (or the module inside its wrappers) was prepared with by
    :func:`prepare_student`, or None."""
    return getattr(unwrap_module(student), PREPARED, None)


def scheme_of_student(student: nn.Module, scheme: Union[str, dict, NormScheme]) -> NormScheme:
    """The scheme object of a student prepared for ``scheme`` (the one object that both share);
    a one-line ConfigError when the student was not prepared, or prepared for another scheme."""
    prepared = prepared_scheme(student)
    wanted = scheme if scheme is prepared else build_scheme(scheme)
    if prepared is not None and wanted == prepared:
        return prepared
    found = f' (it was prepared for {prepared.token!r})' if prepared is not None else ''
    raise ConfigError(f'EMATeacher: the student is not prepared for scheme {wanted.token!r}'
                      f'{found}; allowed: call student = prepare_student(student, '
                      f'{wanted.token!r}) before building its optimizer and the teacher')
