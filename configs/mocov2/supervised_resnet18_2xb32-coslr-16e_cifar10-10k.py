# The ceiling of the self-supervised rows of bench/table1_cifar10.sh: the same ResNet-18,
# images, batch, epochs and kNN monitor as the MoCo / BYOL CPU-budget configs, trained with
# the labels (cross-entropy on one weakly augmented view).  Its kNN accuracy is what the
# same budget reaches with full supervision.
_base_ = [
    '../_base_/datasets/cifar10_ssl_cpu-budget.py',
    '../_base_/schedules/sgd_coslr-16e_cpu-budget.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                           std={{_base_.data_preprocessor.std}}, to_rgb=True),
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512,
              loss=dict(type='CrossEntropyLoss')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=32, padding=4, padding_mode='reflect'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
custom_hooks = [{{_base_.knn_hook}}]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
