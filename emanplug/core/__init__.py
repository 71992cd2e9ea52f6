"""emanplug's core: EMAN and the EMA-teacher schemes in plain PyTorch.

Importing it loads torch and nothing of OpenMMLab, and patches nothing."""
from .momentum import (MOMENTUM_SCHEDULES, check_momentum, constant_momentum,
                       cosine_momentum, from_torch_momentum, get_schedule, to_torch_momentum)
from .norms import (EMAN, BatchNorm, GlobalBatchNorm, InstanceNorm, MomentumBN, SplitBatchNorm,
                    TeacherPN, momentum_bn_weight, replace_batchnorms)
from .schemes import SCHEMES, NormScheme, build_scheme, register_scheme
from .teacher import EMATeacher, build_teacher, ema_update_, prepare_student, unwrap_module
from .diagnostics import TeacherProbe, output_spread, statistics_distance, statistics_gap
from .warm_start import (estimate_bn_statistics, precise_statistics, statistics_swapped,
                         warm_start_teacher)

__all__ = [
    'EMAN', 'BatchNorm', 'TeacherPN', 'MomentumBN', 'SplitBatchNorm', 'GlobalBatchNorm', 'InstanceNorm',
    'momentum_bn_weight', 'replace_batchnorms', 'SCHEMES', 'NormScheme', 'build_scheme',
    'register_scheme', 'EMATeacher', 'prepare_student', 'unwrap_module', 'build_teacher',
    'ema_update_', 'MOMENTUM_SCHEDULES',
    'check_momentum', 'constant_momentum', 'cosine_momentum', 'get_schedule',
    'to_torch_momentum', 'from_torch_momentum', 'estimate_bn_statistics', 'warm_start_teacher',
    'precise_statistics', 'statistics_swapped', 'statistics_distance',
    'TeacherProbe', 'statistics_gap', 'output_spread',
]
