# Momentum^2 Teacher: BN / MomentumBN
_base_ = '../_base_/byol_resnet18_cifar10.py'
model = dict(scheme=dict(type='bn-momentumbn'))
