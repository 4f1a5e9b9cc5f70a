"""Training throughput of keras-latent's `fit` against hand-written loops.

For the VAE (stock Keras trainer via `compute_loss`, compiled with
`keras_latent.optimizers.Adam` as in the recipes) and the WGAN-GP (the
zoo's multi-player trainer), on each Keras backend, this measures images per
second of `model.fit` next to a hand-written training loop with the same
architecture, batch size and step definition, written the way one would on
that backend:

- tensorflow: a `tf.function` step with `tf.GradientTape` (a nested tape for
  the gradient penalty) over the zoo's own Keras networks, `optimizer.apply`;
- jax: a `jax.jit` step with `jax.value_and_grad` over the networks'
  `stateless_call`, `optimizer.stateless_apply`, a nested `jax.grad` for the
  penalty, BatchNorm statistics and `jax.random` keys threaded by hand;
- torch: plain `torch.nn` modules of the same shapes (NCHW), `torch.optim.Adam`
  with the same hyperparameters, `torch.autograd.grad(create_graph=True)` for
  the penalty. The worker asserts that the parameter counts match.

One step is one batch: for the WGAN-GP that is `critic_steps` critic updates
on the batch (fresh noise each) and one generator update, and it counts as
`batch_size` images. Data are random (throughput does not depend on content).
Each backend runs in its own subprocess, since Keras fixes its backend per
process. Each measurement is run after `--warmup_steps` steps (compilation
included) and timed `--repeats` times, `fit` and hand-written interleaved so
that a drifting machine load hits both alike (in alternating order); the
table shows medians. The ratio is the median over repeats of fit's speed /
the hand-written loop's speed in the same repeat: >= 1 means the zoo is at
least as fast.

Run from the repository root (a full run takes a few minutes per backend):

    python benchmarks/train_throughput.py
    python benchmarks/train_throughput.py --backends jax --models wgan_gp \\
        --batch_size 128 --output results.json
    # A smoke test:
    python benchmarks/train_throughput.py --steps 3 --warmup_steps 1

On a machine busy with other jobs, pass `--torch_threads 1`: torch's OpenMP
threads fighting another process for the cores make every torch number many
times slower.
"""

from __future__ import annotations

import gc
import os
import statistics
import time

import backend_workers  # benchmarks/ is on sys.path when run as a script
import numpy as np
from absl import app, flags, logging

MODELS = ("vae", "wgan_gp")
DEFAULT_STEPS = {"vae": 50, "wgan_gp": 10}

FLAGS = flags.FLAGS

# --backends, --torch_threads, --output and the internal --worker, --backend.
backend_workers.define_flags()
flags.adopt_module_key_flags(backend_workers)

# What to run.
flags.DEFINE_list("models", list(MODELS), "Models to benchmark: vae, wgan_gp.")
flags.DEFINE_integer("batch_size", 64, "Images per step.")
flags.DEFINE_integer(
    "steps", None, "Timed steps per repeat (default: 50 for vae, 10 for wgan_gp)."
)
flags.DEFINE_integer(
    "warmup_steps", 5, "Untimed steps before timing (they include compilation)."
)
flags.DEFINE_integer("repeats", 3, "Timed repeats per measurement; the median wins.")
flags.DEFINE_list("image_shape", ["28", "28", "1"], "Height, width, channels.")
flags.DEFINE_integer("seed", 0, "Seed of the data, the weights and the noise.")
flags.DEFINE_bool(
    "torch_keras_layers",
    False,
    "On torch, also time the torch loop over the zoo's Keras layers and the "
    "optimizer fit uses: separates what Keras's layers cost from what the "
    "trainer costs.",
)
flags.DEFINE_enum(
    "jit_compile",
    "auto",
    ["auto", "true", "false"],
    "Keras `compile(jit_compile=...)` for fit (true on torch: `torch.compile`; "
    "on TensorFlow the hand-written `tf.function` follows fit's setting). The "
    "warm-up steps include the compilation; the JSON records their seconds.",
)
flags.DEFINE_integer(
    "steps_per_execution",
    1,
    "Keras `compile(steps_per_execution=...)` for fit: amortises fit's fixed "
    "per-step cost over several steps.",
)

# The VAE configuration: a small MLP VAE with a Bernoulli decoder.
flags.DEFINE_enum("vae_architecture", "mlp", ["mlp", "conv"], "VAE architecture.")
flags.DEFINE_list("vae_hidden_units", ["512", "256"], "VAE MLP widths.")
flags.DEFINE_list("vae_filters", ["32", "64"], "VAE conv channels.")
flags.DEFINE_integer("vae_latent_dim", 16, "VAE latent dimension.")
flags.DEFINE_enum(
    "vae_decoder_distribution",
    "bernoulli",
    ["bernoulli", "gaussian"],
    "VAE decoder distribution.",
)
flags.DEFINE_float("vae_decoder_sigma", 0.1, "σ_x of the Gaussian decoder.")
flags.DEFINE_float("vae_beta", 1.0, "VAE β.")
flags.DEFINE_float("vae_learning_rate", 1e-3, "Adam learning rate of the VAE.")

