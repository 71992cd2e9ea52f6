_base_ = '../_base_/byol_resnet18_cifar10_cpu-budget.py'
# Table 8: BN / teacher PN, alpha = 0.9
model = dict(scheme=dict(type='bn-teacherpn0.9'))
