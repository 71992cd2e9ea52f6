# BYOL, ResNet-50, ImageNet, 8 GPUs x 64 images, 50 epochs: the paper's Tables 1 and 8
# (Sec. 5.1: BYOL trained for 50 epochs, cosine schedule, 5 linear warm-up epochs), otherwise the
# Table 2 recipe it inherits (no command for these runs was published; lr, m_0, weight decay and
# augmentations are the official 200-epoch command's).  The kNN monitor of Sec. 5.1 / Figure 3
# (k = 20, bank 10 % of train, queries 50 % of val, every 5 epochs as the official main_byol.py)
# needs data/imagenet/splits/10percent.txt; the table's number is linear classification on 10 %
# of the labels, run separately on the saved backbone.
# Provenance of every value: configs/byol/README.md and metafile.yml.
# Main config of its family (rows: byol_resnet50_8xb64-coslr-50e_in1k_{scheme}.py, which change
# only the scheme); on its own it trains with the family's default scheme, BN / EMAN.
_base_ = ['./byol_resnet50_8xb64-coslr-200e_in1k.py', '../_base_/datasets/imagenet_knn_monitor.py']
max_epochs = 50
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, by_epoch=True,
         begin=warmup_epochs, end=max_epochs),
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [dict(type='EMANHook'), {{_base_.knn_monitor}}]
