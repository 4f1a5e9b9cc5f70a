"""PyTorch phase trainer (eager, like Keras's own torch trainer)."""

import weakref

import keras
import torch
import torch.distributed as dist

from keras_latent.trainer import nonfinite
from keras_latent.utils import keras_internals

# `torch.compile` of the phases is not supported: the penalties' double
# backward breaks its graphs, and Inductor (torch 2.13) crashes compiling a
# WGAN-GP step. `MultiPlayerModel` turns `jit_compile=True` off with Keras's
# warning.
SUPPORTS_JIT_COMPILE = False

# Models whose variables were broadcast from rank 0 (data-parallel training).
_SYNCED = weakref.WeakSet()

# Per optimizer, one reusable buffer per variable for the in-place Adam update.
_ADAM_SCRATCH = weakref.WeakKeyDictionary()


def _world_size():
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def _gradients(loss, variables):
    # autograd.grad rather than backward(): it computes only this player's
    # gradients and never accumulates into other players' `.grad`.
    values = [v.value for v in variables]
    if not values:  # a frozen player: its phase still reports its loss
        return []
    grads = torch.autograd.grad(loss, values, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, values)]
    return _averaged_across_processes(grads)


def _averaged_across_processes(grads):
    """The mean of every process's gradients, when torch.distributed runs.

    Keras has no torch distribution and `fit` never calls a
    `DistributedDataParallel` wrapper (whose hooks also only serve
    `backward()`, not `autograd.grad`), so each phase all-reduces its own
    gradients, in one flat buffer as DDP's buckets do. Each process's loss
    is a mean over its equal share of the global batch, so the mean of the
    gradients is the gradient of the global batch's mean.
    """
    world = _world_size()
    if world == 1:
        return grads
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world
    return [
        chunk.view_as(g)
        for chunk, g in zip(flat.split([g.numel() for g in grads]), grads)
    ]


def _averaged_logs(loss, logs):
    """`(loss, logs)` averaged over the processes when torch.distributed runs.

    Each process computes them on its own share of the batch; their mean is
    what one process would see on the global batch, so every process's
    trackers (and `fit`'s History) hold the same global figures.
    """
    if _world_size() == 1:
        return loss, logs
    names = list(logs)
    values = torch.stack(
        [loss.reshape(())] + [torch.as_tensor(logs[n]).reshape(()) for n in names]
    ).to(torch.float32)
    dist.all_reduce(values)
    values /= _world_size()
    return values[0], dict(zip(names, values[1:]))


def _broadcast_variables_once(model):
    # Processes must start from the same weights (DDP broadcasts them when it
    # wraps a module); rank 0's win, BatchNorm statistics included.
    if _world_size() == 1 or model in _SYNCED:
        return
    with torch.no_grad():
        for variable in model.trainable_variables + model.non_trainable_variables:
            dist.broadcast(variable.value, src=0)
    _SYNCED.add(model)


def apply_gradients(optimizer, grads, variables) -> bool:
    """Applies `grads` like `optimizer.apply`; returns True if it bypassed it.

    Keras's torch Adam (3.15) builds its update from five out-of-place
    `torch._foreach_*` results, each a fresh copy of every parameter. On CPU,
    glibc hands such large blocks back to the kernel when they are freed, so
    every step page-faults them in again: Keras's Adam costs 7.6–10 ms per
    step on a 1.1M-parameter MLP where the in-place `adam_update` costs
    3.3–3.6 ms and `torch.optim.Adam` 3.0–3.6 ms (`python
    benchmarks/torch_adam_speed.py`; the README's Benchmarks). For Keras's
    Adam with nothing around the update (no clipping, weight decay, EMA, loss
    scaling, gradient accumulation or constraints) this runs `adam_update`
    directly; everything else goes through `optimizer.apply`, where
    `keras_latent.optimizers.Adam` runs `adam_update` itself.
    """
    with torch.no_grad():
        if _keras_adam_without_extras(optimizer, variables) and adam_update(
            optimizer, grads, variables, optimizer.learning_rate
        ):
            optimizer.iterations.assign_add(1)
            return True
        optimizer.apply(grads, variables)
        return False


def _keras_adam_without_extras(optimizer, variables) -> bool:
    # Keras's torch Adam exactly (not a subclass that may change the update).
    return (
        keras_internals.is_keras_torch_adam(optimizer)
        and optimizer.built
        and optimizer.clipnorm is None
        and optimizer.clipvalue is None
        and optimizer.global_clipnorm is None
        and not optimizer.weight_decay
        and not optimizer.use_ema
        and optimizer.loss_scale_factor is None
        and not optimizer.gradient_accumulation_steps
        and all(
            v.constraint is None and not v.overwrite_with_gradient for v in variables
        )
    )


