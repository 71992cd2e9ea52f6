# Table 1: IN / IN
_base_ = '../_base_/mocov2_resnet18_cifar10.py'
model = dict(scheme=dict(type='in-in'))