# The WGAN-GP configuration: the DCGAN of `recipes/train_mnist_gan.py --model wgan_gp`.
flags.DEFINE_integer("wgan_latent_dim", 128, "WGAN-GP noise dimension.")
flags.DEFINE_list("wgan_generator_filters", ["64", "32"], "Generator channels.")
flags.DEFINE_list("wgan_critic_filters", ["32", "64"], "Critic channels.")
flags.DEFINE_integer("wgan_critic_steps", 5, "Critic updates per generator update.")
flags.DEFINE_float("wgan_gradient_penalty_weight", 10.0, "λ of the penalty.")

# Flags the parent passes on to its workers.
_FORWARDED = [
    "models",
    "batch_size",
    "steps_per_execution",
    "jit_compile",
    "steps",
    "warmup_steps",
    "repeats",
    "image_shape",
    "seed",
    "torch_threads",
    "torch_keras_layers",
    "vae_architecture",
    "vae_hidden_units",
    "vae_filters",
    "vae_latent_dim",
    "vae_decoder_distribution",
    "vae_decoder_sigma",
    "vae_beta",
    "vae_learning_rate",
    "wgan_latent_dim",
    "wgan_generator_filters",
    "wgan_critic_filters",
    "wgan_critic_steps",
    "wgan_gradient_penalty_weight",
]


# -- settings shared by both sides of a comparison ------------------------------------


def _ints(values):
    return tuple(int(v) for v in values)


def _image_shape():
    return _ints(FLAGS.image_shape)


def _steps(model_name):
    return FLAGS.steps if FLAGS.steps is not None else DEFAULT_STEPS[model_name]


def _vae_config():
    return {
        "image_shape": _image_shape(),
        "latent_dim": FLAGS.vae_latent_dim,
        "architecture": FLAGS.vae_architecture,
        "hidden_units": _ints(FLAGS.vae_hidden_units),
        "filters": _ints(FLAGS.vae_filters),
        "decoder_distribution": FLAGS.vae_decoder_distribution,
        "decoder_sigma": FLAGS.vae_decoder_sigma,
        "beta": FLAGS.vae_beta,
        "seed": FLAGS.seed,
    }


def _wgan_config():
    return {
        "image_shape": _image_shape(),
        "latent_dim": FLAGS.wgan_latent_dim,
        "generator_filters": _ints(FLAGS.wgan_generator_filters),
        "critic_filters": _ints(FLAGS.wgan_critic_filters),
        "critic_steps": FLAGS.wgan_critic_steps,
        "gradient_penalty_weight": FLAGS.wgan_gradient_penalty_weight,
        "seed": FLAGS.seed,
    }


def _jit_compile():
    return {"auto": "auto", "true": True, "false": False}[FLAGS.jit_compile]


def _build_zoo_model(model_name):
    """A fresh, compiled zoo model; hand-written loops borrow its networks."""
    import keras_latent
    from keras_latent.models import VAE, WGANGP

    settings = {
        "steps_per_execution": FLAGS.steps_per_execution,
        "jit_compile": _jit_compile(),
    }
    if model_name == "vae":
        model = VAE(**_vae_config())
        # The recipes' optimizer: Keras's Adam, updated in place on torch.
        model.compile(
            optimizer=keras_latent.optimizers.Adam(FLAGS.vae_learning_rate),
            **settings,
        )
    else:
        model = WGANGP(**_wgan_config())
        # Adam(1e-4, beta_1=0, beta_2=0.9) for both players.
        model.compile(**settings)
    return model


def _wgan_adam():
    """The WGAN-GP's reference optimizer settings (see `default_optimizers`)."""
    return {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}


def _num_params(variables):
    return int(sum(np.prod(v.shape) for v in variables))


# -- timing ---------------------------------------------------------------------------


def _fit_runner(model, images, batch_size):
    """Runs `fit`; returns (seconds of its steps, seconds of the whole call)."""

    clock = backend_workers.step_clock()

    def run(num_steps):
        start = time.perf_counter()
        # shuffle=False: the hand-written loops do not shuffle either.
        model.fit(
            images[: num_steps * batch_size],
            batch_size=batch_size,
            epochs=1,
            steps_per_epoch=num_steps,
            shuffle=False,
            verbose=0,
            callbacks=[clock],
        )
        return clock.stop - clock.start, time.perf_counter() - start

    return run


def _timed(loop):
    """Wraps a hand-written `loop(num_steps)` to return its seconds twice."""

    def run(num_steps):
        start = time.perf_counter()
        loop(num_steps)
        seconds = time.perf_counter() - start
        return seconds, seconds

    return run


