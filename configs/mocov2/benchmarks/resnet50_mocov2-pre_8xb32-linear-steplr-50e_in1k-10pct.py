# Linear classification on 10 % of the ImageNet labels (Tables 1, 2, 8): the official
# train_10p_index.csv or SimCLR's 10percent.txt (both read, emanplug/datasets/splits.py);
# the paper averages three 10 % sets (others: python tools/make_split.py data/imagenet
# --num-labeled 10% --seed N, then --cfg-options train_dataloader.dataset.split_file=...).
_base_ = './resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k.py'
train_dataloader = dict(dataset=dict(split_file='data/imagenet/splits/10percent.txt'))
label_sets = 3  # the paper averages 3 sets of 10 % (Sec. 5.2): emanplug-eval runs the grid on each
