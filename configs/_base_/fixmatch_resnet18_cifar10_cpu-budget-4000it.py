# FixMatch on CIFAR-10 (4000 labels), twice the 2000-iteration budget: 4000 iterations of 32
# labeled + 64 unlabeled images (mu 2). At 2000 iterations the teacher's pseudo-labels pass the
# threshold only in the last third (mask rate 0 until ~600, 0.16-0.30 after 1000) and the final
# accuracies tie with supervised training; here the unlabeled loss acts for longer while the
# 4000 labels alone start to overfit. ~40 minutes (EMAN teacher) on 2 cores.
_base_ = './fixmatch_resnet18_cifar10_cpu-budget-2000it.py'
max_iters = 4000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', T_max=max_iters - 100, by_epoch=False, begin=100, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
