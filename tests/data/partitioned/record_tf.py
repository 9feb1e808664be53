"""Records a TF1 checkpoint of partitioned variables, and what TF reads from it.

    python3 record_tf.py OUT_DIR            # TF 2.21, tf.compat.v1 graph mode

Writes OUT_DIR/model.ckpt.{index,data-*} with tf.train.Saver and OUT_DIR/values.json in the
format of shared/fixtures/partitioned (`graph_variables` in creation order; `checkpoint`: for
every full name, shape, dtype and the flat values `tf.train.load_checkpoint` returns). This one
covers what p6 does not: every dtype the reader supports (float16, float64, int32, bool),
partitioning along the last axis of a rank-3 variable, variable_axis_size_partitioner, a
partitioner inherited through two scopes, and more parts than rows would allow.
"""
import json
import os
import sys

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.RandomState(7)

made = []  # every get_variable result: whole or partitioned

with tf.Graph().as_default():
    get = lambda *a, **k: made.append(tf.get_variable(*a, **k))
    with tf.variable_scope("enc", partitioner=tf.fixed_size_partitioner(3)):
        with tf.variable_scope("inner"):
            get("h16", initializer=tf.constant(rng.randn(7, 3).astype(np.float16)))
        get("d64", initializer=tf.constant(rng.randn(5, 2)))
    with tf.variable_scope("dec"):
        get(
            "cube", initializer=tf.constant(rng.randn(2, 3, 5).astype(np.float32)),
            partitioner=tf.fixed_size_partitioner(2, axis=2))
        get(
            "ids", initializer=tf.constant(rng.randint(-100, 100, size=(9,)).astype(np.int32)),
            partitioner=tf.variable_axis_size_partitioner(12))
        get(
            "mask", initializer=tf.constant(rng.rand(4, 2) > 0.5),
            partitioner=tf.fixed_size_partitioner(8))
        get("plain", initializer=tf.constant(rng.randn(3).astype(np.float32)))
    names = [v.op.name for v in tf.global_variables()]
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False,
                            write_state=False)
        # The values TF restores (its checkpoint reader has no float16 `get_tensor`).
        saver.restore(sess, prefix)
        full = {v.name.split(":")[0] if not hasattr(v, "_get_partitions") else v.name: sess.run(
            tf.convert_to_tensor(v)) for v in made}

checkpoint = {}
for name, shape in sorted(tf.train.list_variables(prefix)):
    value = full[name]
    assert list(value.shape) == list(shape), (name, value.shape, shape)
    checkpoint[name] = {
        "shape": list(shape),
        "dtype": value.dtype.name if value.dtype != np.bool_ else "bool",
        "data": [x.item() for x in value.reshape(-1)],
    }
with open(os.path.join(out, "values.json"), "w") as f:
    json.dump({"graph_variables": names, "checkpoint": checkpoint}, f)
print("wrote", out, len(names), "variables")
