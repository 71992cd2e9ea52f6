# MoCo v2, ResNet-50, ImageNet, 8 GPUs x 32 images, 200 epochs: the paper's Table 2 runs, with
# the official code's 200-epoch command (README of amazon-science/exponential-moving-average-
# normalization: main_moco.py --epochs 200 --warmup-epoch 10 --moco-t 0.2 --cos):
# SGD lr 0.03 (batch 256) momentum 0.9 wd 1e-4, 10 linear warm-up epochs then cosine to 0
# (per epoch), queue 65536, T 0.2, m 0.999, MoCo v2 augmentations.
# Provenance of every value: configs/mocov2/README.md and metafile.yml (tests/test_metafiles.py
# checks that they agree with this file).
# Data: mmpretrain's ImageNet layout under data/imagenet/ (meta/train.txt, train/).
# Main config of its family (rows: mocov2_resnet50_8xb32-coslr-200e_in1k_{scheme}.py, the two
# rows of Table 2); on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
    '../_base_/models/mocov2_resnet50.py',
]
train_dataloader = dict(batch_size=32)  # per GPU; 8 GPUs -> 256
max_epochs = 200
warmup_epochs = 10
param_scheduler = [
    # linear warm-up per iteration, then the official cosine, set at the start of each epoch
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=10, max_keep_ckpts=3))
