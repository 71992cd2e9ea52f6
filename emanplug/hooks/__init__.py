from .eman_hook import EMANHook, find_teachers

__all__ = ['EMANHook', 'find_teachers']
