"""Time the whole evaluation pipeline with every component on, on a CUHK-PEDES-sized test set, beside a per-query loop.

Usage: python benchmarks/eval_bench.py [--device cpu|cuda] [--backbone cumdr-tiny|ViT-B-16] [--image-size H W]
       [--rerank-k K] [--itm-chunk 1024] [--dar-k 15] [--dar-steps 50] [--loop-queries 64] [--ids 1000] [--threads N]
       [--num-workers N] [--data-dir DIR] [--seed 0]

Data: a synthetic CUHK-PEDES set (cumdr.synthetic.generate, 2 x --ids identities, 3-4 images of each, 3 captions
per image; cached under --data-dir), cut into a test split of exactly CUHK-PEDES's size (1,000 identities, 3,074
gallery images, 6,156 queries) and a validation split of its size (1,000 identities, 3,078 images, 6,158
captions) on which RUCM's fusion weight is fitted, as `cumdr.train.finish` does. --ids scales both.
Model: a randomly initialised CUMDR with every component (CUM Gaussian heads, RUCM, DAR, ITM head); the cost of
evaluation does not depend on the weights.

Vectorised: the library's pipeline, phase by phase (what `cumdr.evaluate.evaluate(..., fit_split=val)` runs):
encode test (gallery images, query captions), read and encode the gallery's external annotations, encode val and
fit the fusion on it, the stages global -> rucm -> itm -> dar over the full score matrix, metrics after each stage.
Loop: the same model, features, annotation features and fitted fusion weight, but every stage one query at a
time (global row, fusion row, ITM of that query's top-k, DDIM refinement of that query's top-K, metrics of the
query's four rows). Encoding and fitting are shared (done once, batched) and counted in both totals. The loop is
timed on the first --loop-queries queries and extrapolated linearly to all queries (marked); its final scores
must match the vectorised ones on those queries.
"""
import argparse, dataclasses, json, time
from pathlib import Path

import torch

from cumdr.datasets import RetrievalSplit, read_annotations
from cumdr.refine import DAR_FUSIONS
from cumdr.evaluate import ItmRerank, autocast_for, combine_topk, default_stages, encode_split, run_stages
from cumdr.fusion import ComplementaryFusion, annotation_features, complementary_scores, fusion_uncertainty
from cumdr.metrics import METRICS, retrieval_metrics, retrieval_metrics_loop
from cumdr.model import CUMDR
from cumdr.synthetic import generate
from cumdr.train import make_config

CUHK = dict(test=(1000, 3074, 6156), val=(1000, 3078, 6158))  # identities, images, captions

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
p.add_argument('--backbone', default=None, help='default: cumdr-tiny on CPU, ViT-B-16 on CUDA')
p.add_argument('--image-size', type=int, nargs=2, default=None, help="default: the preset's (64 32 tiny, 384 128 ViT)")
p.add_argument('--rerank-k', type=int, default=None,
               help="ITM re-ranking depth (default 128 as on CUHK-PEDES on CUDA; 16, the small preset's, on CPU, "
                    "where 128 would take ~25 min; the k=128 time is then extrapolated)")
p.add_argument('--itm-chunk', type=int, default=None,
               help="(query, image) pairs per ITM forward (default: ItmRerank's, 1024; on CPU 64-256 was ~2x faster per pair)")
p.add_argument('--dar-k', type=int, default=15)
p.add_argument('--dar-steps', type=int, default=50)
p.add_argument('--loop-queries', type=int, default=64, help='queries the per-query loop runs (then extrapolated)')
p.add_argument('--ids', type=int, default=1000, help='test identities (CUHK-PEDES: 1000); val has as many')
p.add_argument('--threads', type=int, default=None,
               help='CPU threads (default 1 on CPU: on the shared 2-core machine a second thread made ITM slower)')
p.add_argument('--num-workers', type=int, default=None, help="gallery loader workers (default: the preset's)")
p.add_argument('--data-dir', default='/tmp/cumdr_bench')
p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
on_gpu = a.device.startswith('cuda')
backbone = a.backbone or ('ViT-B-16' if on_gpu else 'cumdr-tiny')
rerank_k = a.rerank_k or (128 if on_gpu else 16)
if not on_gpu: torch.set_num_threads(a.threads or 1)
elif a.threads: torch.set_num_threads(a.threads)

def sync():
    if on_gpu: torch.cuda.synchronize()

def timed(fn):
    sync()
    t = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - t

# ---------------------------------------------------------------- data: exactly CUHK-PEDES-sized splits
def sizes(split):
    ids, imgs, caps = CUHK[split]
    f = a.ids / ids
    return a.ids, round(imgs * f), round(caps * f)

