# MoCo v2, ResNet-50 of 2x width, ImageNet, 8 GPUs x 32 images, 200 epochs: Table 2's "(2x)"
# rows.  Every layer twice as wide as ResNet-50 (the official resnet50w2x_encoder,
# width_multiplier=2: stem 128 channels, 4096-d features), the MLP head 4096 -> 4096 -> 128
# (its hidden width is the feature width in models/moco.py); otherwise the 200-epoch recipe it
# inherits (the official code publishes no 2x command).
# Provenance of every value: configs/mocov2/README.md and metafile.yml.
# Main config of its family (rows: mocov2_resnet50-w2_8xb32-coslr-200e_in1k_{scheme}.py);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = './mocov2_resnet50_8xb32-coslr-200e_in1k.py'
model = dict(backbone=dict(stem_channels=128, base_channels=128),
             neck=dict(in_channels=4096, hid_channels=4096))
