# CPU budget: FixMatch's default (one model, views concatenated)
_base_ = '../_base_/fixmatch_resnet18-w32_cifar10_cpu-budget-8000it.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
