# Momentum^2 Teacher: BN / MomentumBN
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-momentumbn'))
