"""The GAN family on the zoo's multi-player trainer.

Today it holds WGAN-GP (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville
2017, "Improved Training of Wasserstein GANs"): the critic D minimises

    E[D(x̃)] − E[D(x)] + λ · E[(‖∇_x̂ D(x̂)‖₂ − 1)²],
    x̂ = ε x + (1 − ε) x̃,  ε ~ U[0, 1] drawn per example,

for `critic_steps` (5) updates per generator update, and the generator
minimises −E[D(G(z))], z ~ N(0, I); λ = 10, Adam(1e-4, β₁ = 0, β₂ = 0.9).
The critic has no batch normalisation, since the penalty is per example.
The losses are `keras_latent.losses.wasserstein_critic_loss`,
`wasserstein_generator_loss` and `gradient_penalty`. More in
`docs/models.md`, "WGAN-GP and the GAN losses".

- `wgan_gp.py`: the `WGANGP` model and its two phases;
- `networks.py`: the DCGAN critic (the generator is the shared conv decoder
  of `keras_latent.layers`).
"""

from keras_latent.models.gan.networks import dcgan_critic
from keras_latent.models.gan.wgan_gp import ARCHITECTURES, WGANGP

__all__ = ["ARCHITECTURES", "WGANGP", "dcgan_critic"]
