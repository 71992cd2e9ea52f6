# kNN (k = 20), retrieval (top 1000) and low-shot SVMs on ImageNet of a frozen MoCo v2 ResNet-50, the
# EMAN paper's Tables 4 and 5 (protocol and sources: ../../_base_/datasets/imagenet_frozen.py):
#   emanplug-test THIS_CONFIG CHECKPOINT --protocol knn|retrieval|lowshot [--launcher pytorch]
# CHECKPOINT in any layout SelfSupPretrained reads (emanplug, the official .pth.tar, mmpretrain);
# the student by default (what the paper evaluated), the teacher with
# --cfg-options model.backbone.init_cfg.model=teacher.  emanplug-eval runs it per protocol.
_base_ = [
    '../../_base_/models/resnet50_frozen.py',
    '../../_base_/datasets/imagenet_frozen.py',
    '../../_base_/default_runtime.py',
]
model = dict(backbone=dict(init_cfg=dict(checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/epoch_200.pth', model='student')))
custom_hooks = [_base_.frozen_protocols]
