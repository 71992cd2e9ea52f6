# CPU budget: FixMatch's default (one model, views concatenated)
_base_ = './fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
