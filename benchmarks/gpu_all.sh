#!/usr/bin/env bash
# Every GPU measurement behind results/gpu/ in one run, each step's raw output in OUT/<step>.txt:
#   env          the machine (nvidia-smi, versions)
#   train_bench  the training step, ViT-B/16 at 384x128, batch 64, bf16: levers plain / fused AdamW / compiled forward,
#                with and without CUM + RUCM + DAR, a profile of each (top kernels, device idle share); the loader
#   eval_bench   the CUHK-PEDES-sized test set with every stage, ITM top-128, beside a per-query loop
#   scale_bench  top-k of 6,156 queries over 10k / 100k / 1M gallery features (time, memory)
#   paper_epoch  the README's paper-scale papermill command (every component) for one epoch on a CUHK-PEDES-sized
#                synthetic set (13,000 identities), through evaluation and the analyses: OUT/paper_1epoch.ipynb
# Usage: bash benchmarks/gpu_all.sh OUT            (on a GPU machine, from the repository root)
#        bash benchmarks/gpu_all.sh OUT --tiny     (the same steps at CPU size: checks the script, measures nothing)
# Each step has its own time limit (STEP_LIMIT seconds, default 300) and a failed step does not stop the others.
set -uo pipefail
out=${1:?usage: gpu_all.sh OUT [--tiny]}
tiny=${2:-}
limit=${STEP_LIMIT:-300}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
step() {  # step NAME COMMAND...: run it under the time limit, output and exit status into OUT/NAME.txt
  local name=$1; shift
  echo "+ $*" > "$out/$name.txt"
  local t0=$(date +%s)
  timeout "$limit" "$@" >> "$out/$name.txt" 2>&1
  local rc=$?
  echo "exit status $rc after $(( $(date +%s) - t0 )) s" | tee -a "$out/$name.txt"
}
{ date -u; nvidia-smi 2>&1 || echo 'no nvidia-smi'; python -c "import torch, open_clip; print('torch', torch.__version__, \
  'open_clip', open_clip.__version__, 'cuda', torch.cuda.is_available())"; nproc; } > "$out/env.txt" 2>&1
if [ "$tiny" = --tiny ]; then
  dev=cpu; ids=40
  step train_bench python benchmarks/train_bench.py --device cpu --steps 2 --warmup 1 --batch 8 --components none \
    --levers plain fused --profile --num-workers 0 --loader-batches 2 --loader-ids 40
  step eval_bench python benchmarks/eval_bench.py --device cpu --ids 30 --loop-queries 4 --dar-steps 5
  step scale_bench python benchmarks/scale_bench.py --device cpu --queries 256 --sizes 1000 10000 --dim 64
  paper="-p backbone cumdr-tiny -p epochs 1 -p batch_size 16 -p dar_steps 5"
else
  dev=cuda; ids=13000
  step train_bench python benchmarks/train_bench.py --device cuda --steps 30 --warmup 10 --components none cum+rucm+dar \
    --levers plain fused fused+compile --profile --num-workers 0 8 16 --loader-batches 30 --loader-ids 600
  step eval_bench python benchmarks/eval_bench.py --device cuda
  step scale_bench python benchmarks/scale_bench.py --device cuda
  paper="-p backbone ViT-B-16 -p epochs 1"
fi
step synth cumdr-synth --out "$out/data" --format CUHK-PEDES --ids $ids --seed 0
# the README's paper-scale command; no pretrained weights can be downloaded here, so the towers start from random
# weights (the cost of a step does not depend on them) and the last cell's R@1 floor, sigma and regime checks are off
step paper_epoch papermill --log-output --no-progress-bar -k python3 nbs/reproduce/train_eval.ipynb \
  "$out/paper_1epoch.ipynb" -p dataset CUHK-PEDES -p root_dir "$out/data" -p pretrained none -p device $dev \
  -p components cum+rucm+dar -p output_dir "$out/paper_1epoch" -p min_r1_over_chance 0 -p min_sigma_change 0 \
  -p min_finetune_gain 0 -p max_itm_loss 1 $paper
rm -rf "$out/data" "$out/paper_1epoch"/*.pt
