#!/bin/bash
# Trains the GAN family's presets side by side on one machine (a GPU box),
# each run time-boxed so that all of them end together.
#
#   DATA_DIR=/tmp/data MINUTES=7 bash scripts/train_gan_presets_in_parallel.sh
#
# DATA_DIR holds the shared data's packed layout (`scripts/pack_jpeg_data.py
# unpack` writes it); DATA_NOTE_CELEBA / DATA_NOTE_MNIST say what happened to
# the data on its way (recorded in each preset's metadata). Each recipe runs
# on JAX first and again on PyTorch if JAX fails within two minutes (the
# recipes need no TensorFlow). Logs go to logs/, presets to zoo/ and
# runs/presets/; a killed run resumes from runs/<name>.
T0=$(date +%s)
TRAIN_END=$(( ${MINUTES:-7} * 60 ))
DATA_DIR=${DATA_DIR:?set DATA_DIR}
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3 XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p logs

extra() { case "$1" in *mnist*) echo "$EXTRA_MNIST" ;; *) echo "$EXTRA_CELEBA" ;; esac; }

job() { # job NAME RECIPE ARGS...
  local name=$1 backend now minutes failed_at
  shift
  for backend in jax torch; do
    now=$(($(date +%s) - T0))
    minutes=$(python3 -c "print(round(($TRAIN_END - $now) / 60, 2))")
    echo "[$now s] $name on $backend, $minutes min of training" >>logs/driver.log
    # shellcheck disable=SC2046  # extra's flags are meant to split
    if KERAS_BACKEND=$backend python3 "$@" --max_train_minutes "$minutes" \
      $(extra "$name") >"logs/$name.$backend.log" 2>&1; then
      echo "[$(($(date +%s) - T0)) s] $name done" >>logs/driver.log
      return
    fi
    failed_at=$(($(date +%s) - T0))
    echo "[$failed_at s] $name failed on $backend: $(tail -1 "logs/$name.$backend.log")" >>logs/driver.log
    [ $((failed_at - now)) -gt 120 ] && return
    rm -rf "runs/$name"
  done
}

M="recipes/train_mnist_gan.py --data_dir $DATA_DIR --epochs 400 --steps_per_epoch 500"
N=${DATA_NOTE_MNIST:+--data_note=$DATA_NOTE_MNIST}
job celeba_acgan recipes/train_celeba_acgan.py --data_dir "$DATA_DIR" \
  ${DATA_NOTE_CELEBA:+--data_note="$DATA_NOTE_CELEBA"} --epochs 400 --steps_per_epoch 250 \
  --output zoo/celeba_acgan --backup_dir runs/celeba_acgan &
job mnist_wgan_gp $M ${N:+"$N"} --model wgan_gp --latent_dim 128 --ema_decay 0.999 \
  --steps_per_epoch 200 --output zoo/mnist_wgan_gp --backup_dir runs/mnist_wgan_gp &
job mnist_dcgan $M ${N:+"$N"} --model gan --generator_filters 128,64 --critic_filters 64,128 \
  --ema_decay 0.999 --output zoo/mnist_dcgan --backup_dir runs/mnist_dcgan &
job mnist_cgan $M ${N:+"$N"} --model cgan --conditioning projection --ema_decay 0.999 \
  --output zoo/mnist_cgan --backup_dir runs/mnist_cgan &
job mnist_acgan $M ${N:+"$N"} --model acgan --critic_class_loss real \
  --output zoo/mnist_acgan --backup_dir runs/mnist_acgan &
job mnist_acgan_w0.1 $M ${N:+"$N"} --model acgan --critic_class_loss real \
  --class_loss_weight 0.1 --ema_decay 0.999 --title mnist_acgan \
  --output runs/presets/mnist_acgan_w0.1 --backup_dir runs/mnist_acgan_w0.1 &
wait
cat logs/driver.log
grep -h -E "^(judge_confident_share|class_accuracy|diversity|fid|attribute accuracy|Time budget)" logs/*.log
echo "total $(($(date +%s) - T0)) s"
