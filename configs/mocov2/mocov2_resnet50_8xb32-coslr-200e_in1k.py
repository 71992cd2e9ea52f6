# MoCo v2, ResNet-50, ImageNet, 8 GPUs x 32 images, 200 epochs, the EMAN paper's settings:
# SGD lr 0.03 (batch 256), cosine, 5 warm-up epochs, queue 65536, T 0.2, m 0.999.
# Data: mmpretrain's ImageNet layout under data/imagenet/ (meta/train.txt, train/).
# Main config of its family (rows: mocov2_resnet50_8xb32-coslr-200e_in1k_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_mocov2.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
    '../_base_/models/mocov2_resnet50.py',
]
train_dataloader = dict(batch_size=32)  # per GPU; 8 GPUs -> 256
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=10, max_keep_ckpts=3))
