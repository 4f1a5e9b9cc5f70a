"""PyTorch phase trainer (eager, like Keras's own torch trainer)."""

import weakref

import torch
import torch.distributed as dist

# Models whose variables were broadcast from rank 0 (data-parallel training).
_SYNCED = weakref.WeakSet()


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


def train_step(model, data):
    _broadcast_variables_once(model)
    for phase in model.phases:
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            loss, logs = phase.compute(data, training=True)
            grads = _gradients(loss, variables)
            with torch.no_grad():
                optimizer.apply(grads, variables)
            loss, logs = _averaged_logs(loss.detach(), _detach(logs))
            model.update_phase_trackers(phase, loss, logs)
    return model.get_metrics_result()


def test_step(model, data):
    with torch.no_grad():
        for phase in model.phases:
            loss, logs = _averaged_logs(*phase.compute(data, training=False))
            model.update_phase_trackers(phase, loss, logs)
    return model.get_metrics_result()


def _detach(logs):
    return {k: v.detach() if torch.is_tensor(v) else v for k, v in logs.items()}


def input_gradients(fn, x):
    # A penalty is also reported by evaluate(), which runs under no_grad; only
    # a caller that differentiates further needs the gradient's own graph.
    create_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        x = torch.as_tensor(x)
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        y = fn(x)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=create_graph)
    return y, grad
