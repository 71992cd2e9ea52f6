from .eman_hook import EMANHook, find_teachers
from .non_finite_guard import NonFiniteError, NonFiniteGuardHook

__all__ = ['EMANHook', 'find_teachers', 'NonFiniteGuardHook', 'NonFiniteError']
