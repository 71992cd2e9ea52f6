# Table 8: BN / teacher PN, alpha = 0.999
_base_ = './byol_resnet50_8xb64-coslr-50e_in1k.py'
model = dict(scheme=dict(type='bn-teacherpn0.999'))
