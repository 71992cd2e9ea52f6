from .cpu_share import CPUShare, CPUShareHook
from .eman_hook import EMANHook, find_teachers
from .eman_teacher_hook import EMANTeacherHook
from .non_finite_guard import NonFiniteError, NonFiniteGuardHook
from .teacher_check import TeacherCheckHook
from .teacher_diagnostics import TeacherDiagnosticsHook
from .warm_start import WarmStartHook, student_views

__all__ = ['EMANHook', 'EMANTeacherHook', 'find_teachers', 'NonFiniteGuardHook', 'NonFiniteError',
           'WarmStartHook', 'student_views', 'TeacherDiagnosticsHook', 'CPUShare',
           'CPUShareHook', 'TeacherCheckHook']
