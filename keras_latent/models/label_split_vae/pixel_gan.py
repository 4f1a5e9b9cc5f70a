"""The optional pixel discriminator of the label-relevant/irrelevant VAE.

With `pixel_discriminator=True` a conditional projection discriminator
D(x, y) with spectral normalisation plays against the decoder on three
kinds of images: the real x with its label y, the reconstruction
x̂ = D(E_s(x), z_u) with y, and a class sample x_s = D(z_s, z_u) with
z_s ~ N(μ_k, diag σ²_k), z_u ~ N(0, I), k drawn from the training label
marginals. Hinge losses (Zheng & Sun's reference code):

    L_D = E[relu(1 − D(x, y))] + E[relu(1 + D(x̂, y))] + E[relu(1 + D(x_s, k))]
    L_G = −E[D(x̂, y)] − E[D(x_s, k)]

The discriminator player minimises L_D in its own phase, after the
classifier's; the joint stage adds `pixel_adversarial_weight · L_G`. The
class samples are what this adds: without them nothing teaches the decoder
to draw class k from a z_u of the prior rather than of an encoded image.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_latent.models.gan.networks import critic_features
from keras_latent.trainer import Phase

# The discriminator phase's logs: D's mean scores on each kind of image.
DISCRIMINATOR_METRICS = ("real_score", "reconstruction_score", "sample_score")


class PixelDiscriminatorMixin:
    """The pixel discriminator's phase and the decoder's GAN term."""

    def _discriminator_phases(self) -> list:
        if not self.pixel_discriminator:
            return []
        return [
            Phase(
                "discriminator",
                "discriminator",
                self.discriminator_loss,
                metrics=DISCRIMINATOR_METRICS,
            )
        ]

    def _pixel_scores(self, images, labels, training: bool):
        """D(x, y) `(batch,)`: the critic's head plus the label projection."""
        # D reads [−1, 1], as the GAN family's critics.
        logits, features = critic_features(
            self.discriminator, images * 2.0 - 1.0, training=training
        )
        embedded = ops.cast(self.label_projection(labels), "float32")
        projection = ops.sum(embedded * ops.cast(features, "float32"), axis=-1)
        return ops.cast(logits, "float32")[:, 0] + projection

    def _class_samples(self, batch_size, training: bool):
        """`(x_s, one-hot k)`: class samples of the prior, k ~ label marginals."""
        labels = self._draw_label_tensors(batch_size, self.seed_generator)
        classes = ops.argmax(labels, axis=-1)
        z_s = self.mixture.sample(classes, seed=self.seed_generator)
        z_u = keras.random.normal(
            (batch_size, self.irrelevant_dim), seed=self.seed_generator
        )
        samples = self._decode(z_s, z_u, training)
        return samples, labels

    def pixel_generator_loss(self, images, labels, reconstructed, training: bool):
        """L_G of the joint stage (module docstring), for the decoder."""
        samples, classes = self._class_samples(ops.shape(images)[0], training)
        return -ops.mean(self._pixel_scores(reconstructed, labels, training)) - (
            ops.mean(self._pixel_scores(samples, classes, training))
        )

    def discriminator_loss(self, data, training: bool = True):
        """L_D (module docstring) and D's mean scores; only D learns."""
        images, labels = self._unpack(data)
        z_s = self._relevant_code(images, training)
        z_u = self._irrelevant_code(images, training)[2]
        reconstructed = ops.stop_gradient(self._decode(z_s, z_u, training))
        samples, classes = self._class_samples(ops.shape(images)[0], training)
        samples = ops.stop_gradient(samples)
        real = self._pixel_scores(images, labels, training)
        fake = self._pixel_scores(reconstructed, labels, training)
        sampled = self._pixel_scores(samples, classes, training)
        loss = (
            ops.mean(ops.relu(1.0 - real))
            + ops.mean(ops.relu(1.0 + fake))
            + ops.mean(ops.relu(1.0 + sampled))
        )
        return loss, {
            "real_score": ops.mean(real),
            "reconstruction_score": ops.mean(fake),
            "sample_score": ops.mean(sampled),
        }
