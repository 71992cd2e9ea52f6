# mmpretrain's own MoCoV3 (model and config unchanged) with an EMAN teacher: the hook turns the
# model's teacher (momentum_encoder, CosineEMA(momentum=0.01) -> paper m_0 = 0.99, cosine to 1)
# into an emanplug EMA teacher of the scheme before training starts.
_base_ = 'mmpretrain::mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)
custom_hooks = [dict(type='EMANTeacherHook', scheme='bn-eman')]
