"""Image classifiers: the zoo's independent judges.

An `ImageClassifier` is trained apart from every generator, on the real data
only, and scores generated and edited images: softmax over classes (MNIST,
CIFAR-10) or one sigmoid per attribute (`multi_label=True`, CelebA's 40
attributes). The evaluation protocol (judge accuracy on real data as the
ceiling, feature statistics for FID/KID from its penultimate layer) is in
`docs/models.md`, "Image classifiers" and "Metrics and their protocol".

- `classifier.py`: the `ImageClassifier` model (one optimizer: Keras's stock
  trainer).
"""

from keras_latent.models.classifier.classifier import ImageClassifier

__all__ = ["ImageClassifier"]
