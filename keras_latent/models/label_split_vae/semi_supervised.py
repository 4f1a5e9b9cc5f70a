"""Semi-supervised fine-tuning of the label-split VAE on unlabelled images.

Zheng & Sun (2019, §3.6): after training on labelled images, the two
encoders and the decoder are fine-tuned end to end on images without
labels. The label losses (the GM stage's L_cls, the adversarial classifier's
L_C and L_adv, the conditional pixel discriminator's terms) need y and are
left out; what remains is

    L = w_rec · L_rec + β · KL + λ_lkd · L_lkd^u

with the label-free likelihood term L_lkd^u of z_s
(`keras_latent.losses.unlabelled_likelihood_loss`): under the whole learnt
mixture (`prior="mixture"`: the images are of the K known classes) or under
one "ambiguous" Gaussian with the mixture's overall mean and variance
(`prior="ambiguous"`: their classes may be new, e.g. unseen identities).
The GM means and variances, C and the pixel discriminator stay as the
labelled training left them.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_latent import losses
from keras_latent.layers.gaussian_mixture import UNLABELLED_PRIORS
from keras_latent.trainer import Phase
from keras_latent.utils.inputs import check_choice, validate_images


class SemiSupervisedMixin:
    """`fine_tune_unlabelled`, and the one phase it trains with.

    While it runs, the model's players and phases are those of the
    fine-tuning (`_unlabelled_prior` is set); afterwards they are the
    labelled ones again and the model is compiled as before.
    """

    _unlabelled_prior = None
    unlabelled_metrics = (
        "unlabelled_reconstruction",
        "unlabelled_kl",
        "unlabelled_likelihood",
    )

    def fine_tune_unlabelled(
        self,
        x,
        prior: str = "mixture",
        optimizer: keras.optimizers.Optimizer | None = None,
        **fit_kwargs,
    ) -> keras.callbacks.History:
        """Fine-tunes the encoders and the decoder on unlabelled images.

        The semi-supervised step of Zheng & Sun (2019): `w_rec · L_rec +
        β · KL + λ_lkd · L_lkd^u`, with L_lkd^u the likelihood of z_s under
        the learnt mixture (`"mixture"`) or under one Gaussian with its
        overall mean and variance (`"ambiguous"`), see
        `keras_latent.losses.unlabelled_likelihood_loss`. Only E_s, E_u and
        D move; the class means and variances, the adversarial classifier
        and the pixel discriminator keep their labelled training. Its logs:
        `unlabelled_loss`, `unlabelled_reconstruction`, `unlabelled_kl`,
        `unlabelled_likelihood`, `loss` and `nonfinite_steps`.

        Afterwards the model is compiled as before the call (its labelled
        players and their optimizers), also when the fine-tuning raised.

        Args:
            x: float images `(N, H, W, C)` in [0, 1], or a dataset of image
                batches (labels in it are ignored).
            prior: `"mixture"` (the images are of the K known classes) or
                `"ambiguous"` (their classes may be new). Defaults to
                `"mixture"`.
            optimizer: the optimizer of the encoders and decoder during the
                fine-tuning. Defaults to `None`, a fresh
                `Adam(1e-4, beta_1=0.5)`: a tenth of the labelled training's
                rate, so the fine-tuning refines the codes instead of
                relearning them.
            **fit_kwargs: the rest of `keras.Model.fit`'s arguments
                (`epochs`, `batch_size`, `steps_per_epoch`, `callbacks`,
                ...); not `y`.

        Returns:
            The `keras.callbacks.History` of the fine-tuning.

        Example:

        ```python
        model.fit(labelled_images, labels, epochs=10)
        model.fine_tune_unlabelled(unlabelled_images, epochs=2, batch_size=64)
        ```
        """
        check_choice("prior", prior, UNLABELLED_PRIORS)
        if fit_kwargs.get("y") is not None:
            raise ValueError(
                "`fine_tune_unlabelled` trains on images alone; pass labelled "
                "images to `fit(x, y)` instead. Received a `y`."
            )
        if hasattr(x, "shape"):
            validate_images(x, self.image_shape, argument="x")
        labelled = self._compile_state()
        self._unlabelled_prior, self._phases = prior, None
        try:
            self.compile(
                optimizer={
                    "autoencoder": optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5)
                },
                **labelled["kwargs"],
            )
            # Past this class's `fit`, which asks for labels.
            return keras.Model.fit(self, x, **fit_kwargs)
        finally:
            self._unlabelled_prior, self._phases = None, None
            self.compile(optimizer=labelled["optimizer"], **labelled["kwargs"])

    def _compile_state(self) -> dict:
        """The labelled compile to restore: optimizer (None: the defaults)."""
        if not getattr(self, "compiled", False):
            return {"optimizer": None, "kwargs": {}}
        return {
            "optimizer": self.optimizer,
            "kwargs": {
                "max_nonfinite_steps": self.max_nonfinite_steps,
                "run_eagerly": self.run_eagerly,
            },
        }

    def _fine_tuning_players(self) -> dict:
        return {
            "autoencoder": self.relevant_encoder.trainable_variables
            + self.irrelevant_encoder.trainable_variables
            + self.decoder.trainable_variables
        }

    def _fine_tuning_phases(self) -> list[Phase]:
        return [
            Phase(
                "unlabelled",
                "autoencoder",
                self.unlabelled_loss,
                metrics=self.unlabelled_metrics,
            )
        ]

    def unlabelled_loss(self, data, training: bool = True):
        """`w_rec · L_rec + β · KL + λ_lkd · L_lkd^u` of a batch of images."""
        images = keras.utils.unpack_x_y_sample_weight(data)[0]
        validate_images(images, self.image_shape, argument="x")
        images = ops.cast(images, "float32")
        z_s, _, _, reconstruction, kl = self._autoencode(images, training)
        likelihood = losses.unlabelled_likelihood_loss(
            z_s,
            self.mixture.means,
            self.mixture.variances,
            prior=self._unlabelled_prior or "mixture",
        )
        loss = (
            self.reconstruction_weight * reconstruction
            + self.beta * kl
            + self.likelihood_weight * likelihood
        )
        return loss, {
            "unlabelled_reconstruction": reconstruction,
            "unlabelled_kl": kl,
            "unlabelled_likelihood": likelihood,
        }
