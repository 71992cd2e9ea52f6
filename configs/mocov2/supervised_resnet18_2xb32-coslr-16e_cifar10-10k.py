# Ceiling of the MoCo / BYOL CPU-budget rows: the same network and budget, trained with labels.
_base_ = '../_base_/supervised_resnet18_cifar10_cpu-budget.py'
