"""Training throughput: images/s of the training step, and separately of the data loader.

Usage: python benchmarks/train_bench.py [--backbone cumdr-tiny|ViT-B-16] [--image-size H W] [--batch 64]
       [--components none cum+rucm+dar ...] [--bf16|--no-bf16] [--steps N] [--warmup N] [--device cpu|cuda]
       [--peak-tflops 989] [--num-workers N ...] [--loader-batches N] [--loader-ids 300] [--threads N]
       [--levers plain fused compile fused+compile] [--profile]

Step: exactly `cumdr.train.train`'s inner loop body (autocast, `loss_terms` = forward + every configured loss,
zero_grad, backward, AdamW step, scheduler step) on a randomly initialised model of each component set, fed
random batches of the right shapes (images, caption token ids with SOT/EOT/padding, MLM-masked ids and labels,
annotation token ids with RUCM, identity labels): no data loading, decoding or augmentation is measured there.
--warmup steps are run first and not timed. FLOPs of one step (forward + backward) are counted with
torch.utils.flop_counter.FlopCounterMode; on CUDA also the peak memory and the model-FLOPs utilisation against
--peak-tflops (dense bf16 peak of the device: 989 for H100/H200 SXM).
Loader: `cumdr.datasets.train_loader` (decode, augment, tokenise, MLM masks, annotations) over a generated
synthetic CUHK-PEDES training split (--loader-ids identities; 128x64 PNGs, so decoding is cheaper than on real
data), for each --num-workers, without the model.
Levers (--levers, each timed for every component set, side by side): `plain` (per-tensor AdamW, eager), `fused`
(Config.fused_adamw), `compile` (Config.compile='inductor': the model's forward through torch.compile; its compile
time is part of the warm-up, reported separately), `fused+compile`. The step never reads a loss value on the host
(`loss_terms` returns device tensors). --profile: torch.profiler over 5 steps of each lever, the top kernels by
device time and the share of the step the device was idle (host-bound gaps).
"""
import argparse, os, statistics, time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from cumdr.datasets import (EOT_TOKEN, SOT_TOKEN, annotation_texts, default_annotation_path, get_tokenizer, load_pedes, mlm_mask,
                            read_annotations, train_loader)
from cumdr.config import parse_components
from cumdr.model import CUMDR
from cumdr.synthetic import generate
from cumdr.train import build_optimizer, loss_terms, lr_factor_at, make_config
from cumdr.evaluate import autocast_for
from cumdr.imagecache import augment_pad, cached_train_loader, device_augment, image_cache

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--backbone', default=None, help='default: cumdr-tiny on CPU, ViT-B-16 on CUDA')
p.add_argument('--image-size', type=int, nargs=2, default=None, help="default: the preset's (64 32 tiny, 384 128 ViT)")
p.add_argument('--batch', type=int, default=64)
p.add_argument('--components', nargs='+', default=['none', 'cum+rucm+dar'], help='component sets, each timed')
p.add_argument('--bf16', action=argparse.BooleanOptionalAction, default=True, help='bf16 autocast (CUDA only)')
p.add_argument('--steps', type=int, default=None, help='timed steps (default 10 on CPU, 50 on CUDA)')
p.add_argument('--warmup', type=int, default=None, help='untimed steps first (default 2 on CPU, 10 on CUDA)')
p.add_argument('--peak-tflops', type=float, default=989., help='dense bf16 peak of the device (H100/H200 SXM: 989)')
p.add_argument('--num-workers', type=int, nargs='+', default=None, help="loader workers to time (default: the preset's)")
p.add_argument('--loader-batches', type=int, default=None, help='batches the loader is timed on (default 10 CPU, 50 CUDA)')
p.add_argument('--loader-ids', type=int, default=None,
               help='identities of the synthetic set the loader reads (default 300 on CPU, 2000 on CUDA)')
p.add_argument('--threads', type=int, default=None,
               help="CPU threads (default 1 on CPU: on the shared, loaded 2-core machine 2 threads made the step ~10x "
                    "slower; torch's default on CUDA)")
