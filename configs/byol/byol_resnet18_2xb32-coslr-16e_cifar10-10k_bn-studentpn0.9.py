_base_ = './byol_resnet18_2xb32-coslr-16e_cifar10-10k.py'
# Table 8: BN / student PN, alpha = 0.9
model = dict(scheme=dict(type='bn-studentpn0.9'))
