# Table 1: BN / ShuffleBN (MoCo default)
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-shufflebn'))
