#!/usr/bin/env bash
# faces-block-holes: the filler `restore --task color-block` hands the patch its blind restorer
# found (docs/models/faces-block-holes.md): faces-white-block v1 fine-tuned, squared error, on
# faces with a square hole (16-64 px, up to half the side) at a random place, told where. Two
# stages on this project's 2-core CPU (2,500 steps: version 1; 1,500 more at half the learning
# rate: version 2); resumes are exact (`sparsepix train --resume`).
# A smoke run: STEPS=2 STEPS2=2 BATCH=2 WORKERS=0 RUN=/tmp/fbh/run WEIGHTS=/tmp/fbh-w bash scripts/train_faces-block-holes.sh
set -euo pipefail
D=$(realpath "${DATA:-../shared/datasets/celeba_faces_128}")
RUN=${RUN:-runs/faces-holes}
source "$(dirname "$0")/faces_data.sh"
link_faces "$D" "$RUN-data"
git show 92f678b:models/weights/faces-white-block.pt > "$RUN-init.pt"
COMMON=(--data "$RUN-data" --val-count 64 --task block-holes --crop 128 --preset refine-32-deep
    --loss l2 --beta1 0.9 --schedule cosine --batch "${BATCH:-8}" --workers "${WORKERS:-1}"
    --val-every 500 --ckpt-every 500 --device cpu)
DESCRIPTION="X-GAN filler of square holes in 128 px face crops (refine-32-deep, from faces-white-block v1), squared error"
OMP_NUM_THREADS=2 sparsepix train "${COMMON[@]}" --out "$RUN" --init "$RUN-init.pt" --lr 1e-4 --warmup 100 \
    --steps "${STEPS:-2500}" --seed 38
# The raw weights, as for the other fine-tunes from a shipped model (docs/EXPERIMENTS.md);
# --ensemble 2: decoders average the face and its mirror image.
sparsepix export "$RUN/latest.pt" faces-block-holes --out "$RUN-w1" --version 1 --no-ema --ensemble 2 \
    --description "$DESCRIPTION"
OMP_NUM_THREADS=2 sparsepix train "${COMMON[@]}" --out "$RUN-2" --init "$RUN-w1/faces-block-holes.pt" --lr 5e-5 \
    --warmup 50 --steps "${STEPS2:-1500}" --seed 39
sparsepix export "$RUN-2/latest.pt" faces-block-holes --out "${WEIGHTS:-models/weights}" --version 2 --no-ema \
    --ensemble 2 --description "$DESCRIPTION"
