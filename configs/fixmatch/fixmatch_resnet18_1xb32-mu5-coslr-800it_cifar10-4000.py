# FixMatch on CIFAR-10 (4000 labels) at a CPU budget: 800 iterations of 32 labeled + 160
# unlabeled images (mu 5), threshold 0.8, teacher momentum 0.99.
# The short schedule is why the threshold and momentum are lower than FixMatch's 0.95 / 0.999.
# Main config of its family (rows: fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = './fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py'
# ResNet-18 with the ImageNet stem (stride 4) at 32 px: 16x cheaper than the CIFAR stem.
model = dict(threshold=0.8, teacher_momentum=0.99, backbone=dict(type='ResNet', depth=18))
train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(mu=5))
val_dataloader = dict(batch_size=500, num_workers=2)
test_dataloader = val_dataloader
max_iters = 800
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_iters - 50, by_epoch=False, begin=50, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20),
                     checkpoint=dict(interval=max_iters, save_best='auto'))
