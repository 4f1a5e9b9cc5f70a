"""Adversarial losses: the logistic loss and the Wasserstein pair, written in
`keras.ops`."""

from __future__ import annotations

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
