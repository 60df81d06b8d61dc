#!/usr/bin/env bash
# natural-opt v2: natural v3 trained on least-squares-tuned values, 128 then 256 px crops, on
# this project's 2-core CPU (docs/models/natural-opt.md). Samples are a pure function of seed
# and index; stage 1 ran in fp32 (--no-amp), stage 2 in bf16.
set -euo pipefail
DATA=${DATA:-../shared/datasets/bsds500}
mkdir -p runs/natural-v3
git show 53a6656:models/weights/natural.pt > runs/natural-v3/natural.pt
COMMON=(--data "$DATA/train" --data "$DATA/test" --preset refine-16 --loss l1 --task sparse
    --quality 65 --optimize 50 --schedule cosine --beta1 0.9 --workers 2)
sparsepix train "${COMMON[@]}" --out runs/natural-opt --init runs/natural-v3/natural.pt \
    --lr 3e-4 --batch 8 --steps 3000 --seed 5 --val-every 250 --ckpt-every 250 --no-amp
sparsepix export runs/natural-opt/latest.pt natural-opt --out runs/v1 --version 1
sparsepix train "${COMMON[@]}" --out runs/opt256 --init runs/v1/natural-opt.pt --crop 256 \
    --lr 1e-4 --warmup 250 --batch 4 --steps 4000 --seed 18 --val-every 500
sparsepix export runs/opt256/latest.pt natural-opt --out models/weights --version 2 --ensemble 8 --description \
    "X-GAN refiner of the Delaunay-linear fill (refine-16) for values tuned by least squares (encode --optimize), BSDS500"
