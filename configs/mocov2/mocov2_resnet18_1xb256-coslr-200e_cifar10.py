# MoCo v2, CIFAR ResNet-18, CIFAR-10 (ImageFolder layout), 1 GPU x 256, 200 epochs:
# SGD lr 0.06, cosine, 5 warm-up epochs, queue 4096, T 0.2, m 0.99, kNN monitor every 10 epochs.
# Main config of its family (rows: mocov2_resnet18_1xb256-coslr-200e_cifar10_{scheme}.py, which change only the scheme);
# on its own it trains with the family's default scheme, BN / EMAN.
_base_ = [
    '../_base_/datasets/cifar10_ssl.py',
    '../_base_/schedules/sgd_coslr_warmup.py',
    '../_base_/default_runtime.py',
    '../_base_/models/mocov2_resnet18_cifar.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
optim_wrapper = dict(optimizer=dict(lr=0.06, weight_decay=5e-4))
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = [dict(type='EMANHook'), {{_base_.knn_hook}}]
