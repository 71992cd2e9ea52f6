_base_ = './mocov2_resnet18-w32_1xb64-coslr-20e-bnwarm10_digits.py'
# MoCo v2 on digits with an EMAN teacher (the key encoder normalises with EMA statistics), statistics warm-started on 10 batches.
model = dict(scheme='bn-eman')
