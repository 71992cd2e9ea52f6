# FixMatch, ResNet-50, ImageNet, 8 GPUs x (8 labeled + 40 unlabeled): 64 + 320 per batch, the paper's
# settings: SGD lr 0.03, threshold 0.7, lambda_u 1,
# 5 warm-up epochs,
# lr divided by 10 at 60% and 80% of training.  Epoch = one pass over the unlabeled images.
# Main config of its family (rows: fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/imagenet_semisup.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='FixMatch',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.999,
    threshold=0.7,
    unsup_weight=1.0,
    data_preprocessor=dict(type='SemiSupDataPreprocessor', mean={{_base_.mean}}, std={{_base_.std}}),
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048,
              loss=dict(type='CrossEntropyLoss')))
max_epochs = 100
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
    type='SGD', lr=0.03, momentum=0.9, nesterov=True, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2,
                                     save_best='auto'))
auto_scale_lr = dict(base_batch_size=64)
