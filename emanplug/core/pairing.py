"""Which teacher tensor follows which student tensor in the EMA update (plain PyTorch).

Tensors are paired by name; the unzipped lists are cached and rebuilt only when the structure
of teacher or student changed, which is checked by identity (~0.1 ms on a ResNet-50, against
~1.2 ms for matching the pairs by name).
"""
from operator import attrgetter, is_, ne
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from ..errors import ConfigError

Pairs = List[Tuple[torch.Tensor, torch.Tensor]]


def pair_tensors(teacher: nn.Module, student: nn.Module) -> Tuple[Pairs, Pairs, Pairs]:
    """``(params, float_buffers, other_buffers)``: (teacher, student) pairs matched by name.

    Every teacher parameter needs a student parameter of the same name and shape (a
    ConfigError otherwise); buffers are paired only where the teacher has a buffer of the
    same name and shape (a GroupNorm teacher has none).
    """
    student_params = dict(student.named_parameters())
    params = []
    for name, t in teacher.named_parameters():
        if name not in student_params or student_params[name].shape != t.shape:
            raise ConfigError(f'teacher parameter {name!r} has no student counterpart; '
                              'the student changed its structure after the teacher was built')
        params.append((t, student_params[name]))
    student_buffers = dict(student.named_buffers())
    floats, others = [], []
    for name, t in teacher.named_buffers():
        s = student_buffers.get(name)
        if s is None or s.shape != t.shape:
            continue
        (floats if t.is_floating_point() else others).append((t, s))
    return params, floats, others


def unzip(pairs: Pairs) -> Tuple[list, list]:
    """``([teacher tensors], [student tensors])``."""
    return [t for t, _ in pairs], [s for _, s in pairs]


def _snapshot(*roots: nn.Module) -> List[Tuple[dict, tuple]]:
    """Every non-empty ``_modules`` / ``_parameters`` / ``_buffers`` dict under ``roots`` with
    its values: if any of them changes (a module replaced, e.g. by a SyncBN conversion, a
    tensor reassigned or moved), pairs cached from them are stale."""
    out = []
    for root in roots:
        for m in root.modules():
            for d in (m._modules, m._parameters, m._buffers):
                if d:
                    out.append((d, tuple(d.values())))
    return out


class TensorPairs:
    """The cached, unzipped tensor pairs of a teacher and its student.

    :meth:`lists` returns a dict of ``(teacher tensors, student tensors)`` lists: ``params``,
    ``floats`` (floating buffers), ``others`` (integer buffers), ``both`` (params + floats),
    and ``teacher_floats`` (every floating buffer of the teacher).  Copies (``copy.deepcopy``,
    pickling) start without a cache.

    Example:
        >>> pairs = TensorPairs()
        >>> teacher_params, student_params = pairs.lists(teacher, student)['params']
    """

    def __init__(self) -> None:
        self._cache: Optional[dict] = None

    def clear(self) -> None:
        """Forget the cached pairs (a module's tensors were moved or replaced)."""
        self._cache = None

    def lists(self, teacher: nn.Module, student: nn.Module) -> Dict[str, object]:
        cache = self._cache
        if cache is not None and all(map(is_, cache['roots'], (teacher, student))) and all(
                len(d) == len(v) and all(map(is_, d.values(), v)) for d, v in cache['snapshot']):
            return cache
        params, floats, others = pair_tensors(teacher, student)
        self._cache = cache = dict(
            params=unzip(params), floats=unzip(floats), others=unzip(others),
            both=unzip(params + floats),
            teacher_floats=[b for b in teacher.buffers() if b.is_floating_point()],
            roots=(teacher, student), snapshot=_snapshot(teacher, student))
        return cache

    def __getstate__(self) -> dict:
        return {'_cache': None}  # copies rebuild their own pairs


_dtype = attrgetter('dtype')


def in_teacher_dtypes(teacher: list, student: list) -> Tuple[list, list]:
    """``(teacher, student)`` with student tensors of another dtype than their teacher tensor
    (a ``.half()``-ed student) cast to it.  Checked at every update (~40 us for ResNet-50's
    267 pairs): ``.half()`` changes a parameter's dtype in place, which the cache cannot see."""
    if not any(map(ne, map(_dtype, teacher), map(_dtype, student))):
        return teacher, student
    return teacher, [s if s.dtype == t.dtype else s.to(t.dtype) for t, s in zip(teacher, student)]
