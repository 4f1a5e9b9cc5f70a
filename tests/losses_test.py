import keras
import numpy as np
import pytest
from keras import ops

from keras_latent import losses
from keras_latent.trainer import input_gradients


def linear_critic(w):
    w = ops.convert_to_tensor(w)
    return lambda x: ops.matmul(ops.reshape(x, (ops.shape(x)[0], -1)), w)


def test_gradient_penalty_of_linear_critic_is_analytic():
    # D(x) = w·x has ∇D = w everywhere, so the penalty is (‖w‖ − 1)².
    w = np.array([[0.3], [0.4], [1.2]], "float32")
    x = np.random.rand(7, 3).astype("float32")
    penalty = losses.gradient_penalty(linear_critic(w), x)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(penalty), expected, rtol=1e-5)


def test_gradient_penalty_reduces_over_all_non_batch_axes():
    w = np.random.randn(2 * 3 * 2, 1).astype("float32")
    x = np.random.rand(4, 2, 3, 2).astype("float32")
    penalty = losses.gradient_penalty(linear_critic(w), x)
    expected = (np.linalg.norm(w) - 1.0) ** 2
    np.testing.assert_allclose(keras.ops.convert_to_numpy(penalty), expected, rtol=1e-5)


def test_gradient_penalty_is_finite_for_a_zero_gradient():
    x = np.random.rand(4, 3).astype("float32")
    penalty = losses.gradient_penalty(lambda t: ops.zeros((4, 1)) * ops.sum(t), x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(penalty), 1.0, rtol=1e-5)


def test_input_gradients_of_a_quadratic():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")
    values, grads = input_gradients(lambda t: ops.sum(t**2, axis=1), x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(values), (x**2).sum(1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grads), 2 * x)


def test_gaussian_kl_matches_closed_form():
    mean = np.array([[0.5, -1.0]], "float32")
    log_var = np.array([[0.2, -0.3]], "float32")
    expected = 0.5 * np.sum(mean**2 + np.exp(log_var) - 1.0 - log_var)
    kl = keras.ops.convert_to_numpy(losses.gaussian_kl(mean, log_var))
    np.testing.assert_allclose(kl, [expected], rtol=1e-5)
    zero = losses.gaussian_kl(np.zeros((1, 3), "float32"), np.zeros((1, 3), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zero), [0.0], atol=1e-7)


@pytest.mark.parametrize("sigma", [0.1, 1.0])
def test_gaussian_reconstruction_is_a_pixel_sum(sigma):
    x = np.random.rand(3, 4, 4, 1).astype("float32")
    x_hat = np.random.rand(3, 4, 4, 1).astype("float32")
    value = losses.gaussian_reconstruction(x, x_hat, sigma)
    expected = ((x - x_hat) ** 2).sum(axis=(1, 2, 3)) / (2 * sigma**2)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), expected, rtol=1e-5)


def test_bernoulli_reconstruction_matches_cross_entropy():
    x = np.random.rand(2, 5).astype("float32")
    logits = np.random.randn(2, 5).astype("float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    value = losses.bernoulli_reconstruction(x, logits)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), expected, rtol=1e-4)


def test_input_gradients_returns_aux_from_the_same_pass():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")
    calls = []

    def fn(t):
        calls.append(1)
        return ops.sum(t**2, axis=1), ops.sum(t, axis=1) > 1.0

    values, grads, aux = input_gradients(fn, x, has_aux=True)
    assert len(calls) == 1
    np.testing.assert_allclose(keras.ops.convert_to_numpy(values), (x**2).sum(1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(grads), 2 * x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aux), [False, True])