def _measure(runners, steps, warmup_steps, repeats):
    """Times `steps` steps of each runner `repeats` times, interleaved.

    Returns `{name: {"steps": [seconds], "call": [seconds], "warmup": seconds}}`:
    "steps" spans the first step to the last (for `fit`, what its callbacks
    see), "call" also includes `fit`'s fixed cost per call (data adapter,
    iterator, callbacks), "warmup" is the untimed warm-up call, compilation
    included.
    """
    warmup = {}
    for name, run in runners.items():
        warmup[name] = run(warmup_steps)[1]
    seconds = {
        name: {"steps": [], "call": [], "warmup": warmup[name]} for name in runners
    }
    order = list(runners)
    for _ in range(repeats):
        # Alternating the order (ABBA...) cancels a steady drift of the
        # machine's speed out of the per-repeat ratios.
        for name in order:
            run = runners[name]
            gc.collect()  # so that one side does not pay for the other's garbage
            steps_seconds, call_seconds = run(steps)
            seconds[name]["steps"].append(steps_seconds)
            seconds[name]["call"].append(call_seconds)
        order.reverse()
    return seconds


def _paired_ratio(seconds, baseline):
    """Median over repeats of fit's speed / `baseline`'s speed in that repeat.

    The machine's speed drifts by tens of percent within a run; the two
    sides of one repeat run back to back, so their ratio mostly cancels it.
    """
    return statistics.median(
        base / fit
        for fit, base in zip(seconds["fit"]["steps"], seconds[baseline]["steps"])
    )


# -- hand-written loops: TensorFlow ---------------------------------------------------


def _tf_vae(zoo, batches, jit_compile):
    import keras
    import tensorflow as tf

    encoder, decoder = zoo.encoder, zoo.decoder
    variables = encoder.trainable_variables + decoder.trainable_variables
    optimizer = keras.optimizers.Adam(FLAGS.vae_learning_rate)
    optimizer.build(variables)
    rng = tf.random.Generator.from_seed(FLAGS.seed)
    bernoulli = zoo.decoder_distribution == "bernoulli"
    sigma, beta = zoo.decoder_sigma, zoo.beta

    # jit_compile follows what `fit` resolved ("auto": no XLA on a CPU-only TF).
    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            mean, raw_std = tf.split(encoder(x, training=True), 2, axis=-1)
            std = tf.nn.softplus(raw_std) + 1e-6
            z = mean + std * rng.normal(tf.shape(mean))
            logits = decoder(z, training=True)
            if bernoulli:
                per_pixel = tf.nn.softplus(logits) - x * logits
            else:
                per_pixel = tf.square(x - tf.sigmoid(logits)) / (2.0 * sigma**2)
            reconstruction = tf.reduce_sum(per_pixel, axis=[1, 2, 3])
            log_var = 2.0 * tf.math.log(std)
            kl = 0.5 * tf.reduce_sum(
                tf.square(mean) + tf.exp(log_var) - 1.0 - log_var, axis=-1
            )
            loss = tf.reduce_mean(reconstruction) + beta * tf.reduce_mean(kl)
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    return _tf_runner(step, batches), _num_params(variables)


def _tf_wgan(zoo, batches, jit_compile):
    import keras
    import tensorflow as tf

    generator, critic = zoo.generator, zoo.critic
    g_vars, c_vars = generator.trainable_variables, critic.trainable_variables
    g_optimizer = keras.optimizers.Adam(**_wgan_adam())
    c_optimizer = keras.optimizers.Adam(**_wgan_adam())
    g_optimizer.build(g_vars)
    c_optimizer.build(c_vars)
    rng = tf.random.Generator.from_seed(FLAGS.seed)
    latent_dim, weight = zoo.latent_dim, zoo.gradient_penalty_weight

    def fake_images(batch_size):
        noise = rng.normal((batch_size, latent_dim))
        return tf.tanh(generator(noise, training=True))

    @tf.function(jit_compile=jit_compile)
    def step(x):
        real = x * 2.0 - 1.0
        batch_size = tf.shape(real)[0]
        for _ in range(zoo.critic_steps):
            # Outside the tape: the critic's update never needs it.
            fake = fake_images(batch_size)
            with tf.GradientTape() as tape:
                real_scores = critic(real, training=True)
                fake_scores = critic(fake, training=True)
                epsilon = rng.uniform((batch_size, 1, 1, 1))
                interpolates = epsilon * real + (1.0 - epsilon) * fake
                with tf.GradientTape() as penalty_tape:
                    penalty_tape.watch(interpolates)
                    scores = critic(interpolates, training=True)
                grads = penalty_tape.gradient(scores, interpolates)
                norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
                penalty = tf.reduce_mean(tf.square(norms - 1.0))
                critic_loss = (
                    tf.reduce_mean(fake_scores)
                    - tf.reduce_mean(real_scores)
                    + weight * penalty
                )
            c_optimizer.apply(tape.gradient(critic_loss, c_vars), c_vars)
        with tf.GradientTape() as tape:
            generator_loss = -tf.reduce_mean(
                critic(fake_images(batch_size), training=True)
            )
        g_optimizer.apply(tape.gradient(generator_loss, g_vars), g_vars)
        return critic_loss, generator_loss

    return _tf_runner(step, batches), _num_params(g_vars + c_vars)


