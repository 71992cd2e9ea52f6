# Table 2: MoCo-EMAN (2x), BN / EMAN
_base_ = './mocov2_resnet50-w2_8xb32-coslr-200e_in1k.py'
model = dict(scheme=dict(type='bn-eman'))
