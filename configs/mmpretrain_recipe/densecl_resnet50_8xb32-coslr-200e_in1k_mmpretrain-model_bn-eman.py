# mmpretrain's own DenseCL (model and config unchanged) with an EMAN teacher: the hook turns the
# model's teacher (encoder_k, ExponentialMovingAverage(momentum=0.001) -> paper m = 0.999,
# constant) into an emanplug EMA teacher of the scheme before training starts.
_base_ = 'mmpretrain::densecl/densecl_resnet50_8xb32-coslr-200e_in1k.py'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
custom_hooks = [dict(type='EMANTeacherHook', scheme='bn-eman')]
