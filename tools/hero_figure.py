"""Draw the README's opening figure: captioned synthetic people beside the retrieval pipeline, CUM, RUCM and DAR marked.

Usage: python tools/hero_figure.py [OUT]   (default nbs/images/hero.png; README.md shows it)
The people and captions come from `cumdr.world`, `cumdr.painter` and `cumdr.captions` (identities 3, 7, 11, 19, front
view, seeded); the diagram is drawn with matplotlib patches, so the figure is regenerated, not edited by hand.
"""
import sys
import textwrap
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from cumdr.captions import write_caption
from cumdr.painter import render_person
from cumdr.world import sample_identity, visible_attributes

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / 'nbs' / 'images' / 'hero.png')
fig = plt.figure(figsize=(13, 4.6))
people = [3, 7, 11, 19]
for k, i in enumerate(people):
    ident = sample_identity(np.random.default_rng(i))
    ax = fig.add_axes([.005 + k * .085, .26, .075, .66])
    ax.imshow(render_person(ident['attributes'], ident['look'], 'front', np.random.default_rng([i, 0])))
    ax.set_axis_off()
    caption = write_caption(np.random.default_rng([i, 1]), visible_attributes(ident['attributes'], 'front'))[0]
    lines = textwrap.wrap(caption, 18)
    fig.text(.0425 + k * .085, .24, '\n'.join(lines[:6]) + (' ...' if len(lines) > 6 else ''), ha='center', va='top',
             fontsize=6.5, style='italic')

ax = fig.add_axes([.35, 0., .65, 1.])
ax.set_xlim(0, 100)
ax.set_ylim(0, 40)
ax.set_axis_off()
COLOURS = dict(plain='#e8e8e8', cum='#cfe3f7', rucm='#fde3c8', dar='#d9f0d3')

def box(x, y, w, h, text, kind='plain', size=8):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle='round,pad=0.4,rounding_size=1.2', fc=COLOURS[kind], ec='#555',
                                lw=.8))
    ax.text(x + w / 2, y + h / 2, text, ha='center', va='center', fontsize=size)

def arrow(x0, y0, x1, y1):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle='-|>', mutation_scale=9, lw=.9, color='#444'))

box(1, 29, 14, 6, 'caption\n(query)')
box(1, 5, 14, 6, 'gallery\nimages')
box(20, 29, 15, 6, 'text tower\n(CLIP)')
box(20, 5, 15, 6, 'image tower\n(CLIP)')
box(40, 17, 17, 9, 'CUM\nGaussians (μ, σ)\nper caption, image', 'cum')
box(62, 29, 17, 7, 'global similarity\nS = cos(μ_t, μ_v)')
box(62, 17, 17, 8, 'RUCM\n+ w(u)·C(q, annotation)\nevidential training', 'rucm')
box(62, 5, 17, 8, 'ITM re-rank top-k\nDAR: DDIM over\nthe top-K', 'dar')
box(84, 17, 14, 8, 'ranking\nR@1, R@5, mAP\nmINP')
arrow(15.5, 32, 19.5, 32)
arrow(15.5, 8, 19.5, 8)
arrow(35.5, 31, 40.5, 24)
arrow(35.5, 9, 40.5, 19)
arrow(57.5, 24, 61.5, 31)
arrow(70.5, 28.5, 70.5, 25.5)
arrow(70.5, 16.5, 70.5, 13.5)
arrow(79.5, 9, 85, 17)
ax.text(50, 38.5, 'encode once  →  score the whole gallery  →  refine the top  →  metrics', ha='center', fontsize=9,
        weight='bold')
for k, (kind, name) in enumerate((('cum', 'CUM: uncertainty'), ('rucm', 'RUCM: matching'), ('dar', 'DAR: diffusion'))):
    ax.add_patch(FancyBboxPatch((40 + k * 20, 0.3), 2.2, 1.6, boxstyle='round,pad=0.2', fc=COLOURS[kind], ec='#555', lw=.6))
    ax.text(43.2 + k * 20, 1.1, name, va='center', fontsize=7.5)
out.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(out, dpi=110)
print(f'wrote {out}')
