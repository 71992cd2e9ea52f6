# student / teacher: bn-studentpn0.999; 10% labels (Tables 1 and 8)
_base_ = '../_base_/fixmatch_resnet50_in1k.py'
model = dict(scheme=dict(type='bn-studentpn0.999'))
