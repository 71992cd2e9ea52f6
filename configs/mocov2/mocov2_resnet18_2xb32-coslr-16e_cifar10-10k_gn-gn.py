_base_ = '../_base_/mocov2_resnet18_cifar10_cpu-budget.py'
# Table 1: GN / GN (32 groups)
model = dict(scheme=dict(type='gn-gn'))
