# mmpretrain's own BYOL (model and config unchanged) with an EMAN teacher: the hook turns the
# model's teacher (target_net, CosineEMA(momentum=0.01) -> paper m_0 = 0.99, cosine to 1) into
# an emanplug EMA teacher of the scheme before training starts.
_base_ = 'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
custom_hooks = [dict(type='EMANTeacherHook', scheme='bn-eman')]
