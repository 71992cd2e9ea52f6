"""Momentum conventions and schedules.

**Convention used everywhere in emanplug's public API: the paper's** ``m``, the
weight of the *old* teacher value::

    teacher := m * teacher + (1 - m) * student          (eq. 1 and 9 of EMAN)

so ``m = 0.999`` is a slow teacher.  PyTorch's BatchNorm ``momentum`` and
mmengine's ``ExponentialMovingAverage(momentum=...)`` weight the *new* value
instead; :func:`to_torch_momentum` / :func:`from_torch_momentum` are the only
places where emanplug converts between the two.
"""
import math
from typing import Callable, Dict, Optional

from ..errors import ConfigError


def check_momentum(value: float, key: str = 'momentum') -> float:
    """Return ``value`` as a float if it lies in [0, 1]; raise ConfigError otherwise."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f'{key}={value!r} is not a number; allowed: a float in [0, 1] '
                          '(paper convention: weight of the old value, e.g. 0.999)') from None
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ConfigError(f'{key}={value} is outside [0, 1]; allowed: a float in [0, 1] '
                          '(paper convention: weight of the old value, e.g. 0.999)')
    return value


def to_torch_momentum(m: float) -> float:
    """Paper momentum (weight of the old value) -> PyTorch/mmengine momentum (weight of the new)."""
    return 1.0 - check_momentum(m)


def from_torch_momentum(momentum: float) -> float:
    """PyTorch/mmengine momentum (weight of the new value) -> paper momentum (weight of the old)."""
    return 1.0 - check_momentum(momentum)


def constant_momentum(base: float, step: int, total: int) -> float:
    """``m_k = m_0`` for every step (MoCo, FixMatch)."""
    return base


def cosine_momentum(base: float, step: int, total: int) -> float:
    """BYOL's schedule ``m_k = 1 - (1 - m_0) * (cos(pi * k / K) + 1) / 2``.

    It starts at ``m_0`` (k = 0) and reaches 1 at k = K.

    Example:
        >>> cosine_momentum(0.99, 0, 100), cosine_momentum(0.99, 100, 100)
        (0.99, 1.0)
    """
    if total <= 0:
        return base
    k = min(max(step, 0), total)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * k / total) + 1.0) / 2.0


MOMENTUM_SCHEDULES: Dict[str, Callable[[float, int, int], float]] = {
    'constant': constant_momentum,
    'cosine': cosine_momentum,
}


def get_schedule(name: str) -> Callable[[float, int, int], float]:
    """Look up a momentum schedule by name ('constant' or 'cosine')."""
    try:
        return MOMENTUM_SCHEDULES[name]
    except (KeyError, TypeError):
        raise ConfigError(f'momentum_schedule={name!r} is unknown; allowed: '
                          f'{", ".join(sorted(MOMENTUM_SCHEDULES))}') from None


class MomentumSchedule:
    """The teacher's parameter momentum at each step: a base ``m_0`` (paper convention) and a
    named schedule, both checked once here, so that a training loop can ask at every step
    without checks (like timm's decay warm-up in ``ModelEmaV3.get_decay``).

    Args:
        base (float): ``m_0``, the weight of the old value, in [0, 1]. Default 0.999.
        name (str): 'constant' (MoCo, FixMatch) or 'cosine' (BYOL). Default 'constant'.

    Example:
        >>> schedule = MomentumSchedule(0.99, 'cosine')
        >>> schedule(0, 100), schedule(100, 100)
        (0.99, 1.0)
    """

    def __init__(self, base: float = 0.999, name: str = 'constant') -> None:
        self._momentum_at = get_schedule(name)
        self.base = check_momentum(base)
        self.name = name

    def __call__(self, step: Optional[int], total: Optional[int]) -> float:
        """The momentum after ``step`` of ``total`` steps (the base for ``step=None``)."""
        return self.base if step is None else self._momentum_at(self.base, step, total)

    def replace(self, base: Optional[float] = None, name: Optional[str] = None) -> 'MomentumSchedule':
        """A schedule with ``base`` and/or ``name`` changed (None keeps the current one)."""
        return MomentumSchedule(self.base if base is None else base, name or self.name)

    def __repr__(self) -> str:
        return f'MomentumSchedule(base={self.base}, name={self.name!r})'
