"""Importing this module registers emanplug's OpenMMLab adapters and applies the stack fixes
(:func:`emanplug.registry.register_all_modules`).  ``import emanplug`` makes it an import
location of mmengine's root registries and of mmpretrain's, and the ``emanplug`` scope's
registries have it as theirs: mmengine imports it at a registry's first look-up, so a program
that imported emanplug before mmengine and mmpretrain still finds ``EMAN``, ``EMANHook``, ...
"""
from .registry import register_all_modules

register_all_modules()
