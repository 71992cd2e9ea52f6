# CPU budget: FixMatch, student / teacher: bn-eman
_base_ = '../_base_/fixmatch_resnet18-w32_cifar10_cpu-budget-8000it.py'
model = dict(scheme=dict(type='bn-eman'))
