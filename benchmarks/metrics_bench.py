"""Time `retrieval_metrics` on a CUHK-PEDES-sized similarity matrix beside the per-query loop.

Usage: python benchmarks/metrics_bench.py [--queries 6156] [--gallery 3074] [--ids 1000] [--device cpu]
Prints both times and their ratio from one run; both must give the same numbers.
"""
import argparse, time

import torch

from cumdr.metrics import METRICS, retrieval_metrics, retrieval_metrics_loop

p = argparse.ArgumentParser()
p.add_argument('--queries', type=int, default=6156)
p.add_argument('--gallery', type=int, default=3074)
p.add_argument('--ids', type=int, default=1000)
p.add_argument('--device', default='cpu')
a = p.parse_args()
g = torch.Generator().manual_seed(0)
gallery_pids = torch.arange(a.gallery) % a.ids
query_pids = gallery_pids[torch.randint(0, a.gallery, (a.queries,), generator=g)]
sims = torch.randn(a.queries, a.gallery, generator=g)

def timed(fn):
    t = time.perf_counter()
    out = fn()
    if a.device.startswith('cuda'): torch.cuda.synchronize()
    return out, time.perf_counter() - t

dev = sims.to(a.device), query_pids.to(a.device), gallery_pids.to(a.device)
retrieval_metrics(dev[0][:64], dev[1][:64], dev[2])  # warm-up
vec, t_vec = timed(lambda: retrieval_metrics(*dev))
loop, t_loop = timed(lambda: retrieval_metrics_loop(sims.numpy(), query_pids.numpy(), gallery_pids.numpy()))
assert all(abs(vec[k] - loop[k]) < 1e-6 for k in METRICS), (vec, loop)
print(f'{a.queries} x {a.gallery} similarity matrix, {a.ids} identities, device {a.device}')
print(f'vectorised retrieval_metrics : {t_vec:8.3f} s')
print(f'per-query loop (numpy)       : {t_loop:8.3f} s')
print(f'speed-up                     : {t_loop / t_vec:8.1f}x')
