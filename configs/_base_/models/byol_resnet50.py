# BYOL, ResNet-50 (Grill et al.), target network = emanplug EMA teacher, cosine momentum.
# As the EMAN paper's code builds it (models/byol.py of the official repository): projector
# and predictor are fc-BN-ReLU-fc without biases, 2048 -> 4096 -> 256 and 256 -> 4096 -> 256,
# projector fc layers Kaiming-normal (fan_out), predictor fc layers normal(std 0.01), BN 1 / 0.
# Provenance of every value: configs/byol/README.md and metafile.yml.
model = dict(
    type='EMABYOL',
    scheme=dict(type='bn-eman'),
    teacher_momentum=0.98,  # m_0 (official command: --byol-m 0.98); annealed to 1 by cosine
    momentum_schedule='cosine',
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='NonLinearNeck', in_channels=2048, hid_channels=4096, out_channels=256,
              num_layers=2, with_bias=False, with_last_bias=False, with_last_bn=False,
              with_avg_pool=True, norm_cfg=dict(type='BN1d'),
              init_cfg=[dict(type='Kaiming', layer='Linear', mode='fan_out', nonlinearity='relu',
                             distribution='normal'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]),
    head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
              predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096,
                             out_channels=256, num_layers=2, with_bias=False, with_last_bias=False,
                             with_last_bn=False, with_avg_pool=False, norm_cfg=dict(type='BN1d'),
                             init_cfg=[dict(type='Normal', layer='Linear', std=0.01),
                                       dict(type='Constant', val=1,
                                            layer=['_BatchNorm', 'GroupNorm'])])))