p.add_argument('--data-dir', default='/tmp/cumdr_bench')
p.add_argument('--seed', type=int, default=0)
p.add_argument('--levers', nargs='+', default=['plain'], choices=['plain', 'fused', 'compile', 'fused+compile'])
p.add_argument('--profile', action='store_true', help='profile 5 steps of each lever: top kernels, idle share')
a = p.parse_args()
on_gpu = a.device.startswith('cuda')
backbone = a.backbone or ('ViT-B-16' if on_gpu else 'cumdr-tiny')
steps, warmup = a.steps or (50 if on_gpu else 10), a.warmup if a.warmup is not None else (10 if on_gpu else 2)
if not on_gpu: torch.set_num_threads(a.threads or 1)
elif a.threads: torch.set_num_threads(a.threads)
loader_ids = a.loader_ids or (2000 if on_gpu else 300)
NUM_CLASSES = 11003  # CUHK-PEDES's training identities

def sync():
    if on_gpu: torch.cuda.synchronize()

def config(components: str, lever: str = 'plain'):
    return make_config('auto', backbone=backbone, dataset='CUHK-PEDES', pretrained=None, device=a.device,
                       batch_size=a.batch, bf16=a.bf16, seed=a.seed, **parse_components(components),
                       fused_adamw='fused' in lever, compile='inductor' if 'compile' in lever else None,
                       **({'image_size': tuple(a.image_size)} if a.image_size else {}))

def random_ids(n: int, lo: int, hi: int, g: torch.Generator, L: int = 77) -> torch.Tensor:
    "Token ids like the tokenizer's: SOT, lo..hi-1 random BPE ids, EOT, zero padding."
    lens = torch.randint(lo, hi, (n,), generator=g)
    ids = torch.randint(1, 49404, (n, L), generator=g)
    pos = torch.arange(L)[None]
    ids = torch.where(pos == 0, SOT_TOKEN, ids)
    ids = torch.where(pos == lens[:, None] + 1, EOT_TOKEN, ids)
    return torch.where(pos > lens[:, None] + 1, 0, ids)

def random_batch(model, cfg, g) -> dict:
    "A batch of the shapes `train_loader` yields (2 captions per identity, as IRRA's batches mostly are)."
    B = a.batch
    H, W = cfg.image_size
    pids = torch.randint(0, NUM_CLASSES, ((B + 1) // 2,), generator=g).repeat_interleave(2)[:B]
    batch = dict(pids=pids, image_ids=torch.arange(B), images=torch.randn(B, 3, H, W, generator=g),
                 caption_ids=random_ids(B, 10, 40, g))                     # CUHK-PEDES captions: ~15-70 tokens
    if hasattr(model, 'mlm_head'): batch['mlm_ids'], batch['mlm_labels'] = mlm_mask(batch['caption_ids'], generator=g)
    if cfg.rucm: batch['ann_ids'] = random_ids(B, 30, 70, g)               # machine annotations are longer
    return {k: v.to(a.device, non_blocking=True) for k, v in batch.items()}

def bench_step(components: str, lever: str = 'plain') -> dict:
    cfg = config(components, lever)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(cfg.deterministic)  # as train() does
    model = CUMDR(cfg, NUM_CLASSES).to(a.device).train()
    opt = build_optimizer(model, cfg)
    fwd = torch.compile(model, backend=cfg.compile) if cfg.compile else model   # as train() does
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor_at(s / 1000, cfg))
    amp = autocast_for(a.device, cfg.bf16)
    g = torch.Generator().manual_seed(a.seed)
    batches = [random_batch(model, cfg, g) for _ in range(4)]             # made once: no data cost in the step

    def step(i):
        batch = batches[i % len(batches)]
        with amp:
            total, terms = loss_terms(model, batch, i / 1000, forward=fwd)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        sched.step()
        return terms

    sync()
    t_warm = time.perf_counter()
    for i in range(warmup): terms = step(i)
    sync()
    t_warm = time.perf_counter() - t_warm
    if on_gpu: torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(warmup, warmup + steps):
        sync()
        t = time.perf_counter()
        step(i)
        sync()
        times.append(time.perf_counter() - t)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if on_gpu else None
    prof = None
    if a.profile:
        acts = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if on_gpu else [])
        sync()
        t = time.perf_counter()
        with torch.profiler.profile(activities=acts) as pr:
            for i in range(5): step(warmup + steps + i)
            sync()
        wall = time.perf_counter() - t
        ka = pr.key_averages()
        busy = sum(getattr(e, 'self_device_time_total', 0) for e in ka) / 1e6 if on_gpu else None
        prof = dict(table=ka.table(sort_by='self_device_time_total' if on_gpu else 'self_cpu_time_total', row_limit=15),
                    wall=wall, busy=busy,
                    kernels=sum(e.count for e in ka if str(getattr(e, 'device_type', '')).endswith('CUDA')))
    with FlopCounterMode(display=False) as fc:                         # one more step, counted (not timed)
        with amp: total, _ = loss_terms(model, batches[0])
        total.backward()
    opt.zero_grad(set_to_none=True)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    res = dict(cfg=cfg, losses=model.loss_names, times=times, peak_gib=peak, flops=fc.get_total_flops(),
               params=n_params, terms={k: float(v) for k, v in terms.items()}, warmup_s=t_warm, lever=lever, prof=prof)
    del model, opt, batches, fwd
    if on_gpu: torch.cuda.empty_cache()
    return res

