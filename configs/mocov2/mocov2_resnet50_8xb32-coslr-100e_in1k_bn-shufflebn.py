# Table 1: BN / ShuffleBN (MoCo default)
_base_ = './mocov2_resnet50_8xb32-coslr-100e_in1k.py'
model = dict(scheme=dict(type='bn-shufflebn'))
