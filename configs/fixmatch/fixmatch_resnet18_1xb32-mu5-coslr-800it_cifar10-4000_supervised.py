# CPU budget: supervised baseline, the same 4000 labeled images, batch and iterations
_base_ = './fixmatch_resnet18_1xb32-mu5-coslr-800it_cifar10-4000.py'
model = dict(scheme=None, unsup_weight=0.0)
custom_hooks = []  # no teacher, nothing for EMANHook to update