@torch.no_grad()
def adam_update(optimizer, grads, variables, learning_rate) -> bool:
    """Keras's Adam update of `variables`, in place; False if it cannot.

    The update step alone, as `Adam.update_step` computes it for every
    variable (AMSGrad included); it does not advance `optimizer.iterations`.
    It reads the private slots Keras's own torch Adam reads, so a Keras
    release that renames them makes it return False, as do betas that are not
    numbers and variables of several dtypes or devices.
    """
    values = [v.value for v in variables]
    if not _adam_update_applies(optimizer, values):
        return False
    momentums, velocities, velocity_hats = keras_internals.adam_slots(
        optimizer, variables
    )
    scratch = _scratch_buffers(optimizer, values)
    grads = [torch.as_tensor(g).to(values[0].dtype) for g in grads]

    # The step size stays a tensor: no host sync on an accelerator.
    dtype, device = values[0].dtype, values[0].device
    # With gradient accumulation, `iterations` is a tensor (updates so far).
    iterations = optimizer.iterations
    if isinstance(iterations, keras.Variable):
        iterations = iterations.value
    step = torch.as_tensor(iterations, device=device).to(dtype) + 1
    if isinstance(learning_rate, keras.Variable):
        learning_rate = learning_rate.value
    learning_rate = torch.as_tensor(learning_rate, dtype=dtype, device=device)
    beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
    alpha = (
        learning_rate
        * torch.sqrt(1 - torch.pow(beta_2, step))
        / (1 - torch.pow(beta_1, step))
    )

    # m += (g - m)(1 - β1);  v += (g² - v)(1 - β2)
    torch._foreach_lerp_(momentums, grads, 1 - beta_1)
    torch._foreach_mul_(velocities, beta_2)
    torch._foreach_addcmul_(velocities, grads, grads, value=1 - beta_2)
    if velocity_hats is not None:
        torch._foreach_maximum_(velocity_hats, velocities)
        velocities = velocity_hats
    # var -= α m / (√v + ε), with (√v + ε) / α built in the scratch buffers.
    torch._foreach_copy_(scratch, velocities)
    torch._foreach_sqrt_(scratch)
    torch._foreach_add_(scratch, optimizer.epsilon)
    torch._foreach_div_(scratch, alpha)
    torch._foreach_addcdiv_(values, momentums, scratch, value=-1.0)
    return True


def _adam_update_applies(optimizer, values) -> bool:
    return (
        bool(values)
        and keras_internals.has_adam_slots(optimizer)
        and all(
            isinstance(value, (int, float))
            for value in (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon)
        )
        and len({(t.dtype, t.device) for t in values}) == 1
        and values[0].dtype.is_floating_point
    )


def _scratch_buffers(optimizer, values):
    shapes = [(t.shape, t.dtype, t.device) for t in values]
    cached = _ADAM_SCRATCH.setdefault(optimizer, {})
    key = tuple(shapes)
    if key not in cached:
        cached[key] = [torch.empty_like(t) for t in values]
    return cached[key]


def _cause(loss, grads, optimizer) -> int:
    """0 when the update may be applied, else `nonfinite.cause_code`'s
    `1 + k` (`k` indexing `nonfinite.CAUSES`), for phase index 0.

    One host sync in the common case: loss, the gradients' global sum and
    the learning rate are added up and tested once (a gradient sum beyond
    float32's range counts as non-finite; Adam's squared moments would
    overflow long before).
    """
    loss = loss.detach().to(torch.float32).reshape(())
    grad_sum = loss.new_zeros(())
    if grads and nonfinite.checks_gradients(optimizer):
        grad_sum = torch.stack([g.sum(dtype=torch.float32) for g in grads]).sum()
    lr = torch.as_tensor(
        keras.ops.convert_to_tensor(optimizer.learning_rate), device=loss.device
    ).to(torch.float32)
    if bool(torch.isfinite(loss + grad_sum + lr)):
        return 0
    flags = (torch.isfinite(loss), torch.isfinite(grad_sum), torch.isfinite(lr))
    return next(k for k, ok in enumerate(flags) if not bool(ok)) + 1


def apply_if_finite(optimizer, grads, variables, apply_fn):
    """`apply_fn(grads, variables)` unless a gradient or the learning rate
    is not finite; returns the update's `nonfinite.cause_code` (phase 0).

    What a one-optimizer model's optimizer runs inside Keras's own
    `train_step` (see `keras_latent.optimizers`).
    """
    present = [g for g in grads if g is not None]
    zero = torch.zeros((), device=present[0].device if present else None)
    code = _cause(zero, present, optimizer)
    if code == 0:
        apply_fn(grads, variables)
    return torch.tensor(float(code))


def train_step(model, data):
    _broadcast_variables_once(model)
    losses, cause = [], 0
    for index, phase in enumerate(model.phases):
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            loss, logs = phase.compute(data, training=True)
            # `scale_loss`: a LossScaleOptimizer's (mixed_float16) or a
            # `loss_scale_factor`'s scale, which `apply` divides out.
            grads = _gradients(optimizer.scale_loss(loss), variables)
            code = _cause(loss, grads, optimizer)
            if code == 0:
                apply_gradients(optimizer, grads, variables)
            elif not cause:
                cause = code + 3 * index
            loss, logs = _averaged_logs(loss.detach(), _detach(logs))
            model.update_phase_trackers(phase, loss, logs, code == 0)
        losses.append(loss)
    model.end_step(losses, cause)
    return model.step_logs(training=True)


def test_step(model, data):
    with torch.no_grad():
        losses = []
        for phase in model.phases:
            loss, logs = _averaged_logs(*phase.compute(data, training=False))
            model.update_phase_trackers(phase, loss, logs)
            losses.append(loss)
        model.end_step(losses)
    return model.step_logs(training=False)


def sync_state(model):
    """Nothing to do: the torch trainer updates the variables in place."""


def _detach(logs):
    return {k: v.detach() if torch.is_tensor(v) else v for k, v in logs.items()}


def compiled_input_gradients(fn):
    # Eager torch is quick enough here; torch.compile would cost more than a
    # few hundred steps save.
    return lambda x: input_gradients(fn, x, has_aux=True)


def input_gradients(fn, x, has_aux=False):
    # A penalty is also reported by evaluate(), which runs under no_grad; only
    # a caller that differentiates further needs the gradient's own graph.
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        x = torch.as_tensor(x)
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        y, aux = fn(x) if has_aux else (fn(x), None)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=create_graph)
    if has_aux:
        return y, grad, keras.tree.map_structure(_detached, aux)
    return y, grad


def _detached(value):
    return value.detach() if isinstance(value, torch.Tensor) else value
