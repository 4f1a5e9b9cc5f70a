"""Latent Constraints (Engel, Hoffman & Roberts 2017, "Latent Constraints:
Learning to Generate Conditionally from Unconditional Generative Models",
arXiv:1711.05772, ICLR 2018), the zoo's flagship.

An unconditional VAE, trained first and then frozen, is made conditional by
players that live in its n-dimensional latent space. Notation: q(z|x) =
N(μ(x), diag σ²(x)) is the frozen encoder, p(z) = N(0, I) the prior, y a
label vector (K attributes, 0/1; one-hot rows for categorical labels such as
MNIST digits), sg(·) stop-gradient, softplus(t) = log(1 + eᵗ), so that
−log sigmoid(ℓ) = softplus(−ℓ) for a logit ℓ, and BCE(ℓ, t) = softplus(ℓ) − t·ℓ
the binary cross-entropy of sigmoid(ℓ) against a target t.

- **Realism critic** D(z, y) → one logit, and **actor** G(z, y) → 2n outputs
  (δ, γ): ReLU MLPs (4 × 2048 by default) that read concat[z, W_y·y], W_y a
  Dense embedding of the labels. The actor is a gated residual step:

      z' = G(z, y) = (1 − g) ⊙ z + g ⊙ δ,   g = sigmoid(γ).

- **Critic loss.** Real: z_r = μ(x) + σ(x) ⊙ ε with its own y. Fake: from
  z_p ~ p(z), z_f = z_p with probability `prior_fake_fraction` (0.1), else
  sg(G(z_p, y)). With `mismatched_labels`, (z_r, ỹ) for ỹ the batch's labels
  shuffled are extra fakes, weighted w = 0 where ỹ_i = y_i (a real pair):

      L_D = mean_i softplus(−D(z_r,i, y_i))
          + Σ_j w_j softplus(D_j) / max(Σ_j w_j, 1)
          + λ_gp · mean_i (‖∇_ẑ D(ẑ_i, y_i)‖₂ − 1)²,
      ẑ = ε z_r + (1 − ε) z_f,   ε ~ U[0, 1] per example,   λ_gp = 10.

- **Actor loss**, on z ~ p(z) with the batch's labels:

      L_G = mean_i [ softplus(−D(z'_i, y_i)) + λ_dist · L_dist(z'_i, z_i) ],
      L_dist(z', z) = (1/n) Σ_d log(1 + (z'_d − z_d)²) / σ̄_d²,

  λ_dist = 0.1 (0 disables it), σ̄_z the per-dimension mean of the encoder's
  σ(x) over the training set (`compute_statistics`). Each `fit` step runs
  `critic_steps` (10) critic updates, then one actor update; both players
  use Adam(1e-4, β₁ = 0, β₂ = 0.9).
- **Attribute critics** D_attr(z) → K logits (a sigmoid each, or a softmax
  for categorical labels), trained with cross-entropy on z ~ q(z|x) of
  labelled images (`fit_attribute_critic`): how a user teaches the model a
  new attribute from their own images without retraining the VAE.

Samples are the decoder's mean at G(z ~ p(z), y). Edits start at z₀ = μ(x):
the actor's G(z₀, y_target) (amortised, one forward pass), or Adam
(β₁ = 0.9, β₂ = 0.999, learning rate 2e-2, at most 300 steps) on z minimising

    J(z) = w_real · softplus(−D(z, y)) + w_attr · Σ_a BCE(D_attr,a(z), t_a)
         + λ_dist · L_dist(z, z₀) + w_c · c(decode(z) or z),

w_real = 0.1, w_attr = 1.0, each example stopping once its critics all pass.
The optional c is any differentiable per-example loss (a zero-shot
constraint, no labels needed); with it nothing stops early. More in
docs/models.md, "Latent Constraints".

Modules:

- `latent_constraints.py`: the `LatentConstraints` model, its players and the
  actor-critic game;
- `networks.py`: the conditional MLPs of D and G, the attribute critics'
  MLP and the model that trains one;
- `labels.py`: attribute names and label vectors, checked and filled in;
- `attribute_critics.py`: `fit_attribute_critic`, the data it reads, and
  which critic judges which attribute;
- `latent_search.py`: `optimize_latents`, the optimisation of latents;
- `inference.py`: `generate`, `transform` and `satisfies`;
- `options.py`: the optimisation options `generate` and `transform` take.
"""

# Importable from here, where it was defined before `keras_latent.losses`.
from keras_latent.losses import latent_distance
from keras_latent.models.latent_constraints.latent_constraints import (
    LatentConstraints,
)
from keras_latent.models.latent_constraints.latent_search import optimize_latents
from keras_latent.models.latent_constraints.networks import (
    conditional_mlp,
    latent_mlp,
)
from keras_latent.models.latent_constraints.options import (
    CONSTRAINT_SPACES,
    OPTIMIZE_OPTIONS,
    TRANSFORM_METHODS,
)
from keras_latent.utils.labels import LABEL_TYPES

__all__ = [
    "CONSTRAINT_SPACES",
    "LABEL_TYPES",
    "OPTIMIZE_OPTIONS",
    "TRANSFORM_METHODS",
    "LatentConstraints",
    "conditional_mlp",
    "latent_distance",
    "latent_mlp",
    "optimize_latents",
]
