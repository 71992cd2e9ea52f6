_base_ = '../_base_/byol_resnet18_cifar10_cpu-budget.py'
# Table 1: BN / BN (teacher normalises with its batch)
model = dict(scheme=dict(type='bn-bn'))
