# MoCo v2 on CIFAR-10 at a CPU budget with warm-started teacher statistics
# (mocov2_resnet18_2xb32-coslr-16e-bnwarm10_cifar10-10k.py) and a slower teacher: momentum
# m = 0.995 instead of 0.99 (the teacher averages over ~200 iterations instead of ~100).
# A remedy tried for EMAN's early lag on this budget, after the faster teacher (m = 0.98,
# ..._16e-bnwarm10-m98_...); results: docs/results/README.md, study moco.
# Main config of its family (rows: ..._16e-bnwarm10-m995_cifar10-10k_{scheme}.py); BN / EMAN on its own.
_base_ = './mocov2_resnet18_2xb32-coslr-16e-bnwarm10_cifar10-10k.py'
model = dict(teacher_momentum=0.995)
row_suffix = 'm0.995'  # table rows: '<scheme>+warm10+m0.995'