def cut(entries, root: Path, split: str) -> RetrievalSplit:
    "The first 3 images (first 2 captions) of every identity, plus 4th images and 3rd captions until the sizes match."
    n_ids, n_img, n_cap = sizes(split)
    by_id = {}
    for e in entries: by_id.setdefault(e['id'], []).append(e)
    if len(by_id) != n_ids: raise ValueError(f'{split}: {len(by_id)} identities, expected {n_ids}')
    base = [es[:3] for es in by_id.values()]
    extra = [es[3] for es in by_id.values() if len(es) > 3]
    if sum(map(len, base)) > n_img or sum(map(len, base)) + len(extra) < n_img:
        raise ValueError(f'{split}: cannot pick {n_img} images from {sum(len(es) for es in by_id.values())}')
    chosen = sorted([e for es in base for e in es] + extra[:n_img - sum(map(len, base))],
                    key=lambda e: (e['id'], e['file_path']))
    n_third = n_cap - 2 * len(chosen)
    if not 0 <= n_third <= len(chosen): raise ValueError(f'{split}: cannot pick {n_cap} captions from {len(chosen)} images')
    caps = [(c, e['id'], g) for g, e in enumerate(chosen) for c in e['captions'][:3 if g < n_third else 2]]
    return RetrievalSplit(image_paths=[str(root / 'imgs' / e['file_path']) for e in chosen],
                          image_keys=[e['file_path'] for e in chosen],
                          image_pids=torch.tensor([e['id'] for e in chosen]),
                          captions=[c for c, _, _ in caps], caption_pids=torch.tensor([q for _, q, _ in caps]),
                          caption_image_index=torch.tensor([g for _, _, g in caps]))

data_root = Path(a.data_dir) / f'eval_ids{2 * a.ids}_seed{a.seed}'
root = data_root / 'CUHK-PEDES'
t = time.perf_counter()
if not (root / 'synthetic_meta.json').exists():
    generate(data_root, 'CUHK-PEDES', ids=2 * a.ids, seed=a.seed, images_per_id=(3, 4), captions_per_image=3)
    gen_s = f'generated in {time.perf_counter() - t:.0f} s'
else: gen_s = 'cached'
entries = json.loads((root / 'reid_raw.json').read_text())
first = min(e['id'] for e in entries)
test = cut([e for e in entries if e['id'] < first + a.ids], root, 'test')
val = cut([e for e in entries if e['id'] >= first + a.ids], root, 'val')

# ---------------------------------------------------------------- model: every component on
cfg = make_config('auto', backbone=backbone, dataset='CUHK-PEDES', pretrained=None, device=a.device,
                  cum=True, rucm=True, dar=True, rerank_k=rerank_k, dar_k=a.dar_k, dar_steps=a.dar_steps, seed=a.seed,
                  **({'image_size': tuple(a.image_size)} if a.image_size else {}),
                  **({'num_workers': a.num_workers} if a.num_workers is not None else {}))
if 'itm' not in cfg.loss_names.split('+'):  # the small preset leaves ITM out; the benchmark times every stage
    cfg = dataclasses.replace(cfg, loss_names=cfg.loss_names + '+itm')
torch.manual_seed(a.seed)
model = CUMDR(cfg, 11003).to(a.device).eval()  # 11,003 training identities as on CUHK-PEDES (the classifier is unused)
stages = default_stages(model, cfg)
assert list(stages) == ['global', 'rucm', 'itm', 'dar'], list(stages)
if a.itm_chunk: stages['itm'].chunk = a.itm_chunk

print(f'CUHK-PEDES-sized synthetic data ({gen_s}; {data_root}): test {test}, val {val}')
print(f'model: random {backbone} at {cfg.image_size[0]}x{cfg.image_size[1]}, cross {cfg.cross_layers} layer(s) x '
      f'{cfg.cross_heads} heads, components {cfg.components}; stages: ' + ' -> '.join(getattr(s, '__name__', None) or repr(s) for s in stages.values()))
print(f'device {a.device}' + (f' ({torch.cuda.get_device_name()})' if on_gpu else f', {torch.get_num_threads()} CPU thread(s)')
      + f', eval batch {cfg.eval_batch_size}, loader workers {cfg.num_workers}, bf16 {cfg.bf16 and on_gpu}')
if not on_gpu:
    import os
    print(f'(CPU machine with {os.cpu_count()} cores shared with other users: load average '
          + ' '.join(f'{x:.1f}' for x in os.getloadavg()) + ' at the start; times are noisy)')

# warm-up (lazy initialisation, allocator, kernels) on a few items
warm = RetrievalSplit(test.image_paths[:8], test.image_keys[:8], test.image_pids[:8], test.captions[:8],
                      test.caption_pids[:8], test.caption_image_index[:8].clamp(max=7))
encode_split(model, warm, cfg)

