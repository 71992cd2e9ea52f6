# FixMatch on CIFAR-10 (4000 labels), half-width ResNet-18, 8000 iterations
# (fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000.py), with warm-started teacher
# statistics (emanplug's addition, not in the paper): before step 0 the student's BN statistics
# are estimated on 10 training batches (forward passes of the labeled, weak and strong views,
# no parameter change) and the teacher starts as their exact copy (README, "Warm-started
# teacher statistics"). The teacher's statistics gap and output spread are logged every 100 it.
# Main config of its family (rows: ..._8000it-bnwarm10_cifar10-4000_{scheme}.py); BN / EMAN on its own.
_base_ = './fixmatch_resnet18-w32_1xb32-mu2-coslr-8000it_cifar10-4000.py'
custom_hooks = [dict(type='EMANHook'), dict(type='WarmStartHook', num_batches=10),
                dict(type='TeacherDiagnosticsHook', interval=100)]
