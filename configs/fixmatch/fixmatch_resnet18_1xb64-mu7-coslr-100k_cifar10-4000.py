# FixMatch, CIFAR ResNet-18, CIFAR-10 with 4000 labels, labeled batch 64, mu 7 (448 unlabeled),
# threshold 0.95, lambda_u 1, SGD lr 0.03 (Nesterov, wd 5e-4), cosine, 1 GPU.
# Main config of its family (rows: fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-{4000,250}_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/cifar10_semisup.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='FixMatch',
    scheme=dict(type='bn-eman'),  # None = FixMatch's default (one model, views concatenated)
    teacher_momentum=0.999,
    threshold=0.95,
    unsup_weight=1.0,
    data_preprocessor=dict(type='SemiSupDataPreprocessor', mean={{_base_.mean}}, std={{_base_.std}}),
    # zero_init_residual=False: the last BN of every block starts at 1, as in the EMAN code's
    # ResNet (mmpretrain's default is True); every FixMatch config of this folder inherits it
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512,
              loss=dict(type='CrossEntropyLoss')))
max_iters = 100000
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
    type='SGD', lr=0.03, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=2000),
    dict(type='CosineAnnealingLR', T_max=max_iters - 2000, by_epoch=False, begin=2000, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5000)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=5000, by_epoch=False, max_keep_ckpts=2,
                    save_best='auto'))
log_processor = dict(by_epoch=False)
