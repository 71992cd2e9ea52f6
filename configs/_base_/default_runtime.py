# Runtime shared by every emanplug config (mmpretrain's defaults + the EMA-teacher hook).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['emanplug'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# EMANHook updates the teacher after every iteration (eq. 1 and, per scheme, eq. 9).
custom_hooks = [dict(type='EMANHook')]

# tools/train.py switches the backend to gloo on machines without GPUs.
env_cfg = dict(cudnn_benchmark=False,
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
