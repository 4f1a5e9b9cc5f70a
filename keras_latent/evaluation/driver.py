"""`evaluate`: the driver that runs the evaluation's stages in order."""

from __future__ import annotations

from collections.abc import Sequence

from keras_latent.evaluation.protocol import _protocol
from keras_latent.evaluation.run import DEFAULT_METRICS, _prepare
from keras_latent.evaluation.scores import _score
from keras_latent.evaluation.streaming import _judge_all


def evaluate(
    model_or_preset,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    data=None,
    num_samples: int = 10000,
    judge=None,
    feature_network: str = "judge",
    batch_size: int = 256,
    seed: int | None = 0,
    verbose: bool = True,
    edit_method: str | None = None,
) -> dict:
    """Evaluates a generator: FID, KID, IS, diversity, attributes and edits.

    Generates `num_samples` images in batches of `batch_size` (batch `i` is
    `generate(count, seed=seed + i)`, so a run is reproducible), and measures
    them against a reference split of real images with the zoo's metrics
    toolkit (`keras_latent.metrics`):

    - `"fid"`: Fréchet distance between feature statistics of real and
      generated images (`metrics.fid`).
    - `"kid"`: polynomial-kernel MMD² over 100 random subsets of at most
      1,000 images (`metrics.kid`): mean and std.
    - `"is"`: Inception Score of the judge's softmax, 10 splits
      (`metrics.inception_score`), with the same score of the real images
      as a reference.
    - `"diversity"`: AC-GAN's intra-class diversity: mean MS-SSIM of 100
      random same-class pairs per class (`metrics.intra_class_diversity`),
      for generated images (classes = the judge's argmax) and for real
      images (their labels, else the judge's argmax). Lower is more diverse;
      a class whose generated value is above the real one lacks diversity.
    - `"attributes"`: accuracy, precision, recall and F1 of a multi-label
      judge on images generated from attribute vectors drawn from the
      reference labels (`metrics.attribute_scores`). Needs a model whose
      `generate` takes `attributes=`.
    - `"edits"` (not in the defaults): the edit protocol of an attribute
      editor (a model with `transform` and `reconstruct`: CVAE, IFcVAEGAN,
      CVAEGAN, LatentConstraints, LabelRelevantIrrelevantVAE). It edits the
      first `min(num_samples, N)` labelled reference images, generates
      nothing, and lets the judge (whose class names must include the
      model's attribute names) read the edits: the flip rate (each image
      edited to the opposite of its label for each attribute, or to another
      class drawn with `seed` for categorical models; the share judged as
      the target, threshold 0.5), identity (mean pixel MSE between each
      edit and the model's `reconstruct`), Creswell et al.'s Class0 /
      Class1 / MSE per attribute (multi-label models only), and the wall
      seconds of `transform` per edited image (`keras_latent.evaluation.edits`).

    Features for FID/KID come from the judge's penultimate Dense layer (the
    zoo's protocol for comparisons inside the zoo) or from InceptionV3 pool3
    (`feature_network="inception"`; needs its weights on disk). Numbers are
    comparable only under the same protocol, which the report records.

    Generated images are not kept, except when `"diversity"` is asked for:
    its pairs are drawn per class after all images are judged, so it holds
    all of them (10,000 64×64×3 float32 images take 490 MB).

    Args:
        model_or_preset: a model with `generate(num_samples, seed)` that
            returns images in `[0, 1]` (or uint8), or a preset name, local
            directory or hub handle (loaded with `keras_latent.from_preset`).
        metrics: sequence of metric names, or a comma-separated str, among
            `"fid"`, `"kid"`, `"is"`, `"diversity"`, `"attributes"` and
            `"edits"`. Defaults to `("fid", "kid", "is", "diversity")`.
        data: the real reference images. A str naming a split, one of
            `"mnist:train"`, `"mnist:test"`, `"celeba:train"`, `"celeba:val"`,
            `"cifar10:train"` (loaded with `keras_latent.datasets`); the path
            of a `.npy` file of images or of a `.npz` file with `"images"`
            (or `"x"`) and optionally `"labels"` (or `"y"`, `"attributes"`)
            and `"label_names"`; an array
            `(num_images, H, W, C)`, float in `[0, 1]` or uint8 (divided by
            255); or a tuple `(images, labels)` or
            `(images, labels, label_names)`. Defaults to `None`: inferred
            from the model's image shape (28×28×1 → `"mnist:test"`,
            64×64×3 → `"celeba:val"`, 32×32×3 → `"cifar10:train"`).
        num_samples: int. Number of generated images; with `"edits"`, also
            the most reference images edited. Defaults to `10000`.
        judge: an `ImageClassifier`, or a preset name, used for `"is"`,
            `"diversity"`, `"attributes"`, `"edits"` and (by default) the
            features.
            Defaults to `None`: the dataset's zoo judge (`"mnist_classifier"`,
            `"celeba_attribute_classifier"`, `"cifar10_classifier"`).
        feature_network: `"judge"` (penultimate features of the judge) or
            `"inception"` (InceptionV3 pool3, bilinear resize to 299×299).
            Defaults to `"judge"`.
        batch_size: int. Images generated and judged at a time. Defaults to
            `256`.
        seed: int or None. Seed of the generation (batch `i` uses
            `seed + i`), of KID's subsets and of the diversity pairs; `None`
            uses the model's own seed generator (not reproducible). Defaults
            to `0`.
        verbose: bool. Show progress bars. Defaults to `True`.
        edit_method: str or None. With `"edits"`, the `method=` given to a
            `transform` that takes one (LatentConstraints: `"actor"` or
            `"optimize"`); a model whose `transform` takes none raises a
            ValueError. Defaults to `None`: the model's default.

    Returns:
        A dict `{"results": ..., "protocol": ...}`. `"results"` maps each
        metric to its value: `"fid"` a float; `"kid"` and `"is"` dicts with
        `"mean"` and `"std"` (`"is"` also `"real_mean"`, `"real_std"`);
        `"diversity"` a dict with per-class `"generated"` and `"real"` values
        (keyed by the judge's class names; `None` for a class with fewer than
        two images), their means, and `"less_diverse_than_real"`;
        `"attributes"` the dict of `metrics.attribute_scores`; `"edits"` a
        dict with `"label_type"`, `"num_images"`, `"num_edits"`,
        `"seconds_per_edit"`, the means `"flip_rate"` and `"identity_mse"`,
        and `"per_attribute"` (each `"flip_rate"`, `"identity_mse"`,
        `"class0"`, `"class1"`, `"mse"`, `"support"`; `None` where no image
        has the attribute) or, for a categorical model, `"per_class"` (each
        target class's `"flip_rate"`, `"identity_mse"`, `"support"`). `"protocol"`
        records the model, reference split, numbers of real and fake images,
        feature network, resizer, judge, seed, generation scheme, backend,
        a description of each metric under `"metrics"` and, with `"edits"`,
        the edit protocol under `"edits"`. The whole report is
        JSON-serializable.

    Raises:
        ValueError: among others, when a generated batch or the reference
            data holds NaN or infinite values (the error names the batch, its
            images and seed, and counts the values), or, before anything is
            generated, when the features, probabilities and (for
            `"diversity"`) images kept for `num_samples` would take more than
            half of the available memory.

    Example:

    ```python
    report = keras_latent.evaluate("mnist_wgan_gp", num_samples=10000)
    print(report["results"]["fid"], report["protocol"]["feature_network"])
    print(keras_latent.evaluation.format_table(report))
    ```
    """
    run = _prepare(
        model_or_preset,
        metrics=metrics,
        data=data,
        num_samples=num_samples,
        judge=judge,
        feature_network=feature_network,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        edit_method=edit_method,
    )
    # "edits" alone edits reference images and generates nothing.
    judged = _judge_all(run) if run.generates else None
    results, descriptions = _score(run, judged)
    return {"results": results, "protocol": _protocol(run, descriptions)}
