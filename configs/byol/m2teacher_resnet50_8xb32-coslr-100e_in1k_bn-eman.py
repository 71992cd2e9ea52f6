# Momentum^2 Teacher's small-batch recipe with an EMAN teacher instead of MomentumBN.
_base_ = './m2teacher_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
