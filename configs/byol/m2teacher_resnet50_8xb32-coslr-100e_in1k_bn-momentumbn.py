# Momentum^2 Teacher: a MomentumBN teacher (batch weight 1 -> 0 by cosine, running statistics
# moved once per iteration), its small-batch recipe.
_base_ = './m2teacher_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-momentumbn'))
