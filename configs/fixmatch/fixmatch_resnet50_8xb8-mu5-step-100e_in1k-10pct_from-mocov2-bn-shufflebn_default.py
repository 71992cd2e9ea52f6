# Table 6: FixMatch, 10% labels, 1x schedule (100 epochs), backbone from MoCo v2 (bn-shufflebn) pre-training
_base_ = '../_base_/fixmatch_resnet50_in1k.py'
model = dict(scheme=None,
             backbone=dict(init_cfg=dict(type='Pretrained', prefix='backbone.',
                                         checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-shufflebn/epoch_200.pth')))
max_epochs = 100
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = []  # no teacher, nothing for EMANHook to update