def bench_loader(cfg, workers: int, n_batches: int, cached: bool = False) -> tuple[float, float, float]:
    """(seconds to build the loader, to the first batch, images/s over the next n_batches) of train_loader, or with
    `cached` of the image-cache loader with `device_augment` on each batch on --device (the cache's one-off build is
    timed apart, before)."""
    root = Path(a.data_dir) / f'train_ids{loader_ids}_seed{a.seed}'
    if not (root / 'CUHK-PEDES' / 'synthetic_meta.json').exists(): generate(root, 'CUHK-PEDES', ids=loader_ids, seed=a.seed)
    data = load_pedes('CUHK-PEDES', root)
    t = time.perf_counter()
    ann = None
    if cfg.rucm:
        ann = annotation_texts(read_annotations(default_annotation_path(data.annotation_file)),
                               [s.image_key for s in data.train], 'training images')
    aug = lambda b: b
    if cached:
        loader = cached_train_loader(data.train, get_tokenizer(), cache_dir, a.batch, cfg.image_size, mlm=True,
                                     num_workers=workers, seed=a.seed, annotations=ann)
        gen = torch.Generator(device=a.device).manual_seed(a.seed)
        aug = lambda b: device_augment(b['images'].to(a.device, non_blocking=True), augment_pad(cfg.image_size), gen)
    else:
        loader = train_loader(data.train, get_tokenizer(), a.batch, cfg.image_size, mlm=True, num_workers=workers,
                              seed=a.seed, annotations=ann)
    t_build = time.perf_counter() - t
    if n_batches + 1 > len(loader): raise SystemExit(f'--loader-batches {n_batches}: the synthetic set has only '
                                                    f'{len(loader)} batches of {a.batch}; raise --loader-ids')
    it = iter(loader)
    t = time.perf_counter()
    next(it)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(n_batches): aug(next(it))
    sync()
    ips = n_batches * a.batch / (time.perf_counter() - t)
    del it, loader
    return t_build, t_first, ips

print(f'training step of a random {backbone}, batch {a.batch}, device {a.device}'
      + (f' ({torch.cuda.get_device_name()})' if on_gpu else f', {torch.get_num_threads()} CPU thread(s)')
      + f', bf16 autocast {a.bf16 and on_gpu}; {warmup} warm-up steps, then {steps} timed steps')
if not on_gpu:
    print(f'(CPU machine with {os.cpu_count()} cores shared with other users: load average '
          + ' '.join(f'{x:.1f}' for x in os.getloadavg()) + ' at the start; times are noisy)')
