# Table 6: FixMatch-EMAN (BN / EMAN), 1% labels, 3x schedule, initialised from MoCo-EMAN
# (the student backbone of mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman; lr 0.003, Sec. 5.3)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-150e_in1k-1pct.py'
model = dict(scheme=dict(type='bn-eman'), backbone=dict(init_cfg=dict(
    type='Pretrained', prefix='backbone.', checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/epoch_200.pth')))
optim_wrapper = dict(optimizer=dict(lr=0.003))
