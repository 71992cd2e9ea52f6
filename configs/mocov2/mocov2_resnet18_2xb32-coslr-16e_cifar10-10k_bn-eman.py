_base_ = '../_base_/mocov2_resnet18_cifar10_cpu-budget.py'
# Table 1: BN / EMAN
model = dict(scheme=dict(type='bn-eman'))
