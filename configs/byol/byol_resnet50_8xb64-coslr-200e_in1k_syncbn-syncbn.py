# Table 2: BYOL (the BYOL baseline, SyncBN / SyncBN), 200 epochs
_base_ = './byol_resnet50_8xb64-coslr-200e_in1k.py'
model = dict(scheme=dict(type='syncbn-syncbn'))
