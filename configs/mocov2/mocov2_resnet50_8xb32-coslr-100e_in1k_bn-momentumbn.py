# Momentum^2 Teacher: BN / MomentumBN (not in the paper; covers the registered scheme)
_base_ = './mocov2_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-momentumbn'))
