# Table 1: SyncBN / SyncBN (BYOL default)
_base_ = '../_base_/byol_resnet50_in1k.py'
model = dict(scheme=dict(type='syncbn-syncbn'))
