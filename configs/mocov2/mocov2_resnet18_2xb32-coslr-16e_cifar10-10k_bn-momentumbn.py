_base_ = '../_base_/mocov2_resnet18_cifar10_cpu-budget.py'
# Momentum^2 Teacher: BN / MomentumBN
model = dict(scheme=dict(type='bn-momentumbn'))
