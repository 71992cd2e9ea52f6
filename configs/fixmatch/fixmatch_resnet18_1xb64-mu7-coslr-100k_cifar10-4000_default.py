# FixMatch's default: one model, labeled + weak + strong views concatenated; 4000 labels
_base_ = '../_base_/fixmatch_resnet18_cifar10.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