def _tf_runner(step, batches):
    import tensorflow as tf

    def loop(num_steps):
        for x in batches[:num_steps]:
            result = step(tf.convert_to_tensor(x))
        # Reading a result back waits for the last step.
        tf.nest.map_structure(lambda t: t.numpy(), result)

    return _timed(loop)


# -- hand-written loops: JAX ----------------------------------------------------------


def _jax_vae(zoo, batches):
    import jax
    import jax.numpy as jnp
    import keras

    encoder, decoder = zoo.encoder, zoo.decoder
    variables = encoder.trainable_variables + decoder.trainable_variables
    num_encoder = len(encoder.trainable_variables)
    optimizer = keras.optimizers.Adam(FLAGS.vae_learning_rate)
    optimizer.build(variables)
    bernoulli = zoo.decoder_distribution == "bernoulli"
    sigma, beta = zoo.decoder_sigma, zoo.beta

    def loss_fn(trainable, encoder_state, decoder_state, x, key):
        stats, encoder_state = encoder.stateless_call(
            trainable[:num_encoder], encoder_state, x, training=True
        )
        mean, raw_std = jnp.split(stats, 2, axis=-1)
        std = jax.nn.softplus(raw_std) + 1e-6
        z = mean + std * jax.random.normal(key, mean.shape)
        logits, decoder_state = decoder.stateless_call(
            trainable[num_encoder:], decoder_state, z, training=True
        )
        if bernoulli:
            per_pixel = jax.nn.softplus(logits) - x * logits
        else:
            per_pixel = jnp.square(x - jax.nn.sigmoid(logits)) / (2.0 * sigma**2)
        reconstruction = jnp.sum(per_pixel, axis=(1, 2, 3))
        log_var = 2.0 * jnp.log(std)
        kl = 0.5 * jnp.sum(jnp.square(mean) + jnp.exp(log_var) - 1.0 - log_var, -1)
        loss = jnp.mean(reconstruction) + beta * jnp.mean(kl)
        return loss, (encoder_state, decoder_state)

    def step(state, x):
        trainable, encoder_state, decoder_state, optimizer_state, key = state
        key, subkey = jax.random.split(key)
        (loss, (encoder_state, decoder_state)), grads = jax.value_and_grad(
            loss_fn, has_aux=True
        )(trainable, encoder_state, decoder_state, x, subkey)
        trainable, optimizer_state = optimizer.stateless_apply(
            optimizer_state, grads, trainable
        )
        return (trainable, encoder_state, decoder_state, optimizer_state, key), loss

    state = (
        _jax_copy(variables),
        _jax_copy(encoder.non_trainable_variables),
        _jax_copy(decoder.non_trainable_variables),
        _jax_copy(optimizer.variables),
        jax.random.key(FLAGS.seed),
    )
    # Donating the state lets XLA update it in place, as Keras's `fit` does.
    step = jax.jit(step, donate_argnums=0)
    return _jax_runner(step, state, batches), _num_params(variables)


