"""Old import path of :class:`~emanplug.hooks.teacher_check.TeacherCheckHook`, the hook that
checks a run's teachers against eq. (1) / (9)."""
from .hooks.teacher_check import TeacherCheckHook

__all__ = ['TeacherCheckHook']
