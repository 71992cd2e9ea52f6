# Table 1: SyncBN / SyncBN (BYOL default)
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='syncbn-syncbn'))
