# BYOL with a CIFAR ResNet-18 (3x3 stem, no max-pool).
model = dict(
    type='EMABYOL',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.99,
    momentum_schedule='cosine',
    backbone=dict(type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=512, hid_channels=1024, out_channels=256,
              num_layers=2, with_bias=True, with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=1024,
                             out_channels=256, num_layers=2, with_bias=True, with_last_bn=False,
                             with_avg_pool=False, norm_cfg=dict(type='BN1d'))))
