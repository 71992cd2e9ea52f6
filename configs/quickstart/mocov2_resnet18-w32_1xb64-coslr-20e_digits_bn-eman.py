# MoCo v2 on digits with an EMAN teacher (the key encoder normalises with EMA statistics).
_base_ = './mocov2_resnet18-w32_1xb64-coslr-20e_digits.py'
model = dict(scheme='bn-eman')
