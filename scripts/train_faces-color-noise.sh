#!/usr/bin/env bash
# faces-color-noise: the X-GANs paper's colour-noise restorer for 128 px faces
# (docs/models/faces-color-noise.md). Version 1: a detector of the pixels 85-95 % colour noise
# left true, trained on the training faces (the last 1,000 by name held out) and paired with
# `faces` v6, which rebuilds the face from them. Version 2: the same detector, with `faces` v6
# fine-tuned, squared error, on the pixels the detector keeps. Version 3: that generator fine-tuned
# again on the detector's picks at threshold 0.3, which keep more true pixels and more noise.
# Version 4: a detector of three passes with that generator. Version 5: the generator fine-tuned on
# that detector's picks. CPU runs; the generator stages resume exactly (`sparsepix train --resume`).
# A smoke run: STEPS=2 SCORE=2 STEPS2=2 STEPS3=2 STEPS4=2 BATCH=2 WORKERS=0 RUN=/tmp/fcn/run WEIGHTS=/tmp/fcn-w bash scripts/train_faces-color-noise.sh
set -euo pipefail
D=$(realpath "${DATA:-../shared/datasets/celeba_faces_128}")
RUN=${RUN:-runs/faces-color-noise}
# The generator version 1 ships with, pinned: faces v6 as committed.
mkdir -p "$RUN-faces"
git show 110a74d:models/weights/faces.json > "$RUN-faces/faces.json"
git show e3ffa77:models/weights/faces.pt > "$RUN-faces/faces.pt"
DETECTOR=(--name faces-color-noise --steps "${STEPS:-3000}" --val-score "${SCORE:-200}" --seed 0)
sparsepix noisedetect "$D" "${DETECTOR[@]}" --generator "$RUN-faces/faces.json" \
    --version 1 --out "$RUN-w1"
source "$(dirname "$0")/faces_data.sh"
link_faces "$D" "$RUN-data"
COMMON=(--data "$RUN-data" --val-count 64 --task color-noise --crop 128 --preset refine-32-deep --loss l2
    --beta1 0.9 --schedule cosine --lr 1e-4 --batch "${BATCH:-8}" --workers "${WORKERS:-2}" --val-every 500
    --device cpu)
sparsepix train "${COMMON[@]}" --detector "$RUN-w1/faces-color-noise.json" --init "$RUN-faces/faces.pt" \
    --warmup 100 --steps "${STEPS2:-2000}" --ckpt-every 500 --seed 38 --out "$RUN"
# The raw weights, as for the other fine-tunes from a shipped model (docs/EXPERIMENTS.md).
sparsepix export "$RUN/latest.pt" faces-color-noise-generator --out "$RUN-gen" --no-ema --ensemble 2 \
    --description "faces v6 fine-tuned on the pixels the faces-color-noise v1 detector keeps"
sparsepix noisedetect "$D" "${DETECTOR[@]}" --generator "$RUN-gen/faces-color-noise-generator.json" \
    --detector-from "$RUN-w1/faces-color-noise.json" --version 2 --out "$RUN-w2"
# Version 3: version 2 with the detector's threshold at 0.3, its generator fine-tuned on those picks.
sparsepix noisedetect "$D" "${DETECTOR[@]}" --generator "$RUN-gen/faces-color-noise-generator.json" \
    --detector-from "$RUN-w1/faces-color-noise.json" --threshold 0.3 --version 2 --out "$RUN-w2t"
sparsepix train "${COMMON[@]}" --detector "$RUN-w2t/faces-color-noise.json" --init "$RUN-w2t/faces-color-noise.pt" \
    --warmup 50 --steps "${STEPS3:-1500}" --ckpt-every 250 --seed 39 --out "$RUN-3"
sparsepix export "$RUN-3/latest.pt" faces-color-noise-generator --out "$RUN-gen3" --no-ema --ensemble 2 --version 2 \
    --description "faces-color-noise v2's generator fine-tuned on the pixels its detector keeps at threshold 0.3"
sparsepix noisedetect "$D" "${DETECTOR[@]}" --generator "$RUN-gen3/faces-color-noise-generator.json" \
    --detector-from "$RUN-w1/faces-color-noise.json" --threshold 0.3 --version 3 --out "$RUN-w3"
# Version 4: a three-pass detector, trained as version 1's was, kept at 0.3, with version 3's generator.
sparsepix noisedetect "$D" "${DETECTOR[@]}" --passes 3 --threshold 0.3 \
    --generator "$RUN-gen3/faces-color-noise-generator.json" --version 4 --out "$RUN-w4"
# Version 5: version 4 with its generator fine-tuned on that detector's picks, at half the rate.
sparsepix train "${COMMON[@]}" --detector "$RUN-w4/faces-color-noise.json" --init "$RUN-w4/faces-color-noise.pt" \
    --lr 5e-5 --warmup 50 --steps "${STEPS4:-1500}" --ckpt-every 250 --seed 40 --out "$RUN-4"
sparsepix export "$RUN-4/latest.pt" faces-color-noise-generator --out "$RUN-gen4" --no-ema --ensemble 2 --version 3 \
    --description "faces-color-noise v3's generator fine-tuned on the pixels the three-pass detector of v4 keeps"
sparsepix noisedetect "$D" "${DETECTOR[@]}" --generator "$RUN-gen4/faces-color-noise-generator.json" \
    --detector-from "$RUN-w4/faces-color-noise.json" --version 5 --out "${WEIGHTS:-models/weights}"
