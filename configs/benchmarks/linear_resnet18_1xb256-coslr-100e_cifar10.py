# Linear classification on the frozen backbone of a 200-epoch CIFAR-10 run (EMAN paper Sec. 5.2 at
# CIFAR scale; ResNet_CIFAR: the 3x3 stem of those recipes): SGD lr 10 without weight decay, cosine
# over 100 epochs, validated every 10 epochs.  Model and data are the CIFAR bases of the family
# benchmarks (../_base_/models/resnet18_linear_cifar.py, ../_base_/datasets/cifar10_labeled-subset.py);
# the paper's step schedule, learning-rate grids and label sets, for the CPU-budget runs, are in
# configs/{mocov2,byol}/benchmarks/ (emanplug-eval).  Set the checkpoint:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/<run>/epoch_200.pth
# the student by default; model.backbone.init_cfg.model=teacher takes the teacher (any checkpoint
# layout SelfSupPretrained reads: emanplug/models/pretrained.py).
# Main config of the linear_* / finetune_* rows beside it (they set the label split);
# on its own it trains the linear classifier on 100 % of the labels.
_base_ = [
    '../_base_/models/resnet18_linear_cifar.py',
    '../_base_/datasets/cifar10_labeled-subset.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(type='ResNet_CIFAR', init_cfg=dict(
    checkpoint='work_dirs/mocov2_resnet18_1xb256-coslr-200e_cifar10_bn-eman/epoch_200.pth')))
train_dataloader = dict(num_workers=4)
# SGD without weight decay on the linear head only (the backbone is frozen), cosine, 100 epochs.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=10.0, momentum=0.9, weight_decay=0.))
param_scheduler = dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
custom_hooks = []  # no teacher here
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1, save_best='auto'))
