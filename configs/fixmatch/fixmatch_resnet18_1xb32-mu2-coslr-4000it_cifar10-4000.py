# FixMatch on CIFAR-10 (4000 labels), twice the 2000-iteration budget: 4000 iterations of 32
# labeled + 64 unlabeled images (mu 2), so that the unlabeled loss acts for longer while the
# 4000 labels alone start to overfit (measurements: run records, docs/results/runs/).
# Main config of its family (rows: fixmatch_resnet18_1xb32-mu2-coslr-4000it_cifar10-4000_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = './fixmatch_resnet18_1xb32-mu2-coslr-2000it_cifar10-4000.py'
max_iters = 4000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_iters - 100, by_epoch=False, begin=100, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
