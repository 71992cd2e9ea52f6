# CPU budget: supervised baseline, the same 4000 labeled images, batch and iterations
_base_ = './fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000.py'
model = dict(scheme=None, unsup_weight=0.0)
custom_hooks = []  # no teacher, nothing for EMANHook to update
