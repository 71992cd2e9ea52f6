# Table 1: GN / GN (32 groups)
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='gn-gn'))
