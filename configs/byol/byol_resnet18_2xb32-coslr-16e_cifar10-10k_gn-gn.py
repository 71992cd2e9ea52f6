_base_ = '../_base_/byol_resnet18_cifar10_cpu-budget.py'
# Table 1: GN / GN (32 groups)
model = dict(scheme=dict(type='gn-gn'))