def _jax_wgan(zoo, batches):
    import jax
    import jax.numpy as jnp
    import keras

    generator, critic = zoo.generator, zoo.critic
    # WGAN-GP's critic has no BatchNorm (the penalty is per example), so it has
    # no state to thread; the generator's BatchNorm statistics are threaded.
    assert not critic.non_trainable_variables, "critic state is not threaded"
    g_optimizer = keras.optimizers.Adam(**_wgan_adam())
    c_optimizer = keras.optimizers.Adam(**_wgan_adam())
    g_optimizer.build(generator.trainable_variables)
    c_optimizer.build(critic.trainable_variables)
    latent_dim, weight = zoo.latent_dim, zoo.gradient_penalty_weight

    def fake_images(g_trainable, g_state, batch_size, key):
        noise = jax.random.normal(key, (batch_size, latent_dim))
        logits, g_state = generator.stateless_call(
            g_trainable, g_state, noise, training=True
        )
        return jnp.tanh(logits), g_state

    def scores_of(c_trainable, images):
        return critic.stateless_call(c_trainable, [], images, training=True)[0]

    def critic_loss_fn(c_trainable, g_trainable, g_state, real, key):
        noise_key, epsilon_key = jax.random.split(key)
        fake, g_state = fake_images(g_trainable, g_state, real.shape[0], noise_key)
        fake = jax.lax.stop_gradient(fake)
        real_scores = scores_of(c_trainable, real)
        fake_scores = scores_of(c_trainable, fake)
        epsilon = jax.random.uniform(epsilon_key, (real.shape[0], 1, 1, 1))
        interpolates = epsilon * real + (1.0 - epsilon) * fake
        grads = jax.grad(lambda t: jnp.sum(scores_of(c_trainable, t)))(interpolates)
        norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=(1, 2, 3)) + 1e-12)
        penalty = jnp.mean(jnp.square(norms - 1.0))
        loss = jnp.mean(fake_scores) - jnp.mean(real_scores) + weight * penalty
        return loss, g_state

    def generator_loss_fn(g_trainable, g_state, c_trainable, batch_size, key):
        fake, g_state = fake_images(g_trainable, g_state, batch_size, key)
        return -jnp.mean(scores_of(c_trainable, fake)), g_state

    def step(state, x):
        c_trainable, g_trainable, g_state, c_opt_state, g_opt_state, key = state
        real = x * 2.0 - 1.0
        critic_grad = jax.value_and_grad(critic_loss_fn, has_aux=True)
        for _ in range(zoo.critic_steps):
            key, subkey = jax.random.split(key)
            (critic_loss, g_state), grads = critic_grad(
                c_trainable, g_trainable, g_state, real, subkey
            )
            c_trainable, c_opt_state = c_optimizer.stateless_apply(
                c_opt_state, grads, c_trainable
            )
        key, subkey = jax.random.split(key)
        (generator_loss, g_state), grads = jax.value_and_grad(
            generator_loss_fn, has_aux=True
        )(g_trainable, g_state, c_trainable, x.shape[0], subkey)
        g_trainable, g_opt_state = g_optimizer.stateless_apply(
            g_opt_state, grads, g_trainable
        )
        state = (c_trainable, g_trainable, g_state, c_opt_state, g_opt_state, key)
        return state, (critic_loss, generator_loss)

    state = (
        _jax_copy(critic.trainable_variables),
        _jax_copy(generator.trainable_variables),
        _jax_copy(generator.non_trainable_variables),
        _jax_copy(c_optimizer.variables),
        _jax_copy(g_optimizer.variables),
        jax.random.key(FLAGS.seed),
    )
    # Donating the state lets XLA update it in place, as Keras's `fit` does.
    step = jax.jit(step, donate_argnums=0)
    variables = generator.trainable_variables + critic.trainable_variables
    return _jax_runner(step, state, batches), _num_params(variables)


def _jax_copy(variables):
    import jax.numpy as jnp

    # Copies, so that donating them does not delete the Keras variables' buffers.
    return [jnp.array(v.value) for v in variables]


def _jax_runner(step, state, batches):
    import jax

    box = [state]

    def loop(num_steps):
        state = box[0]
        for x in batches[:num_steps]:
            state, _ = step(state, jax.device_put(x))
        box[0] = jax.block_until_ready(state)

    return _timed(loop)


# -- hand-written loops: PyTorch ------------------------------------------------------
#
# The modules mirror keras_latent.models.networks in NCHW. With kernel 4,
# stride 2 and even sizes (the builders require them), Keras's "same" pads one
# pixel on each side, which is padding=1 for Conv2d and ConvTranspose2d alike.
# BatchNorm: Keras momentum 0.99 is torch momentum 0.01; Keras epsilon is 1e-3.


def _torch_mlp_encoder(image_shape, hidden_units, output_dim):
    from torch import nn

    height, width, channels = image_shape
    layers, size = [nn.Flatten()], height * width * channels
    for units in hidden_units:
        layers += [nn.Linear(size, units), nn.ReLU()]
        size = units
    return nn.Sequential(*layers, nn.Linear(size, output_dim))


def _torch_mlp_decoder(latent_dim, hidden_units, image_shape):
    from torch import nn

    height, width, channels = image_shape
    layers, size = [], latent_dim
    for units in hidden_units:
        layers += [nn.Linear(size, units), nn.ReLU()]
        size = units
    layers += [
        nn.Linear(size, height * width * channels),
        nn.Unflatten(1, (channels, height, width)),
    ]
    return nn.Sequential(*layers)


def _torch_conv_encoder(image_shape, filters, output_dim, activation):
    from torch import nn

    height, width, channels = image_shape
    layers = []
    for count in filters:
        layers += [nn.Conv2d(channels, count, 4, stride=2, padding=1), activation()]
        channels, height, width = count, height // 2, width // 2
    layers += [nn.Flatten(), nn.Linear(height * width * channels, output_dim)]
    return nn.Sequential(*layers)


