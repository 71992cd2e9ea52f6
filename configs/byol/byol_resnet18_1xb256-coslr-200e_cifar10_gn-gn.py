# Table 1: GN / GN (32 groups)
_base_ = '../_base_/byol_resnet18_cifar10.py'
model = dict(scheme=dict(type='gn-gn'))
