# Linear classification on ImageNet (100 % of the labels) of a BYOL backbone, the EMAN paper's
# Table 2 protocol (Sec. 5.2) with the official command (README of
# amazon-science/exponential-moving-average-normalization: main_lincls.py --epochs 50
# --schedule 30 40, "For BYOL, change to --model-prefix online_net.backbone"): frozen ResNet-50
# (BN in eval mode), linear classifier, SGD momentum 0.9 without weight decay, batch 256
# (8 GPUs x 32), lr / 10 at epochs 30 and 40.  The paper searched lr in {0.2, 0.4, 0.8} for BYOL
# (lr_grid below; by hand --cfg-options optim_wrapper.optimizer.lr=0.2); this file holds the
# middle value 0.4 (the README gives no BYOL lr).
# Initialisation: the student (online network, what the paper evaluated) of the Table 2
# BYOL-EMAN run; --cfg-options model.backbone.init_cfg.model=teacher takes the target network,
# and model.backbone.init_cfg.checkpoint=PATH another run, an official BYOL-EMAN .pth.tar or an
# mmpretrain BYOL checkpoint (emanplug/models/pretrained.py).
# Provenance of every value: metafile.yml beside this file (tests/test_benchmark_metafiles.py).
# Main config of the linear rows (-1pct, -10pct) and of the fine-tuning configs beside it.
_base_ = [
    '../../_base_/models/resnet50_linear.py',
    '../../_base_/datasets/imagenet_bs32_labeled-subset.py',
    '../../_base_/schedules/sgd_steplr-50e.py',
]
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='work_dirs/byol_resnet50_8xb64-coslr-200e_in1k_bn-eman/epoch_200.pth', model='student')))
optim_wrapper = dict(optimizer=dict(lr=0.4))
lr_grid = dict(key='optim_wrapper.optimizer.lr', values=[0.2, 0.4, 0.8])
