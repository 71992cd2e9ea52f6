# The quickstart experiment (mocov2_resnet18-w32_1xb64-coslr-20e_digits.py), with
# Warm-started teacher statistics (emanplug's addition, not in the paper): before step 0
# the student's BN statistics are estimated on 10 training batches (forward passes only)
# and the teacher starts as their exact copy (README, "Warm-started teacher statistics").
# Main config of its family (rows: ..._20e-bnwarm10_digits_{scheme}.py); BN / EMAN on its own.
_base_ = './mocov2_resnet18-w32_1xb64-coslr-20e_digits.py'
custom_hooks = [dict(type='EMANHook'), dict(type='WarmStartHook', num_batches=10),
                {{_base_.knn_hook}}]
