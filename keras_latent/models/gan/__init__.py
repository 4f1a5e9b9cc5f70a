"""The GAN family on the zoo's multi-player trainer.

A generator G maps noise z ~ N(0, I) (and, for the conditional models,
labels y) to images; a discriminator, the `critic` player, scores them.
Each `fit` step runs `critic_steps` critic updates, then one generator
update. With logits d_r = D(x) and d_f = D(G(z)), the losses by name
(`keras_latent.losses.adversarial_loss`):

    minimax         L_D = −log σ(d_r) − log(1 − σ(d_f))   L_G = log(1 − σ(d_f))
    non_saturating  L_D as minimax                       L_G = −log σ(d_f)
    least_squares   L_D = ½(d_r − 1)² + ½ d_f²           L_G = ½(d_f − 1)²
    wasserstein     L_D = d_f − d_r, weights clipped      L_G = −d_f
    wasserstein_gp  L_D = d_f − d_r + λ(‖∇D(x̂)‖₂ − 1)²   L_G = −d_f
    hinge           L_D = relu(1 − d_r) + relu(1 + d_f)  L_G = −d_f

with x̂ = εx + (1 − ε)G(z), ε ~ U[0, 1] per example. Regularisers compose
with any loss: spectral normalisation, feature matching, minibatch
discrimination, annealed instance noise, the R1 penalty and an exponential
moving average of the generator's weights for sampling. More in
`docs/models.md`, "The GAN family".

- `gan.py`: `GAN`, the unconditional model, and the step every member runs;
- `conditional.py`: `CGAN` (labels into both players, by concatenation or a
  projection discriminator) and `ACGAN` (the critic also classifies);
- `wgan_gp.py`: `WGANGP`, `GAN(loss="wasserstein_gp")` under its own name;
- `networks.py`: the generators and critics, regularisers built in.
"""

from keras_latent.models.gan.conditional import ACGAN, CGAN
from keras_latent.models.gan.gan import ARCHITECTURES, GAN
from keras_latent.models.gan.networks import build_critic, build_generator, dcgan_critic
from keras_latent.models.gan.wgan_gp import WGANGP

__all__ = [
    "ACGAN",
    "ARCHITECTURES",
    "CGAN",
    "GAN",
    "WGANGP",
    "build_critic",
    "build_generator",
    "dcgan_critic",
]
