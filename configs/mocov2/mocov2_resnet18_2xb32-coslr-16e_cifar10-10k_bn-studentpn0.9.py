_base_ = '../_base_/mocov2_resnet18_cifar10_cpu-budget.py'
# Table 8: BN / student PN, alpha = 0.9
model = dict(scheme=dict(type='bn-studentpn0.9'))
