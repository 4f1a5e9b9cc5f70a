"""The label-relevant/irrelevant VAE's semi-supervised fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest

from keras_latent import datasets, losses
from tests.label_split_vae_test import (
    CLASS_IDS,
    IMAGES,
    NETWORKS,
    changed,
    snapshot,
    tiny_model,
)
from tests.test_case import to_numpy

LABELLED_LOGS = {"gm_loss", "joint_loss", "classifier_loss"}
FINE_TUNING_LOGS = {
    "loss",
    "unlabelled_loss",
    "unlabelled_reconstruction",
    "unlabelled_kl",
    "unlabelled_likelihood",
    "nonfinite_steps",
}


def trained_model(**kwargs):
    model = tiny_model(**kwargs)
    model.compile()
    model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
    return model


def test_fine_tuning_moves_only_the_encoders_and_decoder():
    # The prior changes only the loss (checked below against a hand
    # computation); one fit covers what moves.
    prior = "ambiguous"
    model = trained_model(pixel_discriminator=True, discriminator_filters=(4, 4))
    names = (*NETWORKS, "discriminator", "label_projection")
    groups = {n: getattr(model, n).trainable_variables for n in names}
    before = {n: snapshot(vs) for n, vs in groups.items()}
    prior_before = to_numpy(model.label_prior).copy()
    history = model.fine_tune_unlabelled(
        IMAGES, prior=prior, batch_size=12, epochs=2, verbose=0
    )
    assert set(history.history) == FINE_TUNING_LOGS
    assert all(np.isfinite(v).all() for v in history.history.values())
    moved = {"relevant_encoder", "irrelevant_encoder", "decoder"}
    for name, variables in groups.items():
        if name in moved:
            assert all(changed(before[name], variables)), name
        elif name in ("discriminator", "label_projection"):
            trainable = [v for v in variables if v.trainable]
            assert not any(changed(snapshot(trainable), trainable)), name
            assert not any(changed(before[name], variables)), name
        else:
            assert not any(changed(before[name], variables)), name
    np.testing.assert_array_equal(to_numpy(model.label_prior), prior_before)


def test_the_model_trains_on_labels_again_afterwards():
    model = trained_model()
    optimizer = model.optimizer
    model.fine_tune_unlabelled(IMAGES, batch_size=12, epochs=1, verbose=0)
    assert model.optimizer is optimizer
    assert [p.name for p in model.phases] == ["gm", "joint", "classifier"]
    history = model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
    assert LABELLED_LOGS <= set(history.history)
    assert not set(history.history) & {"unlabelled_loss"}


def test_an_uncompiled_model_is_compiled_with_its_defaults_afterwards():
    model = tiny_model()
    model.fine_tune_unlabelled(IMAGES, batch_size=12, epochs=1, verbose=0)
    assert sorted(model.optimizer.players) == [
        "autoencoder",
        "classifier",
        "gaussian_mixture",
    ]
    history = model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
    assert LABELLED_LOGS <= set(history.history)


@pytest.mark.parametrize("prior", ["mixture", "ambiguous"])
def test_the_loss_is_reconstruction_kl_and_the_unlabelled_likelihood(prior):
    model = tiny_model(reconstruction_weight=3.0, beta=0.5, likelihood_weight=0.2)
    model._unlabelled_prior = prior
    loss, logs = model.unlabelled_loss(IMAGES, training=False)
    # Without training noise z_u is the posterior mean: the hand computation
    # decodes the same codes.
    z_s = to_numpy(model._relevant_code(IMAGES))
    mean, std = (to_numpy(t) for t in model._irrelevant_posterior(IMAGES))
    reconstructed = to_numpy(model._decode(z_s, mean))
    reconstruction = np.mean(np.sum((IMAGES - reconstructed) ** 2, axis=(1, 2, 3)))
    kl = np.mean(0.5 * np.sum(mean**2 + std**2 - 1.0 - np.log(std**2), axis=-1))
    likelihood = to_numpy(
        losses.unlabelled_likelihood_loss(
            z_s, model.mixture.means, model.mixture.variances, prior=prior
        )
    )
    np.testing.assert_allclose(
        to_numpy(logs["unlabelled_reconstruction"]), reconstruction, rtol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(logs["unlabelled_kl"]), kl, rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(logs["unlabelled_likelihood"]), likelihood, rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(loss), 3.0 * reconstruction + 0.5 * kl + 0.2 * likelihood, rtol=1e-4
    )


def test_a_dataset_with_labels_trains_on_its_images_alone():
    model = trained_model()
    pairs = datasets.ArrayBatches(IMAGES, CLASS_IDS, batch_size=12, seed=0)
    history = model.fine_tune_unlabelled(pairs, steps_per_epoch=2, verbose=0)
    assert set(history.history) == FINE_TUNING_LOGS


@pytest.mark.parametrize(
    "arguments, match",
    [
        (dict(prior="uniform"), "`prior`.*'mixture', 'ambiguous'"),
        (dict(y=CLASS_IDS), "images alone"),
        (dict(x=IMAGES[..., :4, :]), "`x`"),
        (dict(x=IMAGES * 255.0), "`x`"),
    ],
)
def test_bad_arguments_raise_and_leave_the_labelled_model(arguments, match):
    model = trained_model()
    optimizer = model.optimizer
    arguments = {"x": IMAGES, **arguments}
    with pytest.raises(ValueError, match=match):
        model.fine_tune_unlabelled(batch_size=12, verbose=0, **arguments)
    assert model.optimizer is optimizer
    assert [p.name for p in model.phases] == ["gm", "joint", "classifier"]
    model.fit(IMAGES, CLASS_IDS, batch_size=12, epochs=1, verbose=0)
