# Linear classification on ImageNet (100 % of the labels) of a MoCo v2 backbone, the EMAN
# paper's Table 2 protocol (Sec. 5.2) with the official command (README of
# amazon-science/exponential-moving-average-normalization: main_lincls.py --lr 30 --epochs 50
# --schedule 30 40 --model-prefix encoder_q): frozen ResNet-50 (BN in eval mode), linear
# classifier, SGD momentum 0.9 without weight decay, batch 256 (8 GPUs x 32), lr / 10 at 30, 40.
# The paper searched lr in {15, 30, 60} (lr_grid below: emanplug-eval runs every value; by hand
# --cfg-options optim_wrapper.optimizer.lr=15); this file holds the official command's 30.
# Initialisation: the student (query encoder, what the paper evaluated) of the Table 2 MoCo-EMAN
# run; --cfg-options model.backbone.init_cfg.model=teacher takes the key encoder, and
# model.backbone.init_cfg.checkpoint=PATH another run, an official MoCo-EMAN .pth.tar or an
# mmpretrain MoCo v2 checkpoint (emanplug/models/pretrained.py).
# Provenance of every value: metafile.yml beside this file (tests/test_benchmark_metafiles.py).
# Main config of the linear rows (-1pct, -10pct) and of the fine-tuning configs beside it.
_base_ = [
    '../../_base_/models/resnet50_linear.py',
    '../../_base_/datasets/imagenet_bs32_labeled-subset.py',
    '../../_base_/schedules/sgd_steplr-50e.py',
]
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='work_dirs/mocov2_resnet50_8xb32-coslr-200e_in1k_bn-eman/epoch_200.pth', model='student')))
optim_wrapper = dict(optimizer=dict(lr=30.))
lr_grid = dict(key='optim_wrapper.optimizer.lr', values=[15., 30., 60.])