def _torch_conv_decoder(latent_dim, filters, image_shape, batch_norm):
    from torch import nn

    height, width, out_channels = image_shape
    height, width = height >> len(filters), width >> len(filters)
    size = height * width * filters[0]
    layers = [nn.Linear(latent_dim, size)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(size, eps=1e-3, momentum=0.01))
    layers += [nn.ReLU(), nn.Unflatten(1, (filters[0], height, width))]
    channels = filters[0]
    for count in filters[1:]:
        layers.append(nn.ConvTranspose2d(channels, count, 4, stride=2, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(count, eps=1e-3, momentum=0.01))
        layers.append(nn.ReLU())
        channels = count
    layers.append(nn.ConvTranspose2d(channels, out_channels, 4, stride=2, padding=1))
    return nn.Sequential(*layers)


def _torch_vae_networks(zoo):
    shape = zoo.image_shape
    if zoo.architecture == "mlp":
        encoder = _torch_mlp_encoder(shape, zoo.hidden_units, 2 * zoo.latent_dim)
        decoder = _torch_mlp_decoder(zoo.latent_dim, zoo.hidden_units[::-1], shape)
    else:
        from torch import nn

        encoder = _torch_conv_encoder(shape, zoo.filters, 2 * zoo.latent_dim, nn.ReLU)
        decoder = _torch_conv_decoder(
            zoo.latent_dim, zoo.filters[::-1], shape, batch_norm=False
        )
    return encoder, decoder


def _torch_wgan_networks(zoo):
    from torch import nn

    generator = _torch_conv_decoder(
        zoo.latent_dim, zoo.generator_filters, zoo.image_shape, batch_norm=True
    )
    critic = _torch_conv_encoder(
        zoo.image_shape, zoo.critic_filters, 1, lambda: nn.LeakyReLU(0.2)
    )
    return generator, critic


def _torch_optim_update(params, learning_rate, beta_1=0.9, beta_2=0.999):
    """`update(loss)`: one `torch.optim.Adam` step on `params` (tensors)."""
    import torch

    # Keras's Adam epsilon is 1e-7; torch's default is 1e-8.
    optimizer = torch.optim.Adam(
        params, lr=learning_rate, betas=(beta_1, beta_2), eps=1e-7
    )

    def update(loss):
        optimizer.zero_grad(set_to_none=True)
        # inputs=: gradients for these parameters only (a generator loss would
        # otherwise also fill the critic's).
        loss.backward(inputs=params)
        optimizer.step()

    return update


def _keras_optimizer_update(variables, learning_rate, beta_1=0.9, beta_2=0.999):
    """`update(loss)`: one Adam step on `variables` (Keras variables), the way
    Keras's torch trainer applies it, with the optimizer `fit` uses (Keras's
    Adam, updated in place)."""
    import torch

    import keras_latent

    optimizer = keras_latent.optimizers.Adam(
        learning_rate, beta_1=beta_1, beta_2=beta_2
    )
    optimizer.build(variables)
    values = [v.value for v in variables]

    def update(loss):
        grads = torch.autograd.grad(loss, values)
        with torch.no_grad():
            optimizer.apply(grads, variables)

    return update


def _torch_vae_step(encode, decode, update, zoo):
    import torch
    import torch.nn.functional as F

    bernoulli = zoo.decoder_distribution == "bernoulli"
    sigma, beta = zoo.decoder_sigma, zoo.beta

    def step(x):
        mean, raw_std = encode(x).chunk(2, dim=-1)
        std = F.softplus(raw_std) + 1e-6
        z = mean + std * torch.randn_like(mean)
        logits = decode(z)
        if bernoulli:
            per_pixel = F.softplus(logits) - x * logits
        else:
            per_pixel = torch.square(x - torch.sigmoid(logits)) / (2.0 * sigma**2)
        reconstruction = per_pixel.sum(dim=(1, 2, 3))
        log_var = 2.0 * torch.log(std)
        kl = 0.5 * torch.sum(mean.square() + log_var.exp() - 1.0 - log_var, dim=-1)
        loss = reconstruction.mean() + beta * kl.mean()
        update(loss)
        return loss.detach()

    return step


def _torch_wgan_step(generate, criticize, g_update, c_update, zoo):
    import torch

    latent_dim, weight = zoo.latent_dim, zoo.gradient_penalty_weight

    def fake_images(batch_size):
        return torch.tanh(generate(torch.randn(batch_size, latent_dim)))

    def step(x):
        real = x * 2.0 - 1.0
        batch_size = real.shape[0]
        for _ in range(zoo.critic_steps):
            # The critic's update needs no graph of the generator (BatchNorm
            # statistics still update, as in the zoo's critic phase).
            with torch.no_grad():
                fake = fake_images(batch_size)
            real_scores = criticize(real)
            fake_scores = criticize(fake)
            epsilon = torch.rand(batch_size, 1, 1, 1)
            interpolates = (epsilon * real + (1.0 - epsilon) * fake).requires_grad_()
            (grads,) = torch.autograd.grad(
                criticize(interpolates).sum(), interpolates, create_graph=True
            )
            norms = torch.sqrt(grads.square().sum(dim=(1, 2, 3)) + 1e-12)
            penalty = (norms - 1.0).square().mean()
            critic_loss = fake_scores.mean() - real_scores.mean() + weight * penalty
            c_update(critic_loss)
        generator_loss = -criticize(fake_images(batch_size)).mean()
        g_update(generator_loss)
        return critic_loss.detach(), generator_loss.detach()

    return step


def _torch_runner(step, batches):
    import torch

    def loop(num_steps):
        for x in batches[:num_steps]:
            result = step(torch.from_numpy(x))
        # CPU torch is synchronous; reading the result back also covers CUDA.
        for value in result if isinstance(result, tuple) else (result,):
            value.item()

    return _timed(loop)


def _torch_plain(model_name, zoo, batches):
    """Plain torch.nn of the zoo model's architecture, on NCHW data."""
    import torch

    torch.manual_seed(FLAGS.seed)
    nchw = [np.ascontiguousarray(x.transpose(0, 3, 1, 2)) for x in batches]
    if model_name == "vae":
        encoder, decoder = _torch_vae_networks(zoo)
        modules = [encoder, decoder]
        params = [*encoder.parameters(), *decoder.parameters()]
        update = _torch_optim_update(params, FLAGS.vae_learning_rate)
        step = _torch_vae_step(encoder, decoder, update, zoo)
    else:
        generator, critic = _torch_wgan_networks(zoo)
        modules = [generator, critic]
        g_params, c_params = list(generator.parameters()), list(critic.parameters())
        params = g_params + c_params
        g_update = _torch_optim_update(g_params, **_wgan_adam())
        c_update = _torch_optim_update(c_params, **_wgan_adam())
        step = _torch_wgan_step(generator, critic, g_update, c_update, zoo)
    for module in modules:
        module.train()
    _check_torch_shapes(model_name, zoo, modules, nchw[0])
    return _torch_runner(step, nchw), sum(p.numel() for p in params)


def _check_torch_shapes(model_name, zoo, modules, x):
    """The modules give the shapes the Keras networks give (NCHW for NHWC)."""
    import torch

    height, width, channels = zoo.image_shape
    image = (x.shape[0], channels, height, width)
    with torch.no_grad():
        if model_name == "vae":
            encoder, decoder = modules
            stats = encoder(torch.from_numpy(x))
            assert tuple(stats.shape) == (x.shape[0], 2 * zoo.latent_dim), stats.shape
            logits = decoder(stats[:, : zoo.latent_dim])
            assert tuple(logits.shape) == image, logits.shape
        else:
            generator, critic = modules
            fake = generator(torch.zeros(x.shape[0], zoo.latent_dim))
            assert tuple(fake.shape) == image, fake.shape
            assert tuple(critic(fake).shape) == (x.shape[0], 1)


def _torch_keras_layers(model_name, zoo, batches):
    """The same torch loop over the zoo's Keras networks (NHWC), with the Adam
    `fit` uses.

    Not a baseline one would write, a diagnostic: plain torch → this loop is
    the cost of Keras's layers (and of Adam's Keras bookkeeping) on torch; this
    loop → `fit` is the cost of the trainer itself.
    """
    import torch

    torch.manual_seed(FLAGS.seed)

    def training(network):
        return lambda t: network(t, training=True)

    if model_name == "vae":
        variables = zoo.encoder.trainable_variables + zoo.decoder.trainable_variables
        update = _keras_optimizer_update(variables, FLAGS.vae_learning_rate)
        step = _torch_vae_step(
            training(zoo.encoder), training(zoo.decoder), update, zoo
        )
    else:
        g_vars, c_vars = (
            zoo.generator.trainable_variables,
            zoo.critic.trainable_variables,
        )
        variables = g_vars + c_vars
        g_update = _keras_optimizer_update(g_vars, **_wgan_adam())
        c_update = _keras_optimizer_update(c_vars, **_wgan_adam())
        step = _torch_wgan_step(
            training(zoo.generator), training(zoo.critic), g_update, c_update, zoo
        )
    return _torch_runner(step, batches), _num_params(variables)


# -- the worker: one backend ----------------------------------------------------------


def _hand_written(backend, model_name, batches, jit_compile):
    """Returns `{name: (run, num_params)}` of the hand-written loops."""
    zoo = _build_zoo_model(model_name)  # a fresh one: its networks, not its state
    if backend == "tensorflow":
        builder = _tf_vae if model_name == "vae" else _tf_wgan
        return {"hand_written": builder(zoo, batches, jit_compile)}
    if backend == "jax":
        builder = _jax_vae if model_name == "vae" else _jax_wgan
        return {"hand_written": builder(zoo, batches)}
    loops = {"hand_written": _torch_plain(model_name, zoo, batches)}
    if FLAGS.torch_keras_layers:
        loops["hand_written_keras_layers"] = _torch_keras_layers(
            model_name, zoo, batches
        )
    return loops


def _benchmark(backend, model_name):
    import keras

    batch_size, steps = FLAGS.batch_size, _steps(model_name)
    num_batches = max(steps, FLAGS.warmup_steps)
    rng = np.random.default_rng(FLAGS.seed)
    images = rng.random((num_batches * batch_size, *_image_shape()), np.float32)
    batches = [
        images[i * batch_size : (i + 1) * batch_size] for i in range(num_batches)
    ]

    keras.utils.set_random_seed(FLAGS.seed)
    zoo = _build_zoo_model(model_name)
    runners = {"fit": _fit_runner(zoo, images, batch_size)}
    params = {"fit": _num_params(zoo.trainable_variables)}
    for name, (run, count) in _hand_written(
        backend, model_name, batches, zoo.jit_compile
    ).items():
        runners[name] = run
        params[name] = count
    for name, count in params.items():
        if count != params["fit"]:
            raise AssertionError(
                f"{model_name}: {name} has {count} trainable parameters, the zoo "
                f"model {params['fit']}; the architectures differ."
            )

    # Both sides of a comparison share the process, so its thread counts.
    threads = backend_workers.torch_threads()
    seconds = _measure(runners, steps, FLAGS.warmup_steps, FLAGS.repeats)
    threads_after = backend_workers.torch_threads()
    if threads_after != threads:
        raise AssertionError(f"torch threads changed: {threads} -> {threads_after}")

    num_images = batch_size * steps
    throughput = {
        name: num_images / statistics.median(values["steps"])
        for name, values in seconds.items()
    }
    result = {
        "model": model_name,
        "backend": backend,
        "batch_size": batch_size,
        "steps": steps,
        "warmup_steps": FLAGS.warmup_steps,
        "jit_compile": bool(zoo.jit_compile),
        "jit_compile_flag": FLAGS.jit_compile,
        "trainable_params": params,
        "seconds": seconds,
        "images_per_second": throughput,
        # What a short `fit` call delivers, its fixed cost per call included.
        "fit_call_images_per_second": num_images
        / statistics.median(seconds["fit"]["call"]),
        # fit / each hand-written loop, e.g. ratios["hand_written"].
        "ratios": {
            name: _paired_ratio(seconds, name) for name in seconds if name != "fit"
        },
    }
    if threads is not None:
        result["torch_threads"] = threads
    # The C allocator's settings change eager torch speed (see the README).
    allocator = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("MALLOC_") or k == "LD_PRELOAD"
    }
    if allocator:
        result["allocator_environment"] = allocator
    logging.info(
        "%s on %s: fit %.0f img/s, hand-written %.0f img/s",
        model_name,
        backend,
        throughput["fit"],
        throughput["hand_written"],
    )
    return result


