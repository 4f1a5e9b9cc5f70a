"""Judging the real images, and generating and judging the fake ones in batches.

Generation is streamed: batch `i` is `generate(count, seed=seed + i)`, and
each batch goes through the judge (and InceptionV3) on its way, so only the
features and probabilities are kept, not the images (except for diversity,
whose same-class pairs are drawn after every image is judged).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_latent import metrics as metrics_lib
from keras_latent.evaluation.judges import _run_judge
from keras_latent.evaluation.reference import _to_unit_float
from keras_latent.evaluation.run import _Run
from keras_latent.utils.batching import advance, progress_bar


@dataclasses.dataclass
class _Judged:
    """Features and probabilities of the real and generated images."""

    real_features: np.ndarray | None
    real_probabilities: np.ndarray | None
    fake_features: np.ndarray | None
    fake_probabilities: np.ndarray | None
    # The generated images when diversity needs them, else None.
    fake_images: np.ndarray | None


def _check_batch(batch, expected_shape, count):
    if tuple(batch.shape) != (count, *expected_shape):
        raise ValueError(
            f"`generate({count}, seed)` returned shape {tuple(batch.shape)}; "
            f"expected {(count, *expected_shape)} (the reference images' shape)."
        )


class _Generation:
    """Calls `generate` batch after batch, one seed per batch.

    A conditioned model gets the next slice of the plan's attribute vectors.
    """

    def __init__(self, run: _Run):
        self.run = run
        self.batch = 0
        self.done = 0
        # Filled batch by batch: collecting a list and concatenating it would
        # hold every image twice (`_check_memory` budgets for one copy).
        self.images = (
            np.empty((run.num_samples, *run.image_shape), "float32")
            if "diversity" in run.names
            else None
        )

    def __call__(self, count: int) -> np.ndarray:
        run = self.run
        kwargs = {"seed": None if run.seed is None else run.seed + self.batch}
        if run.plan is not None:
            kwargs["attributes"] = run.plan["labels"][self.done : self.done + count]
        what = (
            f"Generated batch {self.batch} (images {self.done} to "
            f"{self.done + count - 1}, `generate(num_samples={count}, "
            f"seed={kwargs['seed']})`)"
        )
        batch = _to_unit_float(
            run.model.generate(num_samples=count, **kwargs), "generated images", what
        )
        _check_batch(batch, run.image_shape, count)
        if self.images is not None:
            self.images[self.done : self.done + count] = batch
        self.batch += 1
        self.done += count
        return batch


def _judge_real(run: _Run) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The features and probabilities of the reference images."""
    real = run.real
    real_features = real_probabilities = None
    if run.judge is not None:
        if run.verbose:
            print(f"Judging {len(real)} real images ({run.reference['name']})")
        bar = progress_bar(len(real), run.verbose)
        feature_parts, probability_parts = [], []
        for start in range(0, len(real), run.batch_size):
            f, p = _run_judge(run.two_headed, real[start : start + run.batch_size])
            feature_parts.append(f)
            probability_parts.append(p)
            advance(bar, len(f))
        real_probabilities = np.concatenate(probability_parts)
        if run.feature_network == "judge":
            real_features = np.concatenate(feature_parts)
    if run.uses_inception:
        if run.verbose:
            print(f"InceptionV3 features of {len(real)} real images")
        real_features = metrics_lib.inception_features(
            real,
            run.inception_path,
            batch_size=run.generation_batch,
            verbose=run.verbose,
        )
    return real_features, real_probabilities


def _generate_and_judge(run: _Run, generation: _Generation):
    """The features and probabilities of `run.num_samples` generated images."""
    fake_features, fake_probabilities = [], []
    if run.uses_inception:
        # inception_features pulls batches through this function; the judge
        # sees each batch once on its way.
        def generate_and_judge(count):
            batch = generation(count)
            if run.wants_probabilities:
                fake_probabilities.append(_run_judge(run.two_headed, batch)[1])
            return batch

        fake_features = metrics_lib.inception_features(
            (generate_and_judge, run.num_samples),
            run.inception_path,
            batch_size=run.generation_batch,
            verbose=run.verbose,
        )
    else:
        bar = progress_bar(run.num_samples, run.verbose)
        for start in range(0, run.num_samples, run.batch_size):
            batch = generation(min(run.batch_size, run.num_samples - start))
            if run.judge is not None:
                f, p = _run_judge(run.two_headed, batch)
                fake_features.append(f)
                fake_probabilities.append(p)
            advance(bar, len(batch))
        fake_features = np.concatenate(fake_features) if fake_features else None
    fake_probabilities = (
        np.concatenate(fake_probabilities) if fake_probabilities else None
    )
    return fake_features, fake_probabilities


def _judge_all(run: _Run) -> _Judged:
    """Judges the reference images, then generates and judges the fake ones."""
    real_features, real_probabilities = _judge_real(run)
    if run.verbose:
        print(f"Generating and judging {run.num_samples} images")
    generation = _Generation(run)
    fake_features, fake_probabilities = _generate_and_judge(run, generation)
    return _Judged(
        real_features=real_features,
        real_probabilities=real_probabilities,
        fake_features=fake_features,
        fake_probabilities=fake_probabilities,
        fake_images=generation.images,
    )
