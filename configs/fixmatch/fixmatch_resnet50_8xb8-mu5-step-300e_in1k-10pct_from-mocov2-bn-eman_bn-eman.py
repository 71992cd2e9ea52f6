# Table 6: FixMatch-EMAN, 10% labels, 3x schedule, backbone from MoCo v2 (bn-eman)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-300e_in1k-10pct.py'
model = dict(scheme=dict(type='bn-eman'), backbone=dict(init_cfg=dict(
    type='Pretrained', prefix='backbone.', checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/epoch_200.pth')))
