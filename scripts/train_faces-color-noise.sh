#!/usr/bin/env bash
# faces-color-noise: the X-GANs paper's colour-noise restorer for 128 px faces
# (docs/models/faces-color-noise.md): a detector of the pixels 85-95 % colour noise left true,
# trained on the training faces (the last 1,000 by name held out), paired with `faces` v6, which
# rebuilds the face from them. One CPU run.
# A smoke run: STEPS=2 SCORE=2 WEIGHTS=/tmp/fcn-w bash scripts/train_faces-color-noise.sh
set -euo pipefail
D=$(realpath "${DATA:-../shared/datasets/celeba_faces_128}")
BASE=${RUN:-runs/faces-color-noise}-faces
# The generator the model ships with, pinned: faces v6 as committed.
mkdir -p "$BASE"
git show 110a74d:models/weights/faces.json > "$BASE/faces.json"
git show e3ffa77:models/weights/faces.pt > "$BASE/faces.pt"
python -m sparsepix.train.noisedetect "$D" --generator "$BASE/faces.json" --name faces-color-noise \
    --version 1 --steps "${STEPS:-3000}" --val-score "${SCORE:-200}" --seed 0 --out "${WEIGHTS:-models/weights}"