# ---------------------------------------------------------------- vectorised pipeline, phase by phase
class Stopwatch:
    "Time spent inside a wrapped callable (model.encode_image / encode_text): forward time vs the loader's."
    def __init__(self, fn): self.fn, self.s = fn, 0.
    def __call__(self, *args):
        sync()
        t = time.perf_counter()
        out = self.fn(*args)
        sync()
        self.s += time.perf_counter() - t
        return out

phase = {}
t_all = time.perf_counter()
img_sw, txt_sw = Stopwatch(model.encode_image), Stopwatch(model.encode_text)
model.encode_image, model.encode_text = img_sw, txt_sw     # instance attributes: timed wrappers of the same methods
enc, t_enc = timed(lambda: encode_split(model, test, cfg))
phase['encode test: gallery image forward'] = img_sw.s
phase['encode test: query text forward'] = txt_sw.s
phase['encode test: loading, decoding, tokenising'] = t_enc - img_sw.s - txt_sw.s
del model.encode_image, model.encode_text
annotations, phase['annotations: read JSON'] = timed(lambda: read_annotations(root / 'external_annotations.json'))
ctx = dict(model=model, enc=enc, cfg=cfg, split=test, annotations=annotations)
ann_feats, phase['annotations: encode gallery texts'] = timed(lambda: annotation_features(ctx))  # cached in ctx
val_enc, phase['fit on val: encode val'] = timed(lambda: encode_split(model, val, cfg))
val_ctx = dict(model=model, enc=val_enc, cfg=cfg, split=val, annotations=annotations)

# what evaluate(..., fit_split=val) runs: the stages up to the last fitted one, each fitted first (the presets fit
# RUCM's beta, ITM's depth and weight and DAR's alpha)
_, phase['fit on val: annotations, global, rucm, itm, dar fits'] = timed(lambda: run_stages(stages, val_ctx, fit=True))
scores, prev = {}, None
for name, stage in stages.items():
    prev, phase[f'stage {name}'] = timed(lambda: stage(prev, ctx))
    scores[name] = prev
metrics, phase['metrics (4 stages)'] = timed(lambda: {n: retrieval_metrics(s, enc.query_pids, enc.gallery_pids)
                                                     for n, s in scores.items()})
t_vec_total = time.perf_counter() - t_all
beta = stages['rucm'].beta

# ---------------------------------------------------------------- per-query loop of the same stages
Q, G = scores['global'].shape
nl = min(a.loop_queries, Q)
itm, dar = stages['itm'], stages['dar']
noise = torch.randn(Q, min(dar.k, G), generator=torch.Generator().manual_seed(dar.seed)).to(a.device, enc.txt_global.dtype)
qp, gp = enc.query_pids.cpu().numpy(), enc.gallery_pids.cpu().numpy()
loop_t = dict.fromkeys(['global', 'rucm', 'itm', 'dar', 'metrics'], 0.)

def lap(name, fn):
    out, dt = timed(fn)
    loop_t[name] += dt
    return out

def itm_row(q, row):
    top = row.topk(min(itm.k, G)).indices
    with autocast_for(a.device, cfg.bf16):
        logit = model.itm_logit(enc.txt_tokens[q].expand(len(top), -1, -1), enc.txt_pad[q].expand(len(top), -1),
                                enc.img_tokens[top]).float()
    return combine_topk(row[None], top[None], ItmRerank.rule(logit, row[top] / cfg.tau, itm.weight)[None])[0]

def dar_row(q, row):
    top = row.topk(min(dar.k, G)).indices
    den = model.denoiser.conditioned(enc.txt_global[q:q + 1], enc.img_global[top][None])
    x0 = model.diffusion.sample(den, (1, len(top)), dar.steps, noise=noise[q:q + 1])
    return DAR_FUSIONS[dar.fusion](row[None], top[None], x0, dar.alpha)[0]

def fusion_row(q, row):
    c = complementary_scores(enc.txt_global[q:q + 1], ann_feats)[0]
    u = fusion_uncertainty(enc, slice(q, q + 1), cfg.tau, stages['rucm'].sigma)[0]   # the stage's own u
    return row + beta * (u / (1 + u)) * c

loop_rows, loop_metrics = [], dict.fromkeys(scores, None)
with torch.no_grad():
    for q in range(nl):
        rows = {}
        rows['global'] = lap('global', lambda: enc.txt_global[q] @ enc.img_global.T)
        rows['rucm'] = lap('rucm', lambda: fusion_row(q, rows['global']))
        rows['itm'] = lap('itm', lambda: itm_row(q, rows['rucm']))
        rows['dar'] = lap('dar', lambda: dar_row(q, rows['itm']))
        def per_query_metrics():
            for n, r in rows.items():
                m = retrieval_metrics_loop(r[None].cpu().numpy(), qp[q:q + 1], gp)
                loop_metrics[n] = m if loop_metrics[n] is None else {k: loop_metrics[n][k] + m[k] for k in METRICS}
        lap('metrics', per_query_metrics)
        loop_rows.append(rows['dar'])
