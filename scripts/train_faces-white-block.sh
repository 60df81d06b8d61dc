#!/usr/bin/env bash
# faces-white-block v1: the X-GANs paper's white-block restorer for 128 px faces, fine-tuned
# from faces v6 (docs/models/faces-white-block.md). Ran on one H200 with 16 CPU cores; GPU
# kernels are not bitwise deterministic; --stop-at 5283 replays where the lease's time limit cut it.
# A CPU smoke run: STOP_AT=2 WORKERS=0 RUN=/tmp/fwb WEIGHTS=/tmp/fwb-w bash scripts/train_faces-white-block.sh
set -euo pipefail
D=${DATA:-../shared/datasets/celeba_faces_128}
RUN=${RUN:-runs/faces-white-block}
WORKERS=${WORKERS:-15}
# What fitted the lease's upload: every 4th training face (the first 16,459 by name) from the
# first, 3,561 of them, and the last 64 held-out faces, which --val-count 64 keeps for validation.
rm -rf "$RUN-data" && mkdir -p "$RUN-data"
{ LC_ALL=C ls "$D" | sed -n 1,16459p | awk 'NR % 4 == 1' | head -n 3561; LC_ALL=C ls "$D" | tail -n 64; } \
    | sed "s|^|$D/|" | xargs cp -t "$RUN-data"
git show e3ffa77:models/weights/faces.pt > "$RUN-faces-v6.pt"
OMP_NUM_THREADS=1 sparsepix train --data "$RUN-data" --val-count 64 --out "$RUN" \
    --preset refine-32-deep --init "$RUN-faces-v6.pt" --loss l2 --task white-block --crop 128 \
    --lr 2e-4 --schedule cosine --warmup 300 --beta1 0.9 --batch 16 --steps 12000 --echo 2 \
    --workers "$WORKERS" --seed 35 --val-every 1000 --ckpt-every 1000 --stop-at "${STOP_AT:-5283}"
sparsepix export "$RUN/latest.pt" faces-white-block --out "${WEIGHTS:-models/weights}" --version 1 \
    --description "X-GAN restorer of a white centre block on 128 px face crops (refine-32-deep, from faces v6), squared error"
