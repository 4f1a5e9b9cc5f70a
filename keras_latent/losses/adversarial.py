"""Adversarial losses by name: (discriminator loss, generator loss) pairs.

With logits `d_r = D(x)` on real data and `d_f = D(G(z))` on generated data
(one per example), each pair is written in `keras.ops` and averages over the
batch:

| name | discriminator minimises | generator minimises |
|---|---|---|
| `minimax` | −log σ(d_r) − log(1 − σ(d_f)) | log(1 − σ(d_f)) |
| `non_saturating` | −log σ(d_r) − log(1 − σ(d_f)) | −log σ(d_f) |
| `least_squares` | ½(d_r − 1)² + ½ d_f² | ½(d_f − 1)² |
| `wasserstein` | d_f − d_r | −d_f |
| `wasserstein_gp` | d_f − d_r | −d_f |
| `hinge` | relu(1 − d_r) + relu(1 + d_f) | −d_f |

`wasserstein` (Arjovsky et al. 2017) needs its critic kept Lipschitz by
clipping the weights, `wasserstein_gp` (Gulrajani et al. 2017) by the
gradient penalty: the same pair, different regularisers, which the GAN
models add by the loss's name. The minimax generator loss saturates: when
the discriminator rejects samples confidently, σ(d_f) → 0 and its gradient
vanishes; the non-saturating loss has the same fixed point and a strong
gradient there (Goodfellow et al. 2014).
"""

from __future__ import annotations

from typing import NamedTuple

from keras import ops


def sigmoid_cross_entropy(logits, targets):
    """Element-wise binary cross-entropy of `sigmoid(logits)` against `targets`.

    The stable form `log(1 + exp(l)) − t·l`; `targets` may be any value in
    [0, 1] and broadcasts against `logits`.
    """
    return ops.softplus(logits) - targets * logits


def wasserstein_critic_loss(real_scores, fake_scores):
    """`E[D(fake)] − E[D(real)]`: the WGAN critic minimises this."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """`−E[D(fake)]`: the WGAN generator minimises this."""
    return -ops.mean(fake_scores)


def logistic_discriminator_loss(real_logits, fake_logits):
    """`E[−log σ(d_r)] + E[−log(1 − σ(d_f))]`: the minimax and
    non-saturating discriminators minimise this."""
    return ops.mean(sigmoid_cross_entropy(real_logits, 1.0)) + ops.mean(
        sigmoid_cross_entropy(fake_logits, 0.0)
    )


def minimax_generator_loss(fake_logits):
    """`E[log(1 − σ(d_f))]`, i.e. `−E[softplus(d_f)]`: saturates when the
    discriminator confidently rejects the samples."""
    return -ops.mean(sigmoid_cross_entropy(fake_logits, 0.0))


def non_saturating_generator_loss(fake_logits):
    """`E[−log σ(d_f)]`, i.e. `E[softplus(−d_f)]`."""
    return ops.mean(sigmoid_cross_entropy(fake_logits, 1.0))


def least_squares_discriminator_loss(real_logits, fake_logits):
    """`E[½(d_r − 1)²] + E[½ d_f²]` (LSGAN, Mao et al. 2017, a = 0, b = c = 1)."""
    return 0.5 * ops.mean(ops.square(real_logits - 1.0)) + 0.5 * ops.mean(
        ops.square(fake_logits)
    )


def least_squares_generator_loss(fake_logits):
    """`E[½(d_f − 1)²]`."""
    return 0.5 * ops.mean(ops.square(fake_logits - 1.0))


def hinge_discriminator_loss(real_logits, fake_logits):
    """`E[relu(1 − d_r)] + E[relu(1 + d_f)]` (Lim & Ye 2017; Miyato et al.
    2018)."""
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


class AdversarialLoss(NamedTuple):
    """A named pair: `discriminator(real_logits, fake_logits)` and
    `generator(fake_logits)`, each returning a scalar."""

    name: str
    discriminator: object
    generator: object


ADVERSARIAL_LOSSES = {
    "minimax": AdversarialLoss(
        "minimax", logistic_discriminator_loss, minimax_generator_loss
    ),
    "non_saturating": AdversarialLoss(
        "non_saturating", logistic_discriminator_loss, non_saturating_generator_loss
    ),
    "least_squares": AdversarialLoss(
        "least_squares",
        least_squares_discriminator_loss,
        least_squares_generator_loss,
    ),
    "wasserstein": AdversarialLoss(
        "wasserstein", wasserstein_critic_loss, wasserstein_generator_loss
    ),
    "wasserstein_gp": AdversarialLoss(
        "wasserstein_gp", wasserstein_critic_loss, wasserstein_generator_loss
    ),
    "hinge": AdversarialLoss(
        "hinge", hinge_discriminator_loss, wasserstein_generator_loss
    ),
}


def adversarial_loss(name: str) -> AdversarialLoss:
    """The `(discriminator, generator)` loss pair called `name`.

    Args:
        name: one of `"minimax"`, `"non_saturating"`, `"least_squares"`,
            `"wasserstein"`, `"wasserstein_gp"`, `"hinge"`.

    Example:

    ```python
    pair = keras_latent.losses.adversarial_loss("hinge")
    d_loss = pair.discriminator(critic(real), critic(fake))
    g_loss = pair.generator(critic(fake))
    ```
    """
    if name not in ADVERSARIAL_LOSSES:
        raise ValueError(
            f"Unknown adversarial loss {name!r}. Valid names: "
            f"{list(ADVERSARIAL_LOSSES)}."
        )
    return ADVERSARIAL_LOSSES[name]


def feature_matching_loss(real_features, fake_features):
    """`‖E f(x) − E f(G(z))‖²`: the squared distance between the batch means
    of a discriminator layer's features on real and generated data
    (Salimans et al. 2016, §3.1). The real features carry no gradient."""
    real_mean = ops.stop_gradient(ops.mean(real_features, axis=0))
    return ops.sum(ops.square(real_mean - ops.mean(fake_features, axis=0)))
