# Table 6: FixMatch, 1% labels, 1x schedule, backbone from MoCo v2 (bn-shufflebn)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-50e_in1k-1pct.py'
model = dict(scheme=None, backbone=dict(init_cfg=dict(
    type='Pretrained', prefix='backbone.', checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-shufflebn/epoch_200.pth')))
custom_hooks = []  # no teacher, nothing for EMANHook to update