print('random batches made once and reused: no data loading is measured in the step (the loader is timed below)')
results = {}
for comp, lever in [(c, l) for c in a.components for l in a.levers]:
    r = results[comp, lever] = bench_step(comp, lever)
    cfg, t = r['cfg'], r['times']
    med = statistics.median(t)
    ips = a.batch * len(t) / sum(t)
    tflops = r['flops'] / med / 1e12
    print(f'\n[{cfg.components}, {lever}] {cfg.image_size[0]}x{cfg.image_size[1]}, cross {cfg.cross_layers} layer(s), '
          f'{r["params"] / 1e6:.1f} M trainable parameters; losses: {" + ".join(r["losses"])}')
    print(f'  step time   median {med * 1e3:8.1f} ms   (min {min(t) * 1e3:.1f}, max {max(t) * 1e3:.1f}); '
          f'warm-up {r["warmup_s"]:.1f} s' + (' (includes compilation)' if cfg.compile else ''))
    print(f'  throughput  {ips:8.1f} images/s (mean over the timed steps)')
    print(f'  FLOPs/step  {r["flops"] / 1e9:8.1f} GFLOP (forward + backward, FlopCounterMode) -> '
          f'{tflops * 1e3:.1f} GFLOP/s achieved' + (f', MFU {100 * tflops / a.peak_tflops:.1f}% of {a.peak_tflops:g} '
                                                    f'TFLOP/s' if on_gpu else ''))
    if on_gpu: print(f'  peak memory {r["peak_gib"]:8.2f} GiB (torch.cuda.max_memory_allocated)')
    print('  last losses ' + ', '.join(f'{k} {v:.3f}' for k, v in r['terms'].items()))
    if r['prof']:
        pf = r['prof']
        print(f'  profile     5 steps in {pf["wall"]:.3f} s' + (f'; device busy {pf["busy"]:.3f} s '
              f'({100 * pf["busy"] / pf["wall"]:.0f}%, idle {100 * (1 - pf["busy"] / pf["wall"]):.0f}%: host-bound gaps), '
              f'{pf["kernels"] / 5:.0f} kernels per step' if pf['busy'] is not None else ''))
        print(pf['table'])
if len(results) > 1:
    base = next(iter(results.values()))
    b_ips = a.batch * len(base['times']) / sum(base['times'])
    print(f'\n| components | lever | images/s | x ({base["cfg"].components}, {base["lever"]}) | median step ms | '
          f'FLOPs x | MFU |\n|---|---|---:|---:|---:|---:|---:|')
    for (comp, lever), r in results.items():
        ips = a.batch * len(r['times']) / sum(r['times'])
        mfu = r['flops'] / statistics.median(r['times']) / 1e12 / a.peak_tflops
        print(f'| {r["cfg"].components} | {lever} | {ips:.1f} | {ips / b_ips:.2f} | '
              f'{statistics.median(r["times"]) * 1e3:.1f} | {r["flops"] / base["flops"]:.2f} | '
              + (f'{100 * mfu:.1f}%' if on_gpu else '—') + ' |')

cfg = results[list(results)[-1]]['cfg']
workers = a.num_workers if a.num_workers is not None else [cfg.num_workers]
nb = a.loader_batches or (50 if on_gpu else 10)
print(f'\ndata loader (train_loader: decode 128x64 PNG, augment to {cfg.image_size[0]}x{cfg.image_size[1]}, MLM masks'
      + (', annotations' if cfg.rucm else '') + f'), batch {a.batch}, {nb} batches timed after the first:')
for w in workers:
    t_build, t_first, ips = bench_loader(cfg, w, nb)
    print(f'  {w} worker(s): {ips:8.1f} images/s   (building the loader {t_build:.1f} s, first batch {t_first:.2f} s)')
root = Path(a.data_dir) / f'train_ids{loader_ids}_seed{a.seed}'
cache_dir = Path(a.data_dir) / f'image_cache_ids{loader_ids}_seed{a.seed}'
paths = sorted({s.image_path for s in load_pedes('CUHK-PEDES', root).train})
t = time.perf_counter()
image_cache(paths, cfg.image_size, cache_dir)
t_cache = time.perf_counter() - t
print(f'image cache (cumdr.imagecache, uint8 at {cfg.image_size[0]}x{cfg.image_size[1]}): built or opened in {t_cache:.1f} s '
      f'for {len(paths)} images; batches augmented on {a.device} (device_augment):')
for w in workers:
    t_build, t_first, ips = bench_loader(cfg, w, nb, cached=True)
    print(f'  {w} worker(s): {ips:8.1f} images/s   (building the loader {t_build:.1f} s, first batch {t_first:.2f} s)')
step_ips = max(a.batch * len(r['times']) / sum(r['times']) for r in results.values())
print(f'(the fastest training step above ran at {step_ips:.1f} images/s: the loader must keep up with that)')
