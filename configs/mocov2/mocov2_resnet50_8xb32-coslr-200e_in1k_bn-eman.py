# Table 1: BN / EMAN
_base_ = '../_base_/mocov2_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
