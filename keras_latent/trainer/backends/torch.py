"""PyTorch phase trainer (eager, like Keras's own torch trainer)."""

import torch


def _gradients(loss, variables):
    # autograd.grad rather than backward(): it computes only this player's
    # gradients and never accumulates into other players' `.grad`.
    values = [v.value for v in variables]
    if not values:  # a frozen player: its phase still reports its loss
        return []
    grads = torch.autograd.grad(loss, values, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, values)]


def train_step(model, data):
    for phase in model.phases:
        variables = model.player_variables(phase.player)
        optimizer = model.optimizer[phase.player]
        for _ in range(phase.repeat):
            loss, logs = phase.compute(data, training=True)
            grads = _gradients(loss, variables)
            with torch.no_grad():
                optimizer.apply(grads, variables)
            model.update_phase_trackers(phase, loss.detach(), _detach(logs))
    return model.get_metrics_result()


def test_step(model, data):
    with torch.no_grad():
        for phase in model.phases:
            loss, logs = phase.compute(data, training=False)
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
