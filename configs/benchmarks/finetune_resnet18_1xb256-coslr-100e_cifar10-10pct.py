# Fine-tuning on 10 % of the CIFAR-10 labels: the pretrained backbone learns at 1/10 of the
# new classifier's learning rate (separate learning rates, EMAN paper Sec. 5.2).
_base_ = './linear_resnet18_1xb256-coslr-100e_cifar10.py'
model = dict(backbone=dict(frozen_stages=-1, norm_eval=False))
train_dataloader = dict(dataset=dict(split_file='data/cifar10/splits/train_10pct_seed0.txt'))
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
