# Table 1: BN / ShuffleBN (MoCo's default)
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='bn-shufflebn'))
