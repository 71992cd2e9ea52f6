# The kNN monitor of the EMAN paper's Sec. 5.1 / Figure 3 on ImageNet, as the official
# main_moco.py / main_byol.py run it: k = 20, every 5 epochs, bank = the 10 % labelled list
# (data/imagenet/splits/10percent.txt, the FixMatch split file), queries = half of val.
# A config adds it with custom_hooks = [dict(type='EMANHook'), {{_base_.knn_monitor}}].
knn_monitor = dict(
    type='KNNEvalHook', interval=5, k=20,
    # every neighbour votes with weight exp(s / T) ~ 1: the official majority vote
    temperature=1e9,
    bank=dict(type='LabeledSubset', split_file='data/imagenet/splits/10percent.txt',
              dataset=dict(type='ImageNet', data_root='data/imagenet/', split='train', pipeline=[
                  dict(type='LoadImageFromFile'),
                  dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
                  dict(type='CenterCrop', crop_size=224),
                  dict(type='PackInputs')])),
    # meta/val.txt is in random class order: its first 25,000 images are half of val
    query=dict(type='ImageNet', data_root='data/imagenet/', split='val', indices=25000, pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='ResizeEdge', scale=256, edge='short', backend='pillow'),
        dict(type='CenterCrop', crop_size=224),
        dict(type='PackInputs')]),
    batch_size=256, num_workers=8)
