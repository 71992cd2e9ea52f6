# BYOL, ResNet-50, ImageNet, 8 GPUs x 64 images, 200 epochs, the EMAN paper's settings:
# batch 512, LARS lr 0.9, cosine, 5 warm-up epochs, m_0 0.99 annealed to 1 (cosine).
# Main config of its family (rows: byol_resnet50_8xb64-coslr-200e_in1k_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_byol.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
    '../_base_/models/byol_resnet50.py',
]
train_dataloader = dict(batch_size=64)  # per GPU; 8 GPUs -> 512
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='LARS', lr=0.9, momentum=0.9, weight_decay=1e-6),
    paramwise_cfg=dict(custom_keys={
        'bn': dict(decay_mult=0, lars_exclude=True),
        'bias': dict(decay_mult=0, lars_exclude=True),
        'downsample.1': dict(decay_mult=0, lars_exclude=True),
    }))
auto_scale_lr = dict(base_batch_size=512)
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=10, max_keep_ckpts=3))
