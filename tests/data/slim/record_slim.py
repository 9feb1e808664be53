#!/usr/bin/env python3
"""Records the TF-Slim-style fixture of `examples/slim.rs` with TensorFlow 2.21 (tf.compat.v1).

A two-layer perceptron built the way TF-Slim builds it: `get_variable("kernel")` and
`get_variable("bias")` under a variable scope whose custom getter renames them to `weights` and
`biases` and whose regularizer is l2(0.01) (tf.contrib.layers' l2_regularizer: 0.01 * sum(w^2)/2,
re-implemented here since contrib left TF in 2.0). Writes, next to this file:

* `model.ckpt.{index,data-00000-of-00001}`: a TF1 checkpoint (tf.train.Saver) of its variables;
* `fixture.json`: the variable names, an input batch, TF's output for it, and the regularization
  losses (names and values) with their sum.

    /path/to/venv/bin/python record_slim.py
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()
HERE = os.path.dirname(os.path.abspath(__file__))
SLIM_NAMES = {"kernel": "weights", "bias": "biases"}


def slim_getter(getter, name, *args, **kwargs):
    head, _, last = name.rpartition("/")
    return getter(head + "/" + SLIM_NAMES.get(last, last), *args, **kwargs)


def l2_regularizer(scale):
    def l2(weights):
        with tf.name_scope(None, "l2_regularizer", [weights]) as name:
            s = tf.convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return tf.multiply(s, tf.nn.l2_loss(weights), name=name)
    return l2


def dense(x, units, scope, activation=None):
    with tf.variable_scope(scope):
        w = tf.get_variable("kernel", [x.shape[-1], units],
                            initializer=tf.random_normal_initializer(stddev=0.5, seed=1))
        b = tf.get_variable("bias", [units], initializer=tf.random_uniform_initializer(
            -0.1, 0.1, seed=2))
        y = tf.matmul(x, w) + b
        return activation(y) if activation else y


def main():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        with tf.variable_scope("mlp", custom_getter=slim_getter,
                               regularizer=l2_regularizer(0.01)):
            h = dense(x, 8, "fc1", tf.nn.relu)
            y = dense(h, 3, "fc2")
        losses = tf.losses.get_regularization_losses()
        total = tf.losses.get_regularization_loss()
        saver = tf.train.Saver()
        batch = np.random.RandomState(0).uniform(-1, 1, (2, 4)).astype(np.float32)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out, loss_vals, total_val = sess.run([y, losses, total], {x: batch})
            saver.save(sess, os.path.join(HERE, "model.ckpt"), write_meta_graph=False,
                       write_state=False)
        fixture = {
            "tensorflow_version": tf.__version__ if hasattr(tf, "__version__") else "2.21.0",
            "variables": [v.op.name for v in tf.global_variables(scope=None)
                          if v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)],
            "input": batch.tolist(),
            "output": out.tolist(),
            "regularization_losses": [
                {"name": t.op.name, "value": float(v)} for t, v in zip(losses, loss_vals)],
            "regularization_loss": float(total_val),
        }
    with open(os.path.join(HERE, "fixture.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(json.dumps(fixture, indent=1))


if __name__ == "__main__":
    main()
