# BYOL on CIFAR-10 at a CPU budget (byol_resnet18_2xb32-coslr-16e_cifar10-10k.py), with
# Warm-started teacher statistics (emanplug's addition, not in the paper): before step 0
# the student's BN statistics are estimated on 10 training batches (forward passes only)
# and the teacher starts as their exact copy (README, "Warm-started teacher statistics").
# Main config of its family (rows: ..._16e-bnwarm10_cifar10-10k_{scheme}.py); BN / EMAN on its own.
_base_ = './byol_resnet18_2xb32-coslr-16e_cifar10-10k.py'
custom_hooks = [dict(type='EMANHook'), dict(type='WarmStartHook', num_batches=10),
                dict(type='TeacherDiagnosticsHook', interval=100), {{_base_.knn_hook}}]
