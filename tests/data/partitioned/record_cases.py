"""Records conformance cases for partitioned variables from TensorFlow.

    python3 record_cases.py OUT.json      # TF 2.21, tf.compat.v1 graph mode

Each case runs in a fresh graph. Ops (a subset of tests/data/FORMAT.md's, plus partitioners):
  {"op": "variable_scope", "name", "reuse"?, "partitioner"?}   {"op": "exit"}
  {"op": "name_scope", "name"}
  {"op": "get_variable", "name", "shape"?, "dtype"?, "partitioner"?, "api"}
  {"op": "list_global"}
A partitioner is {"fixed_size": [num_shards, axis]}, {"variable_axis_size": [max_shard_bytes,
axis, max_shards or null]} or {"min_max": [max_partitions, axis, min_slice_size]}. `api` says
which typed call a port makes: "partitioned" (TF returns a PartitionedVariable) or "plain".
Expectations: a partitioned record {"name", "parts": [op names], "shapes", "partitions",
"dtype"}, a variable record {"name", "shape", "dtype"}, a list of names, or an error
{"error": CATEGORY, "message_contains": ...} with TF's first line in "message".
"""
import json
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

ERRORS = [
    ("PartitionedExists", r"Partitioned variable with name \S+ already exists"),
    ("PartitionedNotFound", r"PartitionedVariable \S+ does not exist, or was not created with tf.get_variable\(\)"),
    ("PartitionMismatch", r"Trying to reuse partitioned variable \S+, but specified \w+"),
    ("UnpartitionedExists", r"A partitioner was provided, but an unpartitioned version of the variable was found: \S+\."),
    ("PartitionedFound", r"No partitioner was provided, but a partitioned version of the variable was found: \S+\."),
    ("Partition", r"Partitioner returned a different partitioning than what was already found"),
    ("Partition", r"Partitioner returned zero partitions for some axes"),
    ("Partition", r"A partitioned Variable must have rank at least 1"),
    ("AlreadyExists", r"Variable \S+ already exists, disallowed"),
]


def partitioner(spec):
    if spec is None:
        return None
    (kind, args), = spec.items()
    if kind == "fixed_size":
        return tf.fixed_size_partitioner(args[0], axis=args[1])
    if kind == "variable_axis_size":
        return tf.variable_axis_size_partitioner(args[0], axis=args[1], max_shards=args[2])
    if kind == "min_max":
        return tf.min_max_variable_partitioner(args[0], axis=args[1], min_slice_size=args[2])
    raise ValueError(kind)


def reuse(v):
    return {None: None, True: True, False: False, "auto": tf.AUTO_REUSE}[v]


def classify(exc):
    first = str(exc).split("\n")[0]
    for cat, pattern in ERRORS:
        m = re.search(pattern, first)
        if m:
            return {"error": cat, "message_contains": m.group(0), "message": first}
    return {"error": "Other", "message": first}


def run(case):
    with tf.Graph().as_default():
        stack = []
        for op in case["ops"]:
            kind = op["op"]
            try:
                if kind == "variable_scope":
                    cm = tf.variable_scope(op["name"], reuse=reuse(op.get("reuse")),
                                           partitioner=partitioner(op.get("partitioner")))
                    cm.__enter__()
                    stack.append(cm)
                elif kind == "name_scope":
                    cm = tf.name_scope(op["name"])
                    cm.__enter__()
                    stack.append(cm)
                elif kind == "exit":
                    stack.pop().__exit__(None, None, None)
                elif kind == "list_global":
                    op["expect"] = [v.op.name for v in tf.global_variables()]
                elif kind == "get_variable":
                    v = tf.get_variable(op["name"], shape=op.get("shape"),
                                        dtype=getattr(tf, op.get("dtype", "float32")),
                                        partitioner=partitioner(op.get("partitioner")))
                    if hasattr(v, "_get_partitions"):
                        parts = list(v)
                        op["expect"] = {
                            "name": v.name, "parts": [p.op.name for p in parts],
                            "shapes": [p.shape.as_list() for p in parts],
                            "partitions": list(v._get_partitions()),
                            "dtype": v.dtype.base_dtype.name,
                        }
                        assert op["api"] == "partitioned", case["id"]
                    else:
                        op["expect"] = {"name": v.op.name, "shape": v.shape.as_list(),
                                        "dtype": v.dtype.base_dtype.name}
                        assert op["api"] == "plain", case["id"]
            except (ValueError, TypeError) as e:
                op["expect"] = classify(e)
        while stack:
            stack.pop().__exit__(None, None, None)
    return case


F = lambda n, a=0: {"fixed_size": [n, a]}
gv = lambda name, shape=None, api="partitioned", **k: dict(op="get_variable", name=name, shape=shape, api=api, **k)
vs = lambda name, **k: dict(op="variable_scope", name=name, **k)
EXIT = {"op": "exit"}


def LIST():
    return {"op": "list_global"}  # a fresh dict per case: its expectation is written in


