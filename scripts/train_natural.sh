#!/usr/bin/env bash
# natural v8: the stage that made version 8 from version 7 (docs/models/natural.md).
# Ran on one H200 with 16 CPU cores; GPU kernels are not bitwise deterministic, and --stop-at
# replays where the lease's time limits stopped it. Earlier versions' stages: the card's table.
set -euo pipefail
DATA=${DATA:-../shared/datasets/bsds500}
RUN=${RUN:-runs/natural-v8}
WORKERS=${WORKERS:-15}
git show 1b7aa73:models/weights/natural.pt > natural-v7.pt
OMP_NUM_THREADS=1 sparsepix train --data "$DATA/train" --data "$DATA/test" --val-count 8 \
    --out "$RUN" --preset refine-32-deep --init natural-v7.pt --loss l2 --task sparse \
    --quality 65 --crop 320 --lr 2e-4 --schedule cosine --warmup 500 --beta1 0.9 --batch 16 \
    --steps 6000 --echo 2 --workers "$WORKERS" --seed 32 --val-every 500 --ckpt-every 1000 \
    --stop-at 5272
# --ensemble: the card sets how many symmetries decoders average (measured for version 6).
sparsepix export "$RUN/latest.pt" natural --out models/weights --version 8 --ensemble 2 --description \
    "X-GAN refiner of the Delaunay-linear fill (refine-32-deep), trained on BSDS500 at 320 px, squared error, sparse 1-20 %, quality-65 values"
