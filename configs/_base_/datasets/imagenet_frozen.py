# ImageNet for the frozen-backbone protocols of the EMAN paper (Sec. 5.2, Tables 4 and 5): kNN
# classification (k = 20) and image retrieval (database = train, queries = val, the top 1000
# retrievals: mAP and recall) on the full train / val, and low-shot linear SVMs (k = 1, 2, 4, 8, 16
# images per class from train, C in 2^[-5, 5], 5 draws averaged, evaluated on val).  The official
# repository has no script for these tables: the kNN votes as the official main_moco.py /
# main_byol.py kNN monitor does (k = 20, every neighbour one vote: temperature ~ infinity), the
# images are the ones linear evaluation validates on (resize 256, center crop 224).
# The bank (1.28 M x 2048 features for a ResNet-50) is held in float16 and sharded over the
# processes: 0.66 GB per process on 8 processes (emanplug-test prints the estimate before it
# starts); docs/bench/knn_precision.md measures what float16 changes.
# A config adds it with custom_hooks = [_base_.frozen_protocols] and evaluates with
# emanplug-test CONFIG CHECKPOINT --protocol knn|retrieval|lowshot (or emanplug-eval).
data_root = 'data/imagenet/'
frozen_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
frozen_protocols = dict(
    type='KNNEvalHook', k=20, temperature=1e9, models=('student',), at_start=False,
    bank=dict(type='ImageNet', data_root=data_root, split='train', pipeline=frozen_pipeline),
    query=dict(type='ImageNet', data_root=data_root, split='val', pipeline=frozen_pipeline),
    feature_dtype='float16', batch_size=256, num_workers=8)
