# SGD momentum 0.9, 50 epochs, lr / 10 at epochs 30 and 40, set per epoch (EMAN paper Sec. 5.2;
# official README: main_lincls.py / main_cls.py --epochs 50 --schedule 30 40, adjust_learning_rate
# at the start of each epoch), validation after every epoch (--eval-freq 1), batch 256 (8 x 32),
# the best checkpoint kept (the official scripts report the best top-1).  lr and weight decay are
# set by each evaluation config.  A classifier: no teacher, so no EMANHook.
_base_ = '../default_runtime.py'
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[30, 40], gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = []
default_hooks = dict(logger=dict(interval=100),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best='auto'))
