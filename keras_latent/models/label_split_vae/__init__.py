"""The label-relevant/irrelevant VAE (Zheng & Sun 2019, "Disentangling
Latent Space for VAE by Label Relevant/Irrelevant Dimensions", CVPR),
`LabelRelevantIrrelevantVAE`, on the zoo's multi-player trainer.

An image x of class y ∈ {1, …, K} gets two codes:

- a label-relevant code z_s = E_s(x) (deterministic), on which the
  Gaussian-mixture (GM) loss of Wan et al. (2018) fits one Gaussian
  N(μ_k, diag σ²_k) per class (learnable μ_k, σ²_k = softplus(r_k); the
  `GaussianMixture` layer):

      d_k(z) = ½ Σ_j (z_j − μ_kj)² / σ²_kj + ½ Σ_j log σ²_kj,
      L_cls = −log[ e^{−d_y(1 + α)} / (e^{−d_y(1 + α)} + Σ_{k≠y} e^{−d_k}) ],
      L_lkd = d_y(z_s),      L_GM = L_cls + λ_lkd · L_lkd,

  with margin α = 0 and λ_lkd = 0.1 by default;
- a label-irrelevant code z_u ~ q(z_u|x) = N(μ(x), diag σ²(x)) (E_u),
  with KL(q(z_u|x) ‖ N(0, I)), and an adversarial classifier C (an MLP,
  256 → K logits) that tries to read y from z_u:

      L_C   = −log softmax(C(sg(z_u)))_y            (C's loss)
      L_adv = −Σ_k (1/K) log softmax(C(z_u))_k      (E_u's: C's guess uniform)

The decoder D maps concat(z_s, z_u) to the image, x̂ = sigmoid(logits),
with L_rec = Σ_pixels (x − x̂)². Each `fit` step on a batch (x, y) runs:

1. the GM stage, `gm_steps` (3) times: E_s and (μ_k, r_k) minimise L_GM;
2. the joint stage: E_s, E_u and D minimise
   `w_rec · L_rec + β · KL + λ_lkd · L_lkd + w_adv · L_adv` (w_rec = 10,
   β = 1, w_adv = 1);
3. the classifier stage: C minimises L_C.

Samples of class k decode z_s ~ N(μ_k, diag σ²_k) with z_u ~ N(0, I);
`transform` keeps an image's z_u and puts in the target class's μ_k. More
in docs/models.md, "The label-relevant/irrelevant VAE".

- `model.py`: the model, its players and phases;
- `inference.py`: `encode`, `decode`, `reconstruct`, `predict_attributes`,
  `generate`, `transform`, `interpolate`, `inpaint`;
- `networks.py`: the encoders, the decoder and the adversarial classifier.
"""

from keras_latent.models.label_split_vae.model import LabelRelevantIrrelevantVAE
from keras_latent.models.label_split_vae.networks import (
    image_decoder,
    image_encoder,
    latent_classifier,
)

__all__ = [
    "LabelRelevantIrrelevantVAE",
    "image_decoder",
    "image_encoder",
    "latent_classifier",
]
