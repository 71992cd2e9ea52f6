# FixMatch on CIFAR-10 (4000 labels) with a half-width ResNet-18 (ImageNet stem, 32 and 256
# channels, 2.8 M parameters): a training step costs about half the full width's on CPU cores,
# which buys iterations: 8000 of 32 labeled + 64 unlabeled images (mu 2), 64 passes over the
# 4000 labels, so that the unlabeled loss has time to act after supervised accuracy flattens.
# Measured accuracies and times live in the run records (docs/results/runs/), not here.
# The schedule block is re-declared: a base file's values are fixed when it loads, so the
# 2000-it base's scheduler cannot follow this file's max_iters.
# Main config of its family (rows: fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = './fixmatch_resnet18_1xb32-mu2-coslr-2000it_cifar10-4000.py'
model = dict(backbone=dict(stem_channels=32, base_channels=32), head=dict(in_channels=256))
max_iters = 8000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_iters - 100, by_epoch=False, begin=100, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000, max_keep_ckpts=1, save_best='auto'))
