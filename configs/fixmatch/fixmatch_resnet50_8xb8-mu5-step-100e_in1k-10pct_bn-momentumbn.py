# Momentum^2 Teacher: BN / MomentumBN, 10% labels (not in the paper; covers the registered scheme)
_base_ = './fixmatch_resnet50_8xb8-mu5-step-100e_in1k-10pct.py'
model = dict(scheme=dict(type='bn-momentumbn'))
