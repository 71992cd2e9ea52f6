# Table 6: FixMatch-EMAN, 10% labels, 3x schedule, from scratch
_base_ = './fixmatch_resnet50_8xb8-mu5-step-300e_in1k-10pct.py'
model = dict(scheme=dict(type='bn-eman'))
