# Table 1: GN / GN (32 groups)
_base_ = '../_base_/mocov2_resnet18_cifar10.py'
model = dict(scheme=dict(type='gn-gn'))
