"""How fast the ITM head learns under each negative schedule, on frozen towers.

Usage: python benchmarks/itm_negatives.py [--pretrained synthetic] [--root runs/itm-negatives-data] [--steps 600]
       [--out results/pretrain/itm-negatives.json]

The towers (`pretrained`, default the shipped weights) encode the default synthetic dataset's training split
once, without augmentation; then a fresh cross-modal encoder (1 layer, 4 heads, the text residual kept) and a
linear ITM head learn from the cached token features alone, batch 64, AdamW at 5e-4, one seed, for each
schedule: negatives drawn uniformly among other people of the batch, at tau = 0.3, at tau = 0.07 (the
reference's start), at 0.02 (IRRA's contrastive tau), and uniformly for 300 steps then at 0.07 or 0.3. The
training-loss mean of every 100 steps is written per schedule; the prior of the 1:2 positive:negative mix
is 0.636. Frozen towers isolate what the schedule does: in a fine-tuning the towers move under the head. They
must read the dataset's words for a head to learn anything on top of them: the committed record
(results/pretrain/itm-negatives.json) uses the previous shipped towers, pretrained on the fine-tuning world
itself (`git show 6549a3a:cumdr/weights/cumdr-tiny-synthetic.safetensors > runs/previous-shipped.safetensors`;
--pretrained runs/previous-shipped.safetensors); on the current start, whose text tower never read them, a
fresh head stays at the prior under every schedule.
"""
import argparse, json, math, time
from pathlib import Path

import torch
import torch.nn as nn

from cumdr.backbone import build_backbone
from cumdr.datasets import build_transform, get_tokenizer, load_pedes, read_image
from cumdr.files import atomic_file
from cumdr.losses import ITM_PRIOR, CrossModalEncoder, itm_loss, itm_pairs, summary_token
from cumdr.model import text_padding
from cumdr.synthetic import generate

SCHEDULES = {'uniform': (math.inf, 0), 'tau 0.3': (.3, 0), 'tau 0.07': (.07, 0), 'tau 0.02': (.02, 0),
             'uniform 300, then tau 0.07': (.07, 300), 'uniform 300, then tau 0.3': (.3, 300)}


@torch.no_grad()
def encode_train(pretrained: str, root: Path) -> dict:
    "Token and global features of every training pair of the default synthetic dataset (1,000 people, seed 0)."
    if not (root / 'CUHK-PEDES').is_dir():
        generate(root, 'CUHK-PEDES', 1000, 0)
    data = load_pedes('CUHK-PEDES', root)
    tower = build_backbone('cumdr-tiny', pretrained, (96, 32)).eval()
    transform, tokenize = build_transform((96, 32)), get_tokenizer()
    pairs = data.train
    paths = sorted({s.image_path for s in pairs})
    index = {p: i for i, p in enumerate(paths)}
    images = torch.stack([transform(read_image(p)) for p in paths])
    img_global, img_tokens = zip(*[tower.encode_image(images[i:i + 256]) for i in range(0, len(images), 256)])
    ids = tokenize([s.caption for s in pairs])
    txt_global, txt_tokens = zip(*[tower.encode_text(ids[i:i + 256]) for i in range(0, len(ids), 256)])
    return dict(img_global=torch.cat(img_global), img_tokens=torch.cat(img_tokens), txt_global=torch.cat(txt_global),
                txt_tokens=torch.cat(txt_tokens), txt_pad=text_padding(ids),
                image=torch.tensor([index[s.image_path] for s in pairs]), pid=torch.tensor([s.pid for s in pairs]))


def learn(feats: dict, tau: float, uniform_steps: int, steps: int, batch: int = 64, lr: float = 5e-4) -> list[float]:
    "Mean ITM loss of every 100 steps of a fresh head under one negative schedule."
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    d = feats['img_global'].shape[1]
    cross, head = CrossModalEncoder(d, 4, 1, True), nn.Linear(d, 2)
    opt = torch.optim.AdamW([*cross.parameters(), *head.parameters()], lr=lr, weight_decay=4e-5)
    losses, means = [], []
    for step in range(steps):
        b = torch.randperm(len(feats['pid']), generator=g)[:batch]
        img = feats['image'][b]
        out = dict(pids=feats['pid'][b], txt_global=feats['txt_global'][b], img_global=feats['img_global'][img])
        (tp, vp), (tn, vn) = itm_pairs(out, math.inf if step < uniform_steps else tau, g)
        t, v = torch.cat([tp, tn]), torch.cat([vp, vn])
        pad = feats['txt_pad'][b][t]
        h = cross(feats['txt_tokens'][b][t], feats['img_tokens'][img][v], pad)
        logits = head(summary_token(h, pad))
        loss = itm_loss(logits[:len(tp)], logits[len(tp):])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if (step + 1) % 100 == 0:
            means.append(round(sum(losses[-100:]) / 100, 4))
    return means


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--pretrained', default='synthetic')
    p.add_argument('--root', default='runs/itm-negatives-data')
    p.add_argument('--steps', type=int, default=600)
    p.add_argument('--out', default='results/pretrain/itm-negatives.json')
    a = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    feats = encode_train(a.pretrained, Path(a.root))
    curves = {}
    for name, (tau, uniform_steps) in SCHEDULES.items():
        curves[name] = learn(feats, tau, uniform_steps, a.steps)
        print(f'{name:28s} ' + ' '.join(f'{v:.3f}' for v in curves[name]), flush=True)
    record = dict(pretrained=a.pretrained, steps=a.steps, prior=ITM_PRIOR, every=100, curves=curves,
                  command='python benchmarks/itm_negatives.py ' + ' '.join(
                      f'--{k} {v}' for k, v in vars(a).items() if k != 'out'), wall_s=round(time.time() - t0))
    with atomic_file(Path(a.out)) as tmp:
        tmp.write_text(json.dumps(record, indent=1))


if __name__ == '__main__':
    main()
