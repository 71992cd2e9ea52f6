# Table 8: BN / EMAN, statistics momentum m = 0.9
_base_ = './mocov2_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-eman0.9'))
