# BYOL, ResNet-50, ImageNet, 8 GPUs x 64 images, 200 epochs, the EMAN paper's settings:
# batch 512, LARS lr 0.9, cosine, 5 warm-up epochs, m_0 0.99 annealed to 1 (cosine).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_byol.py',
    './schedules/sgd_coslr_warmup.py',
    './default_runtime.py',
    './models/byol_resnet50.py',
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
