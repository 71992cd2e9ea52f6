from .eman_hook import EMANHook, find_teachers
from .eman_teacher_hook import EMANTeacherHook
from .non_finite_guard import NonFiniteError, NonFiniteGuardHook

__all__ = ['EMANHook', 'EMANTeacherHook', 'find_teachers', 'NonFiniteGuardHook', 'NonFiniteError']
