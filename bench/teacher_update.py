"""Teacher update time on a ResNet-50, measured side by side in one run:

* bound:    one fused lerp over a flat buffer as large as the teacher's floating state
            (parameters + BN statistics): the memory-bandwidth bound of any EMA update;
* emanplug: ``EMATeacher.update`` with the EMAN scheme (eq. 1 for the parameters, eq. 9 for
            the statistics, counters copied);
* mmengine: ``ExponentialMovingAverage(update_buffers=True).update_parameters``.

    python bench/teacher_update.py [--repeats 30] [--threads N]

Prints the median time of each and the ratios to the bound (target: emanplug <= 1.2x).
"""
import argparse
import platform
import statistics
import sys
import time

import torch


def interleaved_medians(fns: dict, repeats: int) -> dict:
    """Median time of each function, the functions taking turns in every round so that a
    drifting machine load affects all of them alike."""
    times = {name: [] for name in fns}
    for name, fn in fns.items():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=30)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import torchvision
    from mmengine.model import ExponentialMovingAverage

    from emanplug.core import EMATeacher, prepare_student
    student = torchvision.models.resnet50()
    teacher = EMATeacher(prepare_student(student, 'bn-eman'), 'bn-eman', momentum=0.999)
    mm_ema = ExponentialMovingAverage(student, momentum=0.001, update_buffers=True)
    n = sum(t.numel() for t in teacher.module.state_dict().values() if t.is_floating_point())
    flat_t, flat_s = torch.zeros(n), torch.randn(n)

    results = interleaved_medians({
        'bound (one fused lerp, flat buffer)': lambda: flat_t.lerp_(flat_s, 0.001),
        'emanplug EMATeacher.update (EMAN)': teacher.update,
        'mmengine ExponentialMovingAverage': lambda: mm_ema.update_parameters(student),
    }, args.repeats)
    bound = results['bound (one fused lerp, flat buffer)']
    print(f'# {" ".join(sys.argv)}')
    print(f'# machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, '
          f'torch {torch.__version__}; ResNet-50 floating state: {n / 1e6:.1f} M values')
    print('| update | median ms | ratio to bound |\n|---|---|---|')
    for name, t in results.items():
        print(f'| {name} | {1000 * t:.2f} | {t / bound:.2f}x |')
    return results


if __name__ == '__main__':
    main()
