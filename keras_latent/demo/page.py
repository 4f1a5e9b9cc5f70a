"""The attribute page of `keras-latent serve`, built with Gradio.

Gradio is an optional dependency (`pip install "keras-latent[demo]"`),
imported only here, when a page is built. The page wires controls to a
`DemoSession`; what it computes lives there.
"""

from __future__ import annotations

import logging
import os
import re

from keras_latent.demo.session import (
    ANY,
    KEEP,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_UPLOAD_BYTES,
    WITH,
    WITHOUT,
    DemoSession,
    UploadError,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT = 7860


def import_gradio():
    """Gradio, or an ImportError that says how to install it."""
    # Gradio reports usage to its servers unless told not to; a local page
    # has no business calling out.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio
    except ImportError as err:
        raise ImportError(
            '`keras-latent serve` needs Gradio: pip install "keras-latent[demo]"'
        ) from err
    return gradio


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _label(name: str) -> str:
    return name.replace("_", " ")


def _attribute_controls(gr, session: DemoSession, leave: str, prefix: str) -> dict:
    """One radio per attribute (or one for the class), by attribute name."""
    if not session.conditional:
        return {}
    if session.categorical:
        radio = gr.Radio(
            [leave, *session.attribute_names],
            value=leave,
            label="Class",
            elem_id=f"{prefix}-class",
        )
        return {"class": radio}
    controls = {}
    with gr.Row():
        for name in session.attribute_names:
            controls[name] = gr.Radio(
                [leave, WITHOUT, WITH],
                value=leave,
                label=_label(name),
                elem_id=f"{prefix}-{_slug(name)}",
                min_width=160,
            )
    return controls


def _message(text: str) -> str:
    return f"⚠️ {text}" if text else ""


def _generate_tab(gr, session: DemoSession) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            controls = _attribute_controls(gr, session, ANY, "attribute")
            seed = gr.Number(
                value=0,
                precision=0,
                minimum=0,
                maximum=MAX_SEED,
                label="Seed",
                elem_id="seed",
            )
            count = gr.Slider(
                1, MAX_SAMPLES, value=16, step=1, label="Images", elem_id="count"
            )
        with gr.Column(scale=1):
            samples = gr.Image(
                value=session.sample_grid({}, seed=0, count=16),
                type="numpy",
                format="png",
                interactive=False,
                label="Samples",
                elem_id="samples",
            )
            message = gr.Markdown(elem_id="sample-message")
    names = list(controls)

    def answer(*values):
        *choices, seed_value, count_value = values
        try:
            grid = session.sample_grid(
                dict(zip(names, choices)), seed_value, count_value
            )
        except ValueError as err:
            return gr.update(), _message(str(err))
        except Exception as err:  # a page shows a message, never a traceback
            logger.exception("sampling failed")
            return gr.update(), _message(f"Sampling failed: {err}")
        return grid, ""

    inputs = [*controls.values(), seed, count]
    for control in inputs:
        control.change(answer, inputs=inputs, outputs=[samples, message])


def _edit_tab(gr, session: DemoSession) -> None:
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(
                label="Your photo (JPEG or PNG; the centre square is used)",
                type="filepath",
                elem_id="upload",
            )
            controls = _attribute_controls(gr, session, KEEP, "edit")
            method = None
            if session.edit_methods:
                method = gr.Radio(
                    session.edit_methods,
                    value=session.edit_methods[0],
                    label="Method",
                    elem_id="method",
                )
            button = gr.Button("Edit", variant="primary", elem_id="edit-button")
        with gr.Column(scale=1):
            edited = gr.Image(
                type="numpy",
                format="png",
                interactive=False,
                label="Photo · reconstruction · edit",
                elem_id="edited",
            )
            message = gr.Markdown(elem_id="edit-message")
    names = list(controls)

    def answer(path, *values):
        choices = dict(zip(names, values[: len(names)]))
        chosen_method = values[len(names)] if method is not None else None
        if path is None:
            return None, ""
        try:
            grid, text = session.edit_grid(path, choices, chosen_method)
        except UploadError as err:
            return None, _message(str(err))
        except ValueError as err:
            return gr.update(), _message(str(err))
        except Exception as err:  # a page shows a message, never a traceback
            logger.exception("editing failed")
            return gr.update(), _message(f"Editing failed: {err}")
        return grid, text

    inputs = [upload, *controls.values()] + ([method] if method is not None else [])
    for trigger in [upload, *controls.values(), button]:
        event = trigger.click if trigger is button else trigger.change
        event(answer, inputs=inputs, outputs=[edited, message])


def _description(session: DemoSession) -> str:
    what = type(session.model).__name__
    if not session.conditional:
        return f"{what}: samples by seed."
    kind = "one class" if session.categorical else "attributes"
    text = f"{what}: set {kind} and the grid follows."
    if session.can_edit:
        text += " Upload a photo in *Edit a photo* to change it."
    return text


def build_page(session: DemoSession):
    """The Gradio page for `session`'s model (a `gradio.Blocks`).

    Args:
        session: a `DemoSession` holding the loaded model.

    Returns:
        A `gradio.Blocks`, not yet launched.

    Example:

    ```python
    page = build_page(DemoSession(keras_latent.from_preset("mnist_cgan")))
    page.launch()
    ```
    """
    gr = import_gradio()
    with gr.Blocks(title=f"keras-latent · {session.name}") as page:
        gr.Markdown(f"# {session.name}\n{_description(session)}")
        with gr.Tab("Generate"):
            _generate_tab(gr, session)
        if session.can_edit:
            with gr.Tab("Edit a photo", elem_id="edit-tab"):
                _edit_tab(gr, session)
    return page


def launch(page, port: int = DEFAULT_PORT, host: str = "127.0.0.1", block: bool = True):
    """Starts serving `page`; with `block`, until interrupted.

    Args:
        page: from `build_page`.
        port: int. Defaults to `7860`.
        host: str. `"127.0.0.1"` serves this machine only; `"0.0.0.0"` the
            network. Defaults to `"127.0.0.1"`.
        block: bool. Wait until the server stops (Ctrl+C). Defaults to `True`.

    Returns:
        The page's local URL.
    """
    # Gradio refuses bigger uploads itself (with its own message); the
    # session's limit is lower, so a big photo gets the page's message.
    _, url, _ = page.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        show_error=False,
        quiet=True,
        max_file_size=2 * MAX_UPLOAD_BYTES,
    )
    if block:
        page.block_thread()
    return url
