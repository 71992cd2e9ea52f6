# Table 2: MoCo (2x), BN / ShuffleBN
_base_ = './mocov2_resnet50-w2_8xb32-coslr-200e_in1k.py'
model = dict(scheme=dict(type='bn-shufflebn'))
