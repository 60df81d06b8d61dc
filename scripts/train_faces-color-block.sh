#!/usr/bin/env bash
# faces-color-block: the X-GANs paper's cluttered-colour-block restorer for 128 px faces
# (docs/models/faces-color-block.md): faces-white-block v1 fine-tuned, squared error, on faces
# with a patch of another face (16-64 px, up to half the side) pasted at a random place; the
# network is not told where. Three stages on this project's 2-core CPU (8,000 steps: version 1;
# 6,000 more at half the learning rate: version 2; 3,500 more at a quarter: version 3); resumes
# are exact.
# A smoke run: STEPS=2 STEPS2=2 STEPS3=2 BATCH=2 WORKERS=0 RUN=/tmp/fcb/run WEIGHTS=/tmp/fcb-w bash scripts/train_faces-color-block.sh
set -euo pipefail
D=$(realpath "${DATA:-../shared/datasets/celeba_faces_128}")
RUN=${RUN:-runs/faces-color-block}
source "$(dirname "$0")/faces_data.sh"
link_faces "$D" "$RUN-data"
git show 92f678b:models/weights/faces-white-block.pt > "$RUN-init.pt"
COMMON=(--data "$RUN-data" --val-count 64 --task color-block --crop 128 --preset refine-32-deep
    --loss l2 --beta1 0.9 --schedule cosine --batch "${BATCH:-8}" --workers "${WORKERS:-1}"
    --val-every 500 --ckpt-every 500 --device cpu)
DESCRIPTION="X-GAN restorer of a pasted colour block on 128 px face crops (refine-32-deep, from faces-white-block v1), squared error"
sparsepix train "${COMMON[@]}" --out "$RUN" --init "$RUN-init.pt" --lr 2e-4 --warmup 200 \
    --steps "${STEPS:-8000}" --seed 35
# The raw weights: they validated above their average (EMA) at the end of each stage.
sparsepix export "$RUN/latest.pt" faces-color-block --out "$RUN-w1" --version 1 --no-ema --description "$DESCRIPTION"
sparsepix train "${COMMON[@]}" --out "$RUN-2" --init "$RUN-w1/faces-color-block.pt" --lr 1e-4 --warmup 100 \
    --steps "${STEPS2:-6000}" --seed 36
sparsepix export "$RUN-2/latest.pt" faces-color-block --out "$RUN-w2" --version 2 --no-ema --description "$DESCRIPTION"
sparsepix train "${COMMON[@]}" --out "$RUN-3" --init "$RUN-w2/faces-color-block.pt" --lr 5e-5 --warmup 100 \
    --steps "${STEPS3:-3500}" --seed 37
# --ensemble 2: decoders average the face and its mirror image, as for `faces`.
sparsepix export "$RUN-3/latest.pt" faces-color-block --out "${WEIGHTS:-models/weights}" --version 3 --no-ema --ensemble 2 --description "$DESCRIPTION"
