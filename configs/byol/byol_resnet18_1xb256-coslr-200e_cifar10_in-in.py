# Table 1: IN / IN
_base_ = './byol_resnet18_1xb256-coslr-200e_cifar10.py'
model = dict(scheme=dict(type='in-in'))
