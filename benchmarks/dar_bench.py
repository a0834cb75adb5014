"""Time DAR refinement (`refine_topk`) on a CUHK-PEDES-sized test set beside the per-query loop.

Usage: python benchmarks/dar_bench.py [--queries 6156] [--gallery 3074] [--dim 512] [--device cpu|cuda]
       [--threads 1] [--loop-queries 64] [--loop-queries-1000 16] [--queries-1000 512] [--chunk 1024]
Random L2-normalised features and a randomly initialised CandidateDenoiser(dim): the cost does not depend on
the weights. For each K in (15, 31) and steps in (50, 1000) it times the vectorised refinement (all queries
at once, chunked) and the per-query loop of the same computation (`refine_topk_loop`, same noise). The loop
is timed on the first --loop-queries queries and extrapolated linearly to all queries; where the vectorised
version would take too long (1000 steps on CPU) it is also timed on a subset and extrapolated. Every
extrapolated figure is marked. Both versions must agree on the loop's queries.
"""
import argparse, time

import torch
import torch.nn.functional as F

from cumdr.diffusion import CandidateDenoiser, GaussianDiffusion
from cumdr.refine import refine_topk, refine_topk_loop

p = argparse.ArgumentParser()
p.add_argument('--queries', type=int, default=6156)
p.add_argument('--gallery', type=int, default=3074)
p.add_argument('--dim', type=int, default=512)
p.add_argument('--chunk', type=int, default=1024)
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--threads', type=int, default=1,
               help='CPU threads (default 1: on a shared 2-core machine a second thread slows the many small '
                    'operations of the loop by an order of magnitude under load)')
p.add_argument('--loop-queries', type=int, default=64, help='queries the loop runs at 50 steps')
p.add_argument('--loop-queries-1000', type=int, default=16, help='queries the loop runs at 1000 steps')
p.add_argument('--queries-1000', type=int, default=None,
               help='queries the vectorised version runs at 1000 steps (default: all on GPU, 512 on CPU)')
a = p.parse_args()
torch.set_num_threads(a.threads)
on_gpu = a.device.startswith('cuda')
q1000 = a.queries_1000 or (a.queries if on_gpu else 512)

g = torch.Generator().manual_seed(0)
txt = F.normalize(torch.randn(a.queries, a.dim, generator=g), dim=-1).to(a.device)
img = F.normalize(torch.randn(a.gallery, a.dim, generator=g), dim=-1).to(a.device)
scores = txt @ img.T
torch.manual_seed(0)
den = CandidateDenoiser(a.dim).to(a.device).eval()
gd = GaussianDiffusion(1000)

def timed(fn):
    if on_gpu: torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if on_gpu: torch.cuda.synchronize()
    return out, time.perf_counter() - t

refine_topk(den, gd, txt[:64], img, scores[:64], 15, 2, chunk=a.chunk)  # warm-up
print(f'{a.queries} queries x {a.gallery} gallery, D = {a.dim}, random CandidateDenoiser({a.dim}), device {a.device}'
      + ('' if on_gpu else f', {torch.get_num_threads()} CPU thread(s)') + f', chunk {a.chunk}')
print(f'{"K":>3} {"steps":>5} | {"vectorised (s)":>24} | {"per-query loop (s)":>24} | {"speed-up":>9}')
t_start = time.perf_counter()
for steps in (50, 1000):
    nv = a.queries if steps == 50 else min(q1000, a.queries)
    nl = min(a.loop_queries if steps == 50 else a.loop_queries_1000, nv)
    for k in (15, 31):
        (top, x0), t_vec = timed(lambda: refine_topk(den, gd, txt[:nv], img, scores[:nv], k, steps,
                                                     torch.Generator().manual_seed(1), a.chunk))
        (top_l, x0_l), t_loop = timed(lambda: refine_topk_loop(den, gd, txt[:nl], img, scores[:nl], k, steps,
                                                               torch.Generator().manual_seed(1)))
        # the same computation: on the loop's queries (same candidates, same noise draw) both give the same x0_hat
        top_v, x0_v = refine_topk(den, gd, txt[:nl], img, scores[:nl], k, steps, torch.Generator().manual_seed(1), a.chunk)
        assert torch.equal(top_l, top_v) and torch.allclose(x0_l, x0_v, atol=1e-4), (x0_l - x0_v).abs().max()
        vec_all, loop_all = t_vec * a.queries / nv, t_loop * a.queries / nl
        vec_s = f'{vec_all:9.1f}' + (f' (x{a.queries / nv:.0f} of {nv})' if nv < a.queries else ' ' * 15)
        loop_s = f'{loop_all:9.1f}' + (f' (x{a.queries / nl:.0f} of {nl})' if nl < a.queries else '')
        print(f'{k:>3} {steps:>5} | {vec_s:>24} | {loop_s:>24} | {loop_all / vec_all:7.1f}x', flush=True)
print(f'(x n of m: timed on the first m queries and extrapolated linearly to all {a.queries}; '
      f'the benchmark itself ran {time.perf_counter() - t_start:.0f} s)')
