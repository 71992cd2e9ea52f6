# ResNet-18 + linear classifier on the 10 CIFAR classes, the backbone frozen (BN in eval mode) and
# initialised from a self-supervised CIFAR-10 run (resnet50_linear.py at CIFAR scale).  The
# backbone is the CPU-budget pretraining recipes' (configs/{mocov2,byol}/*_2xb32-coslr-16e_*:
# mmpretrain's ResNet with the ImageNet stem at 32 px, 512 features); for the 200-epoch CIFAR
# recipes (3x3 stem) add --cfg-options model.backbone.type=ResNet_CIFAR.
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10, mean=[125.307, 122.961, 113.8575],
                           std=[51.5865, 50.847, 51.255], to_rgb=True),
    backbone=dict(type='ResNet', depth=18, frozen_stages=4, norm_eval=True, zero_init_residual=False,
                  init_cfg=dict(type='SelfSupPretrained', checkpoint=None, model='student')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512, loss=dict(type='CrossEntropyLoss'),
              topk=(1, 5), init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