loop_final = torch.stack(loop_rows)

# checks on the loop's queries: the final scores, the metrics, and (beta may be 0 for a random model) the fusion
# term on its own with beta = 1
diff = (loop_final - scores['dar'][:nl]).abs().max().item()
same_rank = bool((loop_final.argsort(1, descending=True)[:, :10] == scores['dar'][:nl].argsort(1, descending=True)[:, :10]).all())
sub = {n: retrieval_metrics(s[:nl], enc.query_pids[:nl], enc.gallery_pids) for n, s in scores.items()}
mdiff = max(abs(sub[n][k] - loop_metrics[n][k] / nl) for n in scores for k in METRICS)
sub_enc = dataclasses.replace(enc, txt_global=enc.txt_global[:nl], txt_logsig=enc.txt_logsig[:nl])  # the loop's queries
one = ComplementaryFusion(cfg.rucm_protocol, cfg.rucm_weighting, beta=1., sigma=stages['rucm'].sigma)(
    scores['global'][:nl], dict(ctx, enc=sub_enc))
beta_save = beta
beta = 1.
fdiff = (torch.stack([fusion_row(q, scores['global'][q]) for q in range(nl)]) - one).abs().max().item()
beta = beta_save

# ---------------------------------------------------------------- report
tol = 5e-2 if on_gpu and cfg.bf16 else 1e-4      # bf16 ITM in batches of different shapes on GPU
print(f'\nloop vs vectorised on the first {nl} queries: final scores max |diff| {diff:.2e}, same top-10 order: {same_rank}; '
      f'metrics max |diff| {mdiff:.2e}; fusion term alone (beta = 1) max |diff| {fdiff:.2e}')
assert fdiff < 1e-4, fdiff
if on_gpu and cfg.bf16:  # bf16 ITM in batches of other shapes: small differences that may flip near-ties
    if diff > tol or not same_rank: print(f'WARNING: loop and vectorised final scores differ by {diff:.2e} (bf16 ITM)')
else: assert diff < tol and mdiff < 1e-6, (diff, mdiff)

shared = sum(v for k, v in phase.items() if not k.startswith(('stage', 'metrics')))
vec_stages = sum(v for k, v in phase.items() if k.startswith(('stage', 'metrics')))
x = Q / nl
print(f'\nvectorised pipeline: {t_vec_total:.1f} s end to end (fitted beta = {beta:g}; rerank k up to {rerank_k} in chunks '
      f'of {stages["itm"].chunk} pairs; fitted {stages["itm"]!r}, {dar!r})')
for k, v in phase.items(): print(f'  {k:<46} {v:8.2f} s')
print(f'  {"(sum of phases)":<46} {sum(phase.values()):8.2f} s')
print(f'\nper-query loop: timed on {nl} of {Q} queries, extrapolated x{x:.1f} (marked ~)')
print(f'  {"stage":<10} {"vectorised (s)":>15} {"loop, measured (s)":>19} {"loop, all ~(s)":>15} {"speed-up":>9}')
rows = [(n, phase[f'stage {n}']) for n in ('global', 'rucm', 'itm', 'dar')] + [('metrics', phase['metrics (4 stages)'])]
for n, v in rows:
    print(f'  {n:<10} {v:15.2f} {loop_t[n]:19.2f} {loop_t[n] * x:15.1f} {loop_t[n] * x / v:8.1f}x')
loop_stages = sum(loop_t.values()) * x
print(f'  {"all":<10} {vec_stages:15.2f} {sum(loop_t.values()):19.2f} {loop_stages:15.1f} {loop_stages / vec_stages:8.1f}x')
print(f'end to end (shared encoding, annotations and val fit {shared:.1f} s counted in both): vectorised {t_vec_total:.1f} s, '
      f'loop ~{shared + loop_stages:.1f} s, ratio ~{(shared + loop_stages) / t_vec_total:.1f}x')
if rerank_k != 128:
    est = phase['stage itm'] * 128 / rerank_k   # ITM cost is linear in the pairs scored, Q x k
    print(f'(ITM ran at k = {rerank_k}; at CUHK-PEDES\'s k = 128 the ITM stage would take ~{est:.0f} s and the pipeline '
          f'~{t_vec_total - phase["stage itm"] + est:.0f} s: extrapolated linearly in k)')
print('\ntest metrics (random model; a check that the stages ran, not a result):')
print(f"{'stage':<8}" + ''.join(f'{k:>7}' for k in METRICS))
for n, m in metrics.items(): print(f'{n:<8}' + ''.join(f'{m[k]:7.2f}' for k in METRICS))
