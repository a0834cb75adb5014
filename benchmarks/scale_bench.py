"""Ranking at scale: top-k of Q queries over a gallery of 10k to 1M image features with `topk_chunked`.

Usage: python benchmarks/scale_bench.py [--queries 6156] [--sizes 10000 100000 1000000] [--dim 512] [--k 10]
       [--chunk 65536] [--query-chunk 8192] [--dtype float32|float16|bfloat16] [--device cpu|cuda] [--threads N]

Random unit-norm features (the model's output after normalisation); the gallery is made on the device. For each
size: the time of `topk_chunked` (after one untimed warm-up at the smallest size), the peak device memory it
allocated beyond the features themselves (CUDA), the bound it keeps to (query_chunk x (chunk + k) scores), and where
the full Q x G matrix fits (fp32 under 4 GiB), its top-k for comparison (same indices required) and time.
Defaults: CUHK-PEDES's 6,156 queries; sizes 10k/100k/1M on CUDA, 10k/100k on the CPU.
"""
import argparse, time

import torch

from cumdr.evaluate import topk_chunked

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--queries', type=int, default=6156)
p.add_argument('--sizes', type=int, nargs='+', default=None)
p.add_argument('--dim', type=int, default=512)
p.add_argument('--k', type=int, default=10)
p.add_argument('--chunk', type=int, default=65536)
p.add_argument('--query-chunk', type=int, default=8192)
p.add_argument('--dtype', default='float32', choices=['float32', 'float16', 'bfloat16'])
p.add_argument('--threads', type=int, default=None)
a = p.parse_args()
on_gpu = a.device.startswith('cuda')
if a.threads: torch.set_num_threads(a.threads)
sizes = a.sizes or ([10_000, 100_000, 1_000_000] if on_gpu else [10_000, 100_000])
dtype = getattr(torch, a.dtype)
itemsize = torch.tensor([], dtype=dtype).element_size()

def sync():
    if on_gpu: torch.cuda.synchronize()

def unit(n, g):
    x = torch.randn(n, a.dim, generator=g, device=a.device, dtype=torch.float32)
    return torch.nn.functional.normalize(x, dim=1).to(dtype)

g = torch.Generator(device=a.device).manual_seed(0)
queries = unit(a.queries, g)
topk_chunked(queries, unit(min(sizes), g), a.k, a.chunk, a.query_chunk)      # warm-up (kernels, allocator)
print(f'device {a.device}, {a.queries} queries, dim {a.dim}, {a.dtype}, k {a.k}, chunk {a.chunk}, query chunk {a.query_chunk}')
print('| gallery | topk_chunked s | peak extra memory | bound (scores) | full matrix s | full matrix size | same top-k |')
print('|---:|---:|---:|---:|---:|---:|---|')
for n in sizes:
    gallery = unit(n, g)
    sync()
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    t = time.perf_counter()
    s, i = topk_chunked(queries, gallery, a.k, a.chunk, a.query_chunk)
    sync()
    dt = time.perf_counter() - t
    peak = f'{(torch.cuda.max_memory_allocated() - base) / 2 ** 20:.0f} MiB' if on_gpu else 'n/a (CPU)'
    bound = min(a.query_chunk, a.queries) * (min(a.chunk, n) + a.k) * itemsize / 2 ** 20
    full_bytes = a.queries * n * 4
    full_t, same = '—', '—'
    if full_bytes <= 4 * 2 ** 30:
        sync()
        t = time.perf_counter()
        want = (queries.float() @ gallery.float().T).topk(a.k, dim=1)
        sync()
        full_t = f'{time.perf_counter() - t:.3f}'
        same = f'{(want.indices == i).float().mean().item():.4f}' if dtype != torch.float32 else str(bool((want.indices == i).all()))
        del want
    print(f'| {n:,} | {dt:.3f} | {peak} | {bound:.0f} MiB | {full_t} | {full_bytes / 2 ** 30:.2f} GiB | {same} |', flush=True)
    del gallery
