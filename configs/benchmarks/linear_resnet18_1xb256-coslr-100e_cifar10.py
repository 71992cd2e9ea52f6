# Linear classification on the frozen backbone of a self-supervised run (EMAN paper, Sec. 5.2),
# CIFAR-10, labels from a split file (1 % / 10 %) or all of them.  Set the checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_200.pth
# prefix 'backbone.' = the student of a MoCo/BYOL/FixMatch run, 'teacher.module.backbone.' = its teacher.
# Main config of the linear_* / finetune_* rows beside it (they set the label split);
# on its own it trains the linear classifier on 100 % of the labels.
_base_ = ['../_base_/default_runtime.py']
data_root = 'data/cifar10/'
split_file = None  # None: 100 % of the labels
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[125.307, 122.961, 113.8575],
                           std=[51.5865, 50.847, 51.255], to_rgb=True),
    backbone=dict(type='ResNet_CIFAR', depth=18, frozen_stages=4, norm_eval=True,
                  init_cfg=dict(type='Pretrained', prefix='backbone.',
                                checkpoint='work_dirs/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman/epoch_200.pth')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512, loss=dict(type='CrossEntropyLoss')))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=256, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='LabeledSubset', split_file=split_file,
                 dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train',
                              pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=512, num_workers=2, sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='test', pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
# SGD without weight decay on the linear head only (the backbone is frozen), cosine, 100 epochs.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=10.0, momentum=0.9, weight_decay=0.))
param_scheduler = dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
custom_hooks = []  # no teacher here
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1, save_best='auto'))
