# Momentum^2 Teacher: BN / MomentumBN (not in the paper; covers the registered scheme)
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='bn-momentumbn'))
