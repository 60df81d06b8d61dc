#!/usr/bin/env bash
# faces v6: version 5 grown to refine-32-deep, then three stages on a lent H100 (16 CPU cores),
# each on its own share of the training faces (docs/models/faces.md). GPU kernels are not bitwise
# deterministic; --stop-at 5143 replays where stage 1's time limit cut it.
set -euo pipefail
D=${DATA:-../shared/datasets/celeba_faces_128}
WORKERS=${WORKERS:-15}
mkdir -p faces-1 faces-2 faces-3
LC_ALL=C ls "$D" | sed -n 1,6400p | sed "s|^|$D/|" | xargs cp -t faces-1
LC_ALL=C ls "$D" | sed -n 6401,11700p | sed "s|^|$D/|" | xargs cp -t faces-2
LC_ALL=C ls "$D" | sed -n 11701,16459p | sed "s|^|$D/|" | xargs cp -t faces-3
git show f1ec0fb:models/weights/faces.pt > faces-v5.pt
COMMON=(--preset refine-32-deep --loss l2 --task sparse --quality 65 --val-count 8 --warmup 500
    --beta1 0.9 --batch 32 --workers "$WORKERS" --val-every 500 --ckpt-every 1000)
sparsepix train --data faces-1 --out runs/f1 "${COMMON[@]}" --init faces-v5.pt --lr 2e-4 \
    --schedule constant --steps 20000 --seed 20 --stop-at 5143
sparsepix export runs/f1/latest.pt faces --out runs/w1 --version 6
sparsepix train --data faces-2 --out runs/f2 "${COMMON[@]}" --init runs/w1/faces.pt --lr 2e-4 \
    --schedule cosine --steps 5400 --seed 21
sparsepix export runs/f2/latest.pt faces --out runs/w2 --version 6
sparsepix train --data faces-3 --out runs/f3 "${COMMON[@]}" --init runs/w2/faces.pt --lr 1e-4 \
    --schedule cosine --steps 4700 --seed 22
sparsepix export runs/f3/latest.pt faces --out models/weights --version 6 --ensemble 2 --description \
    "X-GAN refiner of the Delaunay-linear fill (refine-32-deep) for aligned 128 px face crops (CelebA), squared error, sparse 1-20 %, quality-65 values"
