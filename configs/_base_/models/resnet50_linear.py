# ResNet-50 + linear classifier on 1000 classes, the backbone initialised from a self-supervised
# run (EMAN paper Sec. 5.2; as the official main_lincls.py builds it: torchvision's resnet50,
# every layer but fc frozen, BN in eval mode (train() puts the model in eval()), fc initialised
# normal(0, 0.01) with zero bias).
# init_cfg: emanplug/models/pretrained.py; model='student' (MoCo's encoder_q, BYOL's
# online_net.backbone: what the paper evaluated) or 'teacher'.  The checkpoint is set by each
# evaluation config (--cfg-options model.backbone.init_cfg.checkpoint=PATH).
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=1000, mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, frozen_stages=4, norm_eval=True, zero_init_residual=False,
                  init_cfg=dict(type='SelfSupPretrained', checkpoint=None, model='student')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=2048, loss=dict(type='CrossEntropyLoss'),
              topk=(1, 5), init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
