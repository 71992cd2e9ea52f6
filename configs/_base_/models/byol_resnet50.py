# BYOL, ResNet-50 (Grill et al.), target network = emanplug EMA teacher, cosine momentum.
model = dict(
    type='EMABYOL',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.99,  # m_0; annealed to 1 by cosine over training
    momentum_schedule='cosine',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=4096, out_channels=256,
              num_layers=2, with_bias=True, with_last_bn=False, with_avg_pool=True,
              norm_cfg=dict(type='BN1d')),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                             out_channels=256, num_layers=2, with_bias=True, with_last_bn=False,
                             with_avg_pool=False, norm_cfg=dict(type='BN1d'))))
