# CPU budget: FixMatch, student / teacher: bn-bn
_base_ = '../_base_/fixmatch_resnet18_cifar10_cpu-budget-4000it.py'
model = dict(scheme=dict(type='bn-bn'))
