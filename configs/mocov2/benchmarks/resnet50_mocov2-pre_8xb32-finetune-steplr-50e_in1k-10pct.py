# Fine-tuning on 10 % of the ImageNet labels (Table 2), the official command (README:
# main_cls.py --lr 0.001 --lr-classifier 0.1 --epochs 50 --schedule 30 40 --model-prefix
# encoder_q): every layer trains (BN in train mode), SGD momentum 0.9, weight decay 1e-4 on
# every parameter (main_cls.py default), classifier lr 0.1 (paper Sec. 5.2: 0.1 for 10 %), the
# pretrained encoder at lr_mult x 0.1: 0.01 -> 0.001.  The paper searched the encoder lr in
# {1e-4, 1e-3, 1e-2}: lr_grid (lr_mult 0.001 / 0.01 / 0.1).  The classifier keeps PyTorch's
# default nn.Linear init, as torchvision's resnet50 fc in main_cls.py.
# Main config of the fine-tuning row -1pct.
_base_ = './resnet50_mocov2-pre_8xb32-linear-steplr-50e_in1k.py'
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False), head=dict(init_cfg=None))
train_dataloader = dict(dataset=dict(split_file='data/imagenet/splits/10percent.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=1e-4),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.01)}))
lr_grid = dict(key='optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult', values=[0.001, 0.01, 0.1])
label_sets = 3  # the paper averages 3 sets of 10 % (Sec. 5.2): emanplug-eval runs the grid on each
