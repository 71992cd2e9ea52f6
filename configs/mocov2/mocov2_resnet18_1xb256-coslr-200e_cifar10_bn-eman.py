# Table 1: BN / EMAN
_base_ = './mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='bn-eman'))
