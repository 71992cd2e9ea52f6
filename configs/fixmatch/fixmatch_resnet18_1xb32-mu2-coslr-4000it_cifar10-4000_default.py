# CPU budget: FixMatch's default (one model, views concatenated)
_base_ = './fixmatch_resnet18_1xb32-mu2-coslr-4000it_cifar10-4000.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
