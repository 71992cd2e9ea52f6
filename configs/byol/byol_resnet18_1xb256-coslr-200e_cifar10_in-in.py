# Table 1: IN / IN
_base_ = '../_base_/byol_resnet18_cifar10.py'
model = dict(scheme=dict(type='in-in'))
