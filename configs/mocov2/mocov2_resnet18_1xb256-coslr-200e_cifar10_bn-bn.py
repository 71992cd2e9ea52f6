# Table 1: BN / BN (teacher normalises with its batch)
_base_ = './mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='bn-bn'))
