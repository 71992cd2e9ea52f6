# BYOL, ResNet-50, ImageNet, 8 GPUs x 64 images, 200 epochs: the paper's Table 2 runs, with the
# official code's 200-epoch command (README of amazon-science/exponential-moving-average-
# normalization: main_byol.py --lr 1.8 -b 512 --wd 0.000001 --byol-m 0.98 --epochs 200 --cos
# --warmup-epoch 10).  The paper (Sec. 5) states lr 0.9 for batch 512; the command that produced
# the released BYOL-EMAN model (its numbers are Table 2's) uses 1.8, which this file follows.
# LARS (eta 0.001; the official selection excluded from weight decay and adaptation), 10 linear warm-up
# epochs then cosine to 0 (per epoch), m_0 0.98 annealed to 1 (cosine, per iteration), the
# official get_byol_tranforms (RandomResizedCrop scale 0.2-1, bilinear).
# Provenance of every value: configs/byol/README.md and metafile.yml.
# Main config of its family (rows: byol_resnet50_8xb64-coslr-200e_in1k_{scheme}.py, the two rows
# of Table 2); on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_byol.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
    '../_base_/models/byol_resnet50.py',
]
crop_flip = [
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.), interpolation='bilinear',
         backend='pillow'),
    dict(type='RandomFlip', prob=0.5),
]
color = [
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
]
view_pipeline1 = crop_flip + color + [
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=1.),
    dict(type='Solarize', thr=128, prob=0.),
]
view_pipeline2 = crop_flip + color + [
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[view_pipeline1, view_pipeline2]),
    dict(type='PackInputs'),
]
# per GPU; 8 GPUs -> 512
train_dataloader = dict(batch_size=64, drop_last=True, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='LARS', lr=1.8, momentum=0.9, weight_decay=1e-6, eta=0.001),
    # The official main_byol.py collect_params excludes a parameter whose name contains 'bn',
    # 'downsample.1' or 'bias'.  On its modules that is every BN parameter of the backbone and
    # every bias, but not the BN weights of the projector and predictor: its MLP names that BN
    # 'mlp.1'.  mmpretrain names it 'bn0', so those two weights are put back (a longer key wins).
    paramwise_cfg=dict(custom_keys={
        'bn': dict(decay_mult=0, lars_exclude=True),
        'bias': dict(decay_mult=0, lars_exclude=True),
        'downsample.1': dict(decay_mult=0, lars_exclude=True),
        'neck.bn0.weight': dict(decay_mult=1, lars_exclude=False),
        'predictor.bn0.weight': dict(decay_mult=1, lars_exclude=False),
    }))
max_epochs = 200
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=10, max_keep_ckpts=3))
