# Table 8: BN / EMAN, statistics momentum m = 0.9
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='bn-eman0.9'))
