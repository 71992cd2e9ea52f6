_base_ = '../_base_/mocov2_resnet18_cifar10_cpu-budget.py'
# Table 8: BN / EMAN, statistics momentum m = 0.99999
model = dict(scheme=dict(type='bn-eman0.99999'))
