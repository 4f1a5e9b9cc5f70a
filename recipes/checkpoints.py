"""Training checkpoints that survive a kill at any moment.

`ResumableBackup` is the `BackupAndRestore` of every training recipe
(`publishing.fit`, and the recipes that call `fit` themselves). Recipes import
this module (recipes/ is on sys.path when one runs as a script).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import h5py
import keras

from keras_latent.utils.files import atomic_write_text


def _checkpoint_state(weights: Path, state: Path) -> tuple[dict | None, str | None]:
    """`(state, None)` for a checkpoint that opens, `(None, why)` for a broken
    one, `(None, None)` for none."""
    if not weights.exists() and not state.exists():
        return None, None
    for path in (weights, state):
        if not path.exists():
            return None, f"'{path}' is missing"
    try:
        record = json.loads(state.read_text())
        int(record["epoch"])
    except (ValueError, KeyError, TypeError) as e:
        return None, f"'{state}' is corrupt ({type(e).__name__}: {e})"
    try:
        # Opening checks HDF5's signature and end of file: a file cut short
        # by a kill (0 bytes: "file signature not found") fails here.
        with h5py.File(weights, "r"):
            pass
    except OSError as e:
        return None, f"'{weights}' is corrupt ({e})"
    return record, None


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that resumes after a kill at any moment, and times
    the training across runs.

    Keras's `double_checkpoint=True` copies the newest checkpoint aside as
    the previous one before each save. On restore, a newest checkpoint that
    does not open (a kill mid-write), or whose save stopped after that copy
    (both record the same epoch), is replaced by the previous one, with a
    warning naming it; with no usable one, training starts over, also with
    a warning. Keras alone falls back silently, and only on a weights file
    that fails to open.

    `progress.json` in `backup_dir` (replaced atomically at every epoch end
    and every `progress_every_s` seconds) holds the training seconds of the
    runs so far, so `seconds()` is the total across runs.

    Args:
        backup_dir: the checkpoint folder; deleted when the fit ends.
        progress_every_s: how often to record the time within an epoch.
            Defaults to `60.0`.
    """

    # Keras's file names in `backup_dir` (keras/src/callbacks/backup_and_restore.py).
    WEIGHTS, STATE, PREVIOUS = "latest.weights.h5", "training_metadata.json", ".bkp"
    PROGRESS = "progress.json"

    def __init__(self, backup_dir, progress_every_s: float = 60.0):
        super().__init__(str(backup_dir), double_checkpoint=True)
        self.progress_every_s = progress_every_s
        self.resumed_after_epoch = None
        self.earlier_seconds = 0.0
        self._started = self._recorded = time.time()
        self._seconds = None

    def _files(self, suffix: str = "") -> tuple[Path, Path]:
        root = Path(self.backup_dir)
        return root / (self.WEIGHTS + suffix), root / (self.STATE + suffix)

    def _use_previous(self, reason: str) -> int | None:
        """Puts the previous checkpoint in the newest's place; its epoch."""
        newest, previous = self._files(), self._files(self.PREVIOUS)
        state, _ = _checkpoint_state(*previous)
        if state is None:
            warnings.warn(
                f"{reason}, and there is no usable previous checkpoint in "
                f"'{self.backup_dir}': training starts over from epoch 0.",
                stacklevel=2,
            )
            for path in (*newest, *previous):
                path.unlink(missing_ok=True)
            return None
        warnings.warn(
            f"{reason}: resuming from the previous checkpoint '{previous[0]}' "
            f"(after epoch {state['epoch']}).",
            stacklevel=2,
        )
        for source, target in zip(previous, newest):
            os.replace(source, target)
        return int(state["epoch"])

    def _usable_checkpoint(self) -> int | None:
        """Leaves a newest checkpoint that loads, or none; returns its epoch."""
        newest, previous = self._files(), self._files(self.PREVIOUS)
        state, problem = _checkpoint_state(*newest)
        if problem is not None:
            return self._use_previous(f"The newest checkpoint is unusable: {problem}")
        if state is None:
            return None
        if state == _checkpoint_state(*previous)[0]:
            return self._use_previous(
                f"The newest checkpoint '{newest[0]}' may be half-written: the "
                f"run stopped while saving after epoch {state['epoch']}"
            )
        return int(state["epoch"])

    def on_train_begin(self, logs=None):
        epoch = self._usable_checkpoint()
        try:
            super().on_train_begin(logs)
        except Exception as e:  # a file that opens but does not load
            epoch = self._use_previous(
                f"The newest checkpoint '{self._files()[0]}' does not load "
                f"({type(e).__name__}: {e})"
            )
            super().on_train_begin(logs)
        progress = Path(self.backup_dir) / self.PROGRESS
        if progress.is_file():
            self.earlier_seconds = float(json.loads(progress.read_text())["elapsed_s"])
        if epoch is not None or progress.is_file():
            self.resumed_after_epoch = epoch or 0
        self._started = self._recorded = time.time()

    def _record_progress(self) -> None:
        self._recorded = time.time()
        Path(self.backup_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            Path(self.backup_dir) / self.PROGRESS,
            json.dumps({"elapsed_s": self.seconds()}) + "\n",
        )

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if time.time() - self._recorded > self.progress_every_s:
            self._record_progress()

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self._record_progress()

    def on_train_end(self, logs=None):
        self._seconds = self.seconds()
        super().on_train_end(logs)

    def seconds(self) -> float:
        """Training seconds of the earlier runs and of this one."""
        if self._seconds is not None:
            return self._seconds
        return round(self.earlier_seconds + time.time() - self._started, 1)

    def resume_fields(self) -> dict:
        """`{}`, or for a resumed run the fields metadata.json records."""
        if self.resumed_after_epoch is None:
            return {}
        return {"resumed": True, "epochs_done_before_resume": self.resumed_after_epoch}
