# CPU budget: FixMatch's default (one model, views concatenated)
_base_ = './fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