CASES = [
    ("fixed_rows", [vs("m"), gv("emb", [10, 4], partitioner=F(3)), LIST()]),
    ("fixed_cols", [vs("m"), gv("w", [4, 7], partitioner=F(2, 1)), LIST()]),
    ("fixed_capped_by_rows", [gv("e", [2, 3], partitioner=F(5))]),
    ("fixed_one_part", [gv("e", [6, 3], partitioner=F(1))]),
    ("fixed_zero_rows", [gv("e", [0, 3], partitioner=F(2))]),
    ("fixed_zero_shards", [gv("e", [4, 3], partitioner=F(0))]),
    ("rank3_last_axis", [gv("c", [2, 3, 5], partitioner=F(2, 2))]),
    ("vector", [gv("b", [7], partitioner=F(3))]),
    ("axis_size_bytes", [gv("t", [30, 4], partitioner={"variable_axis_size": [48, 0, None]})]),
    ("axis_size_capped", [gv("t", [30, 4], partitioner={"variable_axis_size": [48, 0, 4]})]),
    ("axis_size_float64", [gv("t", [9, 3], dtype="float64", partitioner={"variable_axis_size": [50, 0, None]})]),
    ("axis_size_cols", [gv("t", [3, 10], partitioner={"variable_axis_size": [24, 1, None]})]),
    ("min_max_bytes", [gv("t", [30, 4], partitioner={"min_max": [8, 0, 100]})]),
    ("min_max_capped", [gv("t", [30, 4], partitioner={"min_max": [2, 0, 100]})]),
    ("min_max_one", [gv("t", [30, 4], partitioner={"min_max": [8, 0, 1 << 20]})]),
    ("min_max_int64", [gv("t", [16, 2], dtype="int64", partitioner={"min_max": [10, 0, 64]})]),
    ("scope_default", [vs("s", partitioner=F(2)), gv("a", [4, 2]), gv("b", [5]), LIST()]),
    ("scope_default_inherited", [vs("s", partitioner=F(2)), vs("t"), gv("a", [4, 2]), EXIT, EXIT, LIST()]),
    ("scope_default_overridden", [vs("s", partitioner=F(2)), gv("a", [6, 2], partitioner=F(3))]),
    ("scope_default_scalar_plain", [vs("s", partitioner=F(2)), gv("k", [], api="plain"), LIST()]),
    ("name_scope_ignored", [{"op": "name_scope", "name": "ns"}, vs("v"), gv("e", [4, 2], partitioner=F(2)), LIST()]),
    ("reuse_without_partitioner", [vs("m"), gv("e", [6, 2], partitioner=F(3)), EXIT,
                                   vs("m", reuse=True), gv("e"), LIST()]),
    ("reuse_same_partitioner", [vs("m"), gv("e", [6, 2], partitioner=F(3)), EXIT,
                                vs("m", reuse=True), gv("e", [6, 2], partitioner=F(3))]),
    ("reuse_other_partitions", [vs("m"), gv("e", [6, 2], partitioner=F(3)), EXIT,
                                vs("m", reuse=True), gv("e", [6, 2], partitioner=F(2))]),
    ("reuse_other_shape", [vs("m"), gv("e", [6, 2], partitioner=F(3)), EXIT,
                           vs("m", reuse=True), gv("e", [7, 2], partitioner=F(3))]),
    ("reuse_other_dtype", [vs("m"), gv("e", [6, 2], partitioner=F(3)), EXIT,
                           vs("m", reuse=True), gv("e", [6, 2], dtype="float64", partitioner=F(3))]),
    ("create_twice", [vs("m"), gv("e", [6, 2], partitioner=F(3)), gv("e", [6, 2], partitioner=F(3))]),
    ("reuse_missing", [vs("m", reuse=True), gv("e", [6, 2], partitioner=F(3))]),
    ("reuse_missing_no_partitioner", [vs("m"), EXIT, vs("m", reuse=True), gv("e", [6, 2], partitioner=F(2))]),
    ("auto_reuse_creates_then_shares", [vs("m", reuse="auto"), gv("e", [6, 2], partitioner=F(3)),
                                        gv("e", [6, 2], partitioner=F(3)), LIST()]),
    ("auto_reuse_other_partitions", [vs("m", reuse="auto"), gv("e", [6, 2], partitioner=F(3)),
                                     gv("e", [6, 2], partitioner=F(2))]),
    ("unpartitioned_exists", [gv("e", [6, 2], api="plain"), gv("e", [6, 2], partitioner=F(2))]),
    ("partitioned_exists_plain", [gv("e", [6, 2], partitioner=F(2)), gv("e", [6, 2], api="plain")]),
    ("part0_made_by_hand", [gv("e/part_0", [3, 2], api="plain"), gv("e", [6, 2], partitioner=F(2))]),
    ("parts_made_by_hand_extra", [gv("e/part_0", [3, 2], api="plain"), gv("e/part_1", [3, 2], api="plain"),
                                  gv("e/part_2", [3, 2], api="plain"), gv("e", [6, 2], partitioner=F(2))]),
    ("parts_made_by_hand_adopted", [vs("m", reuse="auto"), gv("e/part_0", [3, 2], api="plain"),
                                    gv("e/part_1", [3, 2], api="plain"), gv("e", [6, 2], partitioner=F(2)), LIST()]),
    ("part_name_taken_no_reuse", [gv("e/part_0", [3, 2], api="plain"), gv("e/part_1", [3, 2], api="plain"),
                                  gv("e", [6, 2], partitioner=F(2))]),
    ("two_partitioned_and_plain_order", [vs("m"), gv("a", [3, 1], partitioner=F(3)), gv("p", [2], api="plain"),
                                         gv("b", [2, 2], partitioner=F(2)), LIST()]),
    ("scalar_partitioner_plain", [gv("s", [], api="plain", partitioner=F(2)), LIST()]),
    ("int32_parts", [gv("i", [5, 2], dtype="int32", partitioner=F(2))]),
]

import copy  # noqa: E402

cases = [run({"id": "partitioned_" + cid, "area": "partitioned", "source": "probe", "ops": copy.deepcopy(ops)})
         for cid, ops in CASES]
with open(sys.argv[1], "w") as f:
    json.dump({"format": "tf1-naming-conformance/1+partitioned", "tensorflow_version": tf.__version__,
               "cases": cases}, f, indent=1)
print(len(cases), "cases")
