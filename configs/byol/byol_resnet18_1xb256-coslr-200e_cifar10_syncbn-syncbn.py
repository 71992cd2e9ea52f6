# Table 1: SyncBN / SyncBN (BYOL default)
_base_ = '../_base_/byol_resnet18_cifar10.py'
model = dict(scheme=dict(type='syncbn-syncbn'))