def _worker_result(backend):
    results = [_benchmark(backend, name) for name in FLAGS.models]
    return {"backend": backend, "results": results}


# -- the parent: one subprocess per backend, one table --------------------------------


def _table(results):
    header = (
        "model",
        "backend",
        "keras-latent fit (img/s)",
        "hand-written (img/s)",
        "ratio",
    )
    rows = []
    for result in results:
        speed = result["images_per_second"]
        backend = result["backend"]
        if result.get("jit_compile_flag", "auto") != "auto":
            backend += f", fit jit_compile={result['jit_compile_flag']}"
        baselines = [("hand_written", backend)]
        if "hand_written_keras_layers" in speed:
            baselines.append(
                ("hand_written_keras_layers", f"{backend} (Keras layers + Adam)")
            )
        for key, label in baselines:
            rows.append(
                (
                    result["model"],
                    label,
                    f"{speed['fit']:,.0f}",
                    f"{speed[key]:,.0f}",
                    f"{result['ratios'][key]:.2f}",
                )
            )
    return backend_workers.markdown_table(header, rows, text_columns=2)


def _report(per_backend):
    """Prints the table and the settings; returns its rows for --output."""
    results = [row for worker in per_backend for row in worker["results"]]
    print(_table(results))
    print(
        f"\nbatch {FLAGS.batch_size}; median of {FLAGS.repeats} repeats after "
        f"{FLAGS.warmup_steps} warm-up steps (images/s: median time); ratio = "
        "median over repeats of fit / hand-written speed in the same repeat. fit is "
        "timed from its first step to the end of its epoch (its fixed cost per "
        "call is in the JSON's fit_call_images_per_second)."
    )
    if FLAGS.jit_compile != "auto":
        for result in results:
            print(
                f"{result['model']} on {result['backend']}: fit's warm-up call "
                f"({FLAGS.warmup_steps} steps, compilation included) took "
                f"{result['seconds']['fit']['warmup']:.1f} s."
            )
    return results


def main(argv):
    backend_workers.check_no_arguments(argv)
    unknown = set(FLAGS.models) - set(MODELS)
    if unknown:
        raise app.UsageError(f"Unknown --models {sorted(unknown)}; use {MODELS}.")
    if FLAGS.warmup_steps < 1 or FLAGS.repeats < 1:
        raise app.UsageError("--warmup_steps and --repeats must be at least 1.")
    backend_workers.run(__file__, _FORWARDED, _worker_result, _report)


if __name__ == "__main__":
    app.run(main)
