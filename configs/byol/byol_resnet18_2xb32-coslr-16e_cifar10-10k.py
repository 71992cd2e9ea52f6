# BYOL on CIFAR-10 at a CPU budget (the paper's Table 1 at small scale, see
# bench/table1_cifar10.sh): ResNet-18 with the ImageNet stem at 32 px (16x cheaper than the
# CIFAR stem), 10,000 training images, 2 processes x batch 32 (SyncBN and ShuffleBN need
# processes to differ from BN), 16 epochs = 2496 iterations (2 warm-up),
# m 0.99 -> 1 (cosine), kNN (k=200) every 4 epochs; a BYOL step costs ~2x a MoCo step (two
# symmetric views; docs/bench/step_time.md).
# The predictor learns at 10x the learning rate (cf. SimSiam's undecayed predictor rate): with
# one learning rate for all, BYOL barely left the untrained network at this budget.
# Measured results: docs/results/README.md (generated from the run records).
# Main config of its family (rows: byol_resnet18_2xb32-coslr-16e_cifar10-10k_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/cifar10_ssl_cpu-budget.py',
    '../_base_/schedules/sgd_coslr-16e_cpu-budget.py',
    '../_base_/default_runtime.py',
    '../_base_/models/byol_resnet18_cifar.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}},
             backbone=dict(_delete_=True, type='ResNet', depth=18, norm_cfg=dict(type='BN'),
                           zero_init_residual=False))
# TeacherDiagnosticsHook only measures (statistics gap, output spread every 100 iterations)
custom_hooks = [dict(type='EMANHook'), dict(type='TeacherDiagnosticsHook', interval=100),
                {{_base_.knn_hook}}]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=1, max_keep_ckpts=1))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.predictor': dict(lr_mult=10.0)}))
