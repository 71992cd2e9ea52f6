# Linear classification on 10 % of the CIFAR-10 labels (500 images per class); the paper averages
# 3 label sets (Sec. 5.2): emanplug-eval writes set 0 and the others with tools/make_split.py
# (--num-labeled 10% --seed N) and runs the grid on each.
_base_ = './resnet18_byol-pre_1xb256-linear-steplr-50e_cifar10.py'
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_10pct_seed0.txt'))
label_sets = 3
