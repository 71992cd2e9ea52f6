# CPU budget: supervised baseline, the same 4000 labeled images, batch and iterations
_base_ = '../_base_/fixmatch_resnet18-w32_cifar10_cpu-budget-8000it.py'
model = dict(scheme=None, unsup_weight=0.0)
custom_hooks = []  # no teacher, nothing for EMANHook to update
