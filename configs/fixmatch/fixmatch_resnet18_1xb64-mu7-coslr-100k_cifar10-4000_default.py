# FixMatch's default: one model, labeled + weak + strong views concatenated; 4000 labels
_base_ = './fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py'
model = dict(scheme=None)
custom_hooks = []  # no teacher, nothing for EMANHook to update
