# Table 2: MoCo (800), BN / ShuffleBN
_base_ = './mocov2_resnet50_8xb32-coslr-800e_in1k.py'
model = dict(scheme=dict(type='bn-shufflebn'))
