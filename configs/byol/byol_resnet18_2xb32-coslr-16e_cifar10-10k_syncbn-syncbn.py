_base_ = '../_base_/byol_resnet18_cifar10_cpu-budget.py'
# Table 1: SyncBN / SyncBN (BYOL default)
model = dict(scheme=dict(type='syncbn-syncbn'))
