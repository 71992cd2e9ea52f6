# Table 8: BN / student PN, alpha = 0.9
_base_ = './mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='bn-studentpn0.9'))
