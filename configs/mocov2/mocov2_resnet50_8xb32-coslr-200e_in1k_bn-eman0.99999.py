# Table 8: BN / EMAN, statistics momentum m = 0.99999
_base_ = '../_base_/mocov2_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-eman0.99999'))
