# FixMatch on CIFAR-10 (4000 labels), a longer CPU budget: 2000 iterations of 32 labeled + 64
# unlabeled images (mu 2), so that the teacher has time to become confident enough for its
# pseudo-labels to pass the threshold (measurements: run records, docs/results/runs/).
# Main config of its family (rows: fixmatch_resnet18_1xb32-mu2-coslr-2000it_cifar10-4000_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = './fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000.py'
train_dataloader = dict(dataset=dict(mu=2))
max_iters = 2000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_iters - 100, by_epoch=False, begin=100, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=1, save_best='auto'))
