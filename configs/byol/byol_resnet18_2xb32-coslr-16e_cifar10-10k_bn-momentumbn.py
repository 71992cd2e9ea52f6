_base_ = './byol_resnet18_2xb32-coslr-16e_cifar10-10k.py'
# Momentum^2 Teacher: BN / MomentumBN
model = dict(scheme=dict(type='bn-momentumbn'))
