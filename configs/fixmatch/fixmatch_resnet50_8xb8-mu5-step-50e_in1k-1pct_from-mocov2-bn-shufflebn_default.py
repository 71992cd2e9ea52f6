# Table 6: FixMatch baseline (one model), 1% labels, 1x schedule, initialised from MoCo
# (the student backbone of mocov2_resnet50_8xb32-coslr-200e_in1k_bn-shufflebn; lr 0.003, Sec. 5.3)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-50e_in1k-1pct.py'
model = dict(scheme=None, backbone=dict(init_cfg=dict(
    type='Pretrained', prefix='backbone.', checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-shufflebn/epoch_200.pth')))
optim_wrapper = dict(optimizer=dict(lr=0.003))
custom_hooks = []  # no teacher, nothing for EMANHook to update
