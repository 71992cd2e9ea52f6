"""emanplug's core: EMAN and the EMA-teacher schemes in plain PyTorch.

Importing it loads torch and nothing of OpenMMLab, and patches nothing."""
from .momentum import (MOMENTUM_SCHEDULES, MomentumSchedule, check_momentum, constant_momentum,
                       cosine_momentum, from_torch_momentum, get_schedule, to_torch_momentum)
from .norms import (EMAN, BatchNorm, GlobalBatchNorm, InstanceNorm, MomentumBN, SplitBatchNorm,
                    TeacherPN, momentum_bn_weight, replace_batchnorms)
from .schemes import SCHEMES, NormScheme, build_scheme, register_scheme
from .student import prepare_student, prepared_scheme, unwrap_module
from .pairing import TensorPairs, pair_tensors
from .teacher import EMATeacher, build_teacher, ema_update_
from .diagnostics import TeacherProbe, output_spread, statistics_distance, statistics_gap
from .warm_start import (estimate_bn_statistics, precise_statistics, statistics_swapped,
                         warm_start_teacher)

__all__ = [
    'EMAN', 'BatchNorm', 'TeacherPN', 'MomentumBN', 'SplitBatchNorm', 'GlobalBatchNorm', 'InstanceNorm',
    'momentum_bn_weight', 'replace_batchnorms', 'SCHEMES', 'NormScheme', 'build_scheme',
    'register_scheme', 'EMATeacher', 'prepare_student', 'prepared_scheme', 'unwrap_module',
    'build_teacher', 'ema_update_', 'TensorPairs', 'pair_tensors', 'MOMENTUM_SCHEDULES',
    'MomentumSchedule',
    'check_momentum', 'constant_momentum', 'cosine_momentum', 'get_schedule',
    'to_torch_momentum', 'from_torch_momentum', 'estimate_bn_statistics', 'warm_start_teacher',
    'precise_statistics', 'statistics_swapped', 'statistics_distance',
    'TeacherProbe', 'statistics_gap', 'output_spread',
]
