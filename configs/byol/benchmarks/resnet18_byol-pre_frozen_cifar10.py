# kNN (k = 200, T = 0.1), retrieval (top 1000) and low-shot SVMs on CIFAR-10 of a frozen BYOL
# ResNet-18 pretrained on CIFAR-10 (../../_base_/datasets/cifar10_labeled-subset.py):
#   emanplug-test THIS_CONFIG CHECKPOINT --protocol knn|retrieval|lowshot
_base_ = [
    '../../_base_/models/resnet18_linear_cifar.py',
    '../../_base_/datasets/cifar10_labeled-subset.py',
    '../../_base_/default_runtime.py',
]
model = dict(head=None, backbone=dict(init_cfg=dict(checkpoint='work_dirs/byol_resnet18_2xb32-coslr-16e_cifar10-10k_bn-eman/epoch_16.pth', model='student')))
train_dataloader = None
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
custom_hooks = [_base_.frozen_protocols]
