# The CPU-budget schedule of bench/table1_cifar10.sh: SGD lr 0.03 (global batch 64), 16 epochs
# of 10,000 images (2496 iterations) with 2 linear warm-up epochs, then cosine decay.
# (4 epochs left MoCo BN/BN's kNN accuracy 3 points above the untrained network's: too short.)
_base_ = './sgd_coslr_warmup.py'
max_epochs = 16
warmup_epochs = 2
optim_wrapper = dict(optimizer=dict(lr=0.03, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
