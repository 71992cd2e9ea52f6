# mmpretrain's own MoCo v2 config, switched to an EMAN teacher by emanplug.
# These lines are the whole recipe (see README, "Add EMAN to an existing mmpretrain config").
_base_ = 'mmpretrain::mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
# EMAMoCo takes every argument of mmpretrain's MoCo; its inherited momentum=0.001
# (mmengine convention, weight of the new value) is read as the paper's m = 0.999.
model = dict(type='EMAMoCo', scheme='bn-eman')
custom_hooks = [dict(type='EMANHook')]
