"""`evaluate`: one call from a generator (or preset) to FID, KID, IS and more.

It wires the metrics toolkit (`keras_latent.metrics`) to a model, a
reference split and a judge classifier, streams generation in batches, and
returns every number together with the protocol it was measured under
(docs/models.md, "Metrics and their protocol"): the feature network, the
numbers of real and fake images, the reference split, the resizer, the
judge and the seed. Numbers are comparable only under the same protocol.

What lives where, in the order `evaluate` runs:

- `reference`: the real reference images (`data=`: a named split, a
  `.npy`/`.npz` file or arrays), `DEFAULT_DATA` and `DATA_SPLITS`.
- `judges`: the generator and the judge classifier (`DEFAULT_JUDGES`), and
  the judge's two-headed network (features and probabilities in one pass).
- `attributes`: the attribute protocol: which attribute vectors a
  conditional generator gets, and which judge outputs score them.
- `run`: the argument checks and everything resolved before generating
  (`METRICS`, `DEFAULT_METRICS`, `FEATURE_NETWORKS`).
- `streaming`: judging the real images, and generating and judging the fake
  ones batch by batch.
- `edits`: the edit protocol of attribute editors (`"edits"`): flip rate,
  identity, Creswell's Class0 / Class1 / MSE and time per edit, on edited
  reference images (`EDIT_THRESHOLD`).
- `scores`: FID/KID, IS, diversity (MS-SSIM), attribute accuracy and the
  edits (`IS_SPLITS`, `DIVERSITY_PAIRS`).
- `protocol`: the report's `"protocol"` dict.
- `driver`: `evaluate`, which runs the stages above.
- `table`: `format_table`, a report as a markdown table.
"""

from keras_latent.evaluation.driver import evaluate
from keras_latent.evaluation.edits import EDIT_THRESHOLD
from keras_latent.evaluation.judges import DEFAULT_JUDGES

# Private, re-exported for benchmarks/metrics_speed.py, which times them.
from keras_latent.evaluation.judges import _judge_model as _judge_model
from keras_latent.evaluation.judges import _run_judge as _run_judge
from keras_latent.evaluation.reference import DATA_SPLITS, DEFAULT_DATA
from keras_latent.evaluation.run import DEFAULT_METRICS, FEATURE_NETWORKS, METRICS
from keras_latent.evaluation.scores import DIVERSITY_PAIRS, IS_SPLITS
from keras_latent.evaluation.table import format_table

__all__ = [
    "DATA_SPLITS",
    "DEFAULT_DATA",
    "DEFAULT_JUDGES",
    "DEFAULT_METRICS",
    "DIVERSITY_PAIRS",
    "EDIT_THRESHOLD",
    "FEATURE_NETWORKS",
    "IS_SPLITS",
    "METRICS",
    "evaluate",
    "format_table",
]
