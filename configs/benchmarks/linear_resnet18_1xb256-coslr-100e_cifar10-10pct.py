# Linear classification, 10 % of the CIFAR-10 labels (python tools/make_split.py data/cifar10 --num-labeled 10%)
_base_ = './linear_resnet18_1xb256-coslr-100e_cifar10.py'
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_10pct_seed0.txt'))
