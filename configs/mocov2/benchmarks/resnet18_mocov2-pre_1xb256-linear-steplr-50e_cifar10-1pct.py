# Linear classification on 1 % of the CIFAR-10 labels (50 images per class); the paper averages
# 5 label sets (Sec. 5.2): emanplug-eval writes set 0 and the others with tools/make_split.py
# (--num-labeled 1% --seed N) and runs the grid on each.
_base_ = './resnet18_mocov2-pre_1xb256-linear-steplr-50e_cifar10.py'
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_1pct_seed0.txt'))
label_sets = 5
