# FixMatch, ResNet-50, ImageNet 10 % labels, 8 GPUs x (8 labeled + 40 unlabeled): 64 + 320 per
# batch, 100 epochs: Tables 1 and 8, and the 1x 10 % rows of Table 6.  The official code's
# command (README of amazon-science/exponential-moving-average-normalization: main_fixmatch.py
# --eman --lr 0.03 --epochs 100 --schedule 60 80 --warmup-epoch 5) with its defaults:
# SGD lr 0.03 momentum 0.9 without Nesterov, wd 1e-4, 5 linear warm-up epochs, lr / 10 at epochs
# 60 and 80, threshold 0.7, lambda_u 10 (--lambda-u default; the paper does not state it),
# mu 5, teacher m 0.999, strong view RandAugment(2, 10) with random levels and no Cutout.
# An epoch is one pass over the unlabeled images.  The number reported (and the best checkpoint)
# is the student's top-1, evaluated every epoch, as the official main_fixmatch.py does; the
# teacher's is logged too (teacher/top1).
# Provenance of every value: configs/fixmatch/README.md and metafile.yml.
# Main config of its family (rows: fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct_{scheme}.py,
# which change only the scheme, or the initialisation); on its own it trains with the family's
# default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/imagenet_semisup.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='FixMatch',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.999,
    threshold=0.7,
    unsup_weight=10.0,
    eval_with='student',
    data_preprocessor=dict(type='SemiSupDataPreprocessor', mean={{_base_.mean}}, std={{_base_.std}}),
    # zero_init_residual=False: the last BN of every block starts at 1, as the official
    # backbone/resnet.py (mmpretrain's default is True); every row of this folder inherits it
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    # init_cfg None: PyTorch's default init of the classifier, as the official nn.Linear
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048,
              loss=dict(type='CrossEntropyLoss'), init_cfg=None))
max_epochs = 100
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
    type='SGD', lr=0.03, momentum=0.9, nesterov=False, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2,
                                     save_best='auto'))
auto_scale_lr = dict(base_batch_size=64)
