# Linear classification on CIFAR-10 (100 % of the labels) of a frozen MoCo v2 ResNet-18 pretrained on
# CIFAR-10: the ImageNet protocol of resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k.py (SGD
# momentum 0.9 without weight decay, 50 epochs, lr / 10 at 30 and 40) at
# CIFAR scale: batch 256 on one process, validated every 10 epochs (a CPU budget; the best of
# those is reported), learning rates {0.003, 0.01, 0.03}: the paper's ImageNet grids diverge on these
# features (lr 15: the loss climbs to ~1000; measured values: metafile.yml).  Data and augmentation: ../../_base_/datasets/cifar10_labeled-subset.py.
# Initialisation: the student of the CPU-budget BN/EMAN run (mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman,
# docs/results/runs/); --cfg-options model.backbone.init_cfg.checkpoint=PATH / .model=teacher.
# Main config of the CIFAR-10 linear rows (-1pct, -10pct).
_base_ = [
    '../../_base_/models/resnet18_linear_cifar.py',
    '../../_base_/datasets/cifar10_labeled-subset.py',
    '../../_base_/schedules/sgd_steplr-50e.py',
]
model = dict(backbone=dict(init_cfg=dict(checkpoint='work_dirs/mocov2_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman/epoch_16.pth', model='student')))
optim_wrapper = dict(optimizer=dict(lr=0.01))
lr_grid = dict(key='optim_wrapper.optimizer.lr', values=[0.003, 0.01, 0.03])
train_cfg = dict(val_interval=10)
default_hooks = dict(logger=dict(interval=20))
