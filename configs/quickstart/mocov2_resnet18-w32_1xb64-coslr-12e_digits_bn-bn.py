_base_ = '../_base_/mocov2_resnet18-w32_digits.py'
model = dict(scheme='bn-bn')
