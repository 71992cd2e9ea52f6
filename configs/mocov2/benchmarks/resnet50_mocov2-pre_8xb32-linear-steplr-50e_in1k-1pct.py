# Linear classification on 1 % of the ImageNet labels (Table 2): the official
# train_1p_index.csv or SimCLR's 1percent.txt; the paper averages five 1 % sets.
_base_ = './resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k.py'
train_dataloader = dict(dataset=dict(split_file='data/imagenet/splits/1percent.txt'))
label_sets = 5  # the paper averages 5 sets of 1 % (Sec. 5.2): emanplug-eval runs the grid on each
