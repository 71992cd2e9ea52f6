# Fine-tuning on 1 % of the ImageNet labels (Table 2): classifier lr 1.0 (paper Sec. 5.2), the
# encoder at lr_mult x 1.0: 0.001 (the official command's encoder lr); grid {1e-4, 1e-3, 1e-2}.
_base_ = './resnet50_mocov2-pre_8xb32-finetune-steplr-50e_in1k-10pct.py'
train_dataloader = dict(dataset=dict(split_file='data/imagenet/splits/1percent.txt'))
optim_wrapper = dict(optimizer=dict(lr=1.0), paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.001)}))
lr_grid = dict(key='optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult', values=[0.0001, 0.001, 0.01])
label_sets = 5  # the paper averages 5 sets of 1 % (Sec. 5.2): emanplug-eval runs the grid on each
