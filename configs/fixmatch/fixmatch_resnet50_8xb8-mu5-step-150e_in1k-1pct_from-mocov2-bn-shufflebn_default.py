# Table 6: FixMatch, 1% labels, 3x schedule (150 epochs), backbone from MoCo v2 (bn-shufflebn) pre-training
_base_ = '../_base_/fixmatch_resnet50_in1k.py'
model = dict(scheme=None,
             backbone=dict(init_cfg=dict(type='Pretrained', prefix='backbone.',
                                         checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-shufflebn/epoch_200.pth')))
max_epochs = 150
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[90, 120], gamma=0.1),
]
train_cfg = dict(max_epochs=max_epochs)
train_dataloader = dict(dataset=dict(split_file='data/imagenet/splits/1percent.txt'))
custom_hooks = []  # no teacher, nothing for EMANHook to update
