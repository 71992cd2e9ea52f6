# MoCo v2 with a CIFAR ResNet-18 (3x3 stem, no max-pool), 4096 negatives.
model = dict(
    type='EMAMoCo',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.99,
    queue_len=4096,
    feat_dim=128,
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2))
