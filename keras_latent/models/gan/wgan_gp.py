"""WGAN-GP: the GAN family's `wasserstein_gp` member under its own name."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from keras_latent.models.gan.gan import GAN


@keras.saving.register_keras_serializable(package="keras_latent")
class WGANGP(GAN):
    """Wasserstein GAN with gradient penalty, DCGAN-style networks.

    `GAN(loss="wasserstein_gp")` with WGAN-GP's defaults (Gulrajani et al.
    2017). The critic minimises `E[D(x̃)] − E[D(x)] + λ·E[(‖∇D(x̂)‖₂ − 1)²]`
    with `x̂ = εx + (1 − ε)x̃`, ε ~ U[0, 1] drawn **per example**; the
    generator minimises `−E[D(x̃)]`. Each `fit` step runs `critic_steps`
    critic updates (same real batch, fresh noise) then one generator update.
    The critic has no batch normalisation, since the penalty is per example.

    The generator ends in tanh, so the critic sees images in [−1, 1]; data
    passed to `fit` and images returned by `generate` are in [0, 1].
    `generate` returns float32 NumPy on every backend; calling the model on
    noise (`gan(z)`) returns backend tensors.

    `fit`'s logs: `critic_loss`, `wasserstein` (the critic's estimate
    E[D(x)] − E[D(x̃)]), `gradient_penalty`, `real_logit`, `fake_logit`,
    `generator_loss`.

    Args:
        image_shape: tuple `(height, width, channels)`; height and width must
            be divisible by `2 ** len(critic_filters)` and
            `2 ** len(generator_filters)` for `"dcgan"`. Any shape (e.g. `(2,)`
            for points) for `"mlp"`. Defaults to `(28, 28, 1)`.
        architecture: `"dcgan"` (convolutional) or `"mlp"`. Defaults to
            `"dcgan"`.
        hidden_units: sequence of int. Widths of both players' hidden layers
            for `"mlp"`. Defaults to `(256, 256)`.
        latent_dim: int. Dimension of the generator's noise. Defaults to `128`.
        generator_filters: sequence of int. Channels from the smallest feature
            map up; each entry is one stride-2 upsampling. Defaults to
            `(128, 64)`.
        critic_filters: sequence of int. Channels of the critic's stride-2
            convolutions. Defaults to `(64, 128)`.
        critic_steps: int. Critic updates per generator update (n_critic).
            Defaults to `5`.
        gradient_penalty_weight: float >= 0. λ. Defaults to `10.0`.
        seed: int in [0, 2**31 - 1] or None. Seed of the model's noise.
            Defaults to `None`.
        **kwargs: `GAN`'s regularisers (`spectral_norm`, `r1_weight`,
            `ema_decay`, ...) and base model arguments.

    Example:

    ```python
    gan = keras_latent.models.WGANGP(image_shape=(28, 28, 1))
    gan.compile()  # Adam(1e-4, β1=0, β2=0.9) for both players
    gan.fit(images, epochs=5, batch_size=64)
    samples = gan.generate(16, seed=0)
    ```
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (28, 28, 1),
        architecture: str = "dcgan",
        hidden_units: Sequence[int] = (256, 256),
        latent_dim: int = 128,
        generator_filters: Sequence[int] = (128, 64),
        critic_filters: Sequence[int] = (64, 128),
        critic_steps: int = 5,
        gradient_penalty_weight: float = 10.0,
        seed: int | None = None,
        **kwargs,
    ):
        if kwargs.pop("loss", "wasserstein_gp") != "wasserstein_gp":
            raise ValueError(
                "WGANGP's loss is 'wasserstein_gp'; for another loss use "
                "`keras_latent.models.GAN(loss=...)`."
            )
        super().__init__(
            image_shape=image_shape,
            architecture=architecture,
            loss="wasserstein_gp",
            latent_dim=latent_dim,
            hidden_units=hidden_units,
            generator_filters=generator_filters,
            critic_filters=critic_filters,
            critic_steps=critic_steps,
            gradient_penalty_weight=gradient_penalty_weight,
            seed=seed,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        del config["loss"]
        return config
