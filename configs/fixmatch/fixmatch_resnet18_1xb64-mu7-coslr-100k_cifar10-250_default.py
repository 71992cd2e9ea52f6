# FixMatch's default: one model, labeled + weak + strong views concatenated; 250 labels
_base_ = './fixmatch_resnet18_1xb64-mu7-coslr-100k_cifar10-4000.py'
model = dict(scheme=None)
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_250_seed0.txt'))
custom_hooks = []  # no teacher, nothing for EMANHook to update
