#!/usr/bin/env bash
# Fit every classical pipeline on all 60,000 MNIST training images and score it on the 10,000
# test images. Models go to a scratch store ($OUT, default /tmp/workbench-full-fits) so that the
# shipped models/ stays as it is. Prints one line per pipeline plus wall time and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/workbench-full-fits}
PIPELINES=${*:-logreg pca_knn svc_rbf deskew_svc hog_svc deskew_hog_svc random_forest deskew_vsvc deskew_hog_vsvc idm_knn}
for p in $PIPELINES; do
  /usr/bin/time -f "$p: wall %e s, peak memory %M KB" env WORKBENCH_MODELS="$OUT" .venv/bin/workbench fit "$p"
done
