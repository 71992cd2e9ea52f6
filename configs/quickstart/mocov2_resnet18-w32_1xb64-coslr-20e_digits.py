# The quickstart experiment: MoCo v2 on scikit-learn's digits, a half-width CIFAR
# ResNet-18 at 16 px, sized to train in ~2.5 minutes on 2 CPU cores (19 iters/epoch).
# Main config of its family (rows: mocov2_resnet18-w32_1xb64-coslr-20e_digits_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/digits_ssl.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='EMAMoCo',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.99,
    # K = 4 batches: the train split has only 1,258 images, and a longer queue holds
    # keys of the query's own image from the previous epoch (false negatives).
    queue_len=256,
    feat_dim=64,
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=32, base_channels=32,
                  norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=256, hid_channels=256, out_channels=64,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
max_epochs = 20
warmup_epochs = 2
# lr 0.015 for batch 64 (MoCo's 0.03 per 256, doubled).  lr >= 0.03 drives this model to
# the collapse loss log(K+1) within a few hundred iterations; lr 0.01 learns too slowly
# for the budget.
optim_wrapper = dict(optimizer=dict(lr=0.015, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
custom_hooks = [dict(type='EMANHook'), {{_base_.knn_hook}}]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))
