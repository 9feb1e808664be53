#!/usr/bin/env python3
"""Drafts of the getter/regularizer/constraint/collection/template cases.

Writes a draft corpus (ops without expectations); `replay_tf.py --record DRAFT OUT` fills
every expectation from TensorFlow 2.21 (tf.compat.v1, graph mode). The recorded file is
`scope_cases_getters.json`; FORMAT.md documents the ops.

    python3 gen_getter_cases.py draft.json
    venv/bin/python replay_tf.py --record draft.json scope_cases_getters.json
"""
import json
import sys

CASES = []


def case(cid, area, ops, note=None):
    c = {"id": "getters_" + cid, "area": area, "source": "probe", "ops": ops}
    if note:
        c["note"] = note
    CASES.append(c)


def vs(name, **kw):
    return dict(op="variable_scope", name=name, **kw)


def gv(name, shape=(2,), **kw):
    d = dict(op="get_variable", name=name, shape=list(shape), **kw)
    if "value" in (kw.get("initializer") or {}):
        del d["shape"]  # a value initializer gives the shape
    return d


def const(x):
    return {"constant": x}


EXIT = {"op": "exit"}
RENAME = {"rename": {"kernel": "weights", "bias": "biases"}}

# ----- custom getters ------------------------------------------------------------------
case("rename_slim", "custom_getter", [
    vs("fc1", custom_getter=RENAME), gv("kernel", (3, 2)), gv("bias", (2,)), gv("other"), EXIT,
    {"op": "list_global"}])
case("rename_root", "custom_getter", [
    gv("kernel", custom_getter={"rename": {"kernel": "weights"}}), {"op": "list_global"}])
case("rename_inherited_by_subscope", "custom_getter", [
    vs("net", custom_getter=RENAME), vs("fc"), gv("kernel"), EXIT, vs("fc2"), gv("bias"), EXIT,
    EXIT, gv("kernel"), {"op": "list_global"}])
case("nesting_order_two", "custom_getter", [
    vs("a", custom_getter={"suffix": "_outer"}), vs("b", custom_getter={"suffix": "_inner"}),
    gv("w"), EXIT, gv("v"), EXIT])
case("nesting_order_three", "custom_getter", [
    vs("a", custom_getter={"suffix": "_1st"}), vs("b", custom_getter={"suffix": "_2nd"}),
    vs("c", custom_getter={"suffix": "_3rd"}), gv("w"), EXIT, gv("x"), EXIT, gv("y")])
case("nesting_prefix_then_rename", "custom_getter", [
    vs("a", custom_getter={"prefix": "p/"}), vs("b", custom_getter=RENAME), gv("kernel")])
case("nesting_rename_then_prefix", "custom_getter", [
    vs("a", custom_getter=RENAME), vs("b", custom_getter={"prefix": "p/"}), gv("kernel")])
case("call_getter_replaces_scope_getter", "custom_getter", [
    vs("s", custom_getter={"suffix": "_scope"}), gv("w", custom_getter={"suffix": "_call"}),
    gv("v")])
case("call_getter_no_scope_getter", "custom_getter", [
    vs("s"), gv("w", custom_getter={"prefix": "elsewhere/"})])
case("return_existing", "custom_getter", [
    gv("shared", id="s"), vs("s2", custom_getter={"return_existing": "s"}), gv("anything"),
    gv("other"), EXIT, {"op": "list_global"}])
case("return_existing_skips_outer", "custom_getter", [
    gv("base", id="b"), vs("o", custom_getter={"suffix": "_x"}),
    vs("i", custom_getter={"return_existing": "b"}), gv("w"), EXIT, gv("w"), EXIT,
    {"op": "list_global"}])
case("outer_return_existing_after_inner_rename", "custom_getter", [
    gv("base", id="b"), vs("o", custom_getter={"return_existing": "b"}),
    vs("i", custom_getter=RENAME), gv("kernel"), EXIT, EXIT, {"op": "list_global"}])
case("rename_then_reuse", "custom_getter", [
    vs("fc", custom_getter=RENAME, capture="fc"), gv("kernel", id="k"),
    {"op": "reuse_variables"}, gv("kernel"), EXIT,
    {"op": "variable_scope_reenter", "ref": "fc", "reuse": True}, gv("kernel"), EXIT])
case("reenter_keeps_getter", "custom_getter", [
    vs("fc", custom_getter={"suffix": "_g"}, capture="fc"), gv("w"), EXIT,
    {"op": "variable_scope_reenter", "ref": "fc"}, gv("v"), EXIT])
case("reenter_with_getter_wraps", "custom_getter", [
    vs("fc", custom_getter={"suffix": "_old"}, capture="fc"), EXIT,
    {"op": "variable_scope_reenter", "ref": "fc", "custom_getter": {"suffix": "_new"}},
    gv("w"), EXIT])
case("rename_already_exists", "custom_getter", [
    vs("fc"), gv("weights"), EXIT, vs("fc", custom_getter=RENAME), gv("kernel"), EXIT,
    {"op": "list_global"}])
case("rename_not_found", "custom_getter", [
    vs("fc", custom_getter=RENAME, reuse=True), gv("kernel"), EXIT, {"op": "list_global"}])
case("rename_auto_reuse", "custom_getter", [
    vs("fc", custom_getter=RENAME, reuse="auto"), gv("kernel", id="a"), gv("kernel"), EXIT])
case("untrainable_getter", "custom_getter", [
    vs("s", custom_getter={"untrainable": True}), gv("w"), EXIT, gv("v"),
    {"op": "list_trainable"}, {"op": "list_global"}])
case("getter_under_name_scope", "custom_getter", [
    vs("s", custom_getter=RENAME), {"op": "name_scope", "name": "ns"}, gv("kernel"), EXIT,
    EXIT])
case("getter_ignores_tf_variable", "custom_getter", [
    vs("s", custom_getter=RENAME), {"op": "variable", "name": "kernel", "init": 1.0}, EXIT])
case("getter_default_name_scope", "custom_getter", [
    {"op": "variable_scope", "name": None, "default_name": "layer", "custom_getter": RENAME},
    gv("kernel"), EXIT,
    {"op": "variable_scope", "name": None, "default_name": "layer", "custom_getter": RENAME},
    gv("kernel"), EXIT])
case("getter_value_initializer", "custom_getter", [
    vs("s", custom_getter=RENAME),
    {"op": "get_variable", "name": "kernel", "initializer": {"value": [1.0, 2.0]}}, EXIT])
case("getter_shape_mismatch_on_reuse", "custom_getter", [
    vs("s", custom_getter=RENAME), gv("kernel", (2,)), {"op": "reuse_variables"},
    gv("kernel", (3,)), EXIT])
case("getter_prefix_absolute", "custom_getter", [
    vs("deep"), vs("er", custom_getter={"prefix": "top/"}), gv("w"), EXIT, EXIT,
    {"op": "list_global"}])

# ----- regularizers ----------------------------------------------------------------------
case("l2_scope_default", "regularizer", [
    vs("fc", regularizer={"l2": 0.1}), gv("w", (2, 2), initializer=const(1.5)),
    gv("b", (2,), initializer=const(-2.0)), EXIT,
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("l1_per_variable", "regularizer", [
    gv("w", (3,), initializer={"value": [1.0, -2.0, 3.0]}, regularizer={"l1": 0.25}),
    gv("v", (3,), initializer=const(1.0)),
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("l1_l2", "regularizer", [
    vs("a"), gv("w", (2,), initializer={"value": [3.0, -4.0]}, regularizer={"l1_l2": [0.5, 0.1]}),
    EXIT, {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("l1_l2_one_zero", "regularizer", [
    gv("w", (2,), initializer=const(2.0), regularizer={"l1_l2": [0.0, 0.2]}),
    gv("v", (2,), initializer=const(2.0), regularizer={"l1_l2": [0.3, 0.0]}),
    {"op": "regularization_losses"}])
case("zero_scale_no_loss", "regularizer", [
    vs("s", regularizer={"l2": 0.0}), gv("w", initializer=const(1.0)), EXIT,
    gv("v", initializer=const(1.0), regularizer={"l1": 0.0}),
    gv("u", initializer=const(1.0), regularizer={"l1_l2": [0.0, 0.0]}),
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("per_variable_overrides_scope", "regularizer", [
    vs("s", regularizer={"l2": 0.5}), gv("w", initializer=const(2.0), regularizer={"l1": 0.1}),
    gv("v", initializer=const(2.0)), EXIT, {"op": "regularization_losses"}])
case("inherited_by_subscope", "regularizer", [
    vs("outer", regularizer={"l1": 0.01}), vs("inner"), gv("w", initializer=const(3.0)),
    EXIT, vs("other", regularizer={"l2": 1.0}), gv("w", initializer=const(3.0)), EXIT, EXIT,
    gv("root", initializer=const(3.0)), {"op": "regularization_losses"}])
case("reuse_adds_no_loss", "regularizer", [
    vs("s", regularizer={"l2": 0.1}, capture="s"), gv("w", initializer=const(1.0)), EXIT,
    {"op": "variable_scope_reenter", "ref": "s", "reuse": True}, gv("w"), EXIT,
    vs("s", reuse="auto"), gv("w"), EXIT,
    {"op": "regularization_losses"}])
case("reenter_keeps_regularizer", "regularizer", [
    vs("s", regularizer={"l2": 0.1}, capture="s"), EXIT,
    {"op": "variable_scope_reenter", "ref": "s"}, gv("w", initializer=const(1.0)), EXIT,
    {"op": "variable_scope_reenter", "ref": "s", "regularizer": {"l1": 0.2}},
    gv("v", initializer=const(1.0)), EXIT,
    {"op": "regularization_losses"}])
case("losses_scope_filter", "regularizer", [
    vs("a", regularizer={"l2": 0.1}), gv("w", initializer=const(1.0)), EXIT,
    vs("a_1", regularizer={"l2": 0.1}), gv("w", initializer=const(2.0)), EXIT,
    vs("b", regularizer={"l2": 0.1}), gv("w", initializer=const(3.0)), EXIT,
    {"op": "regularization_losses", "scope": "a"},
    {"op": "regularization_losses", "scope": "a/"},
    {"op": "regularization_losses", "scope": "b"},
    {"op": "regularization_loss", "scope": "a"},
    {"op": "regularization_loss", "scope": "b"},
    {"op": "regularization_loss", "scope": "zzz"}])
case("int_variable", "regularizer", [
    vs("s", regularizer={"l2": 0.1}),
    gv("i", dtype="int32", initializer=const(1)), EXIT])
case("int_variable_zero_scale", "regularizer", [
    gv("i", dtype="int32", initializer=const(1), regularizer={"l2": 0.0}),
    {"op": "regularization_losses"}])
case("negative_scale", "regularizer", [
    vs("s", regularizer={"l2": -0.1}), {"op": "get_variable_scope"}])
case("negative_scale_variable", "regularizer", [
    gv("w", initializer=const(1.0), regularizer={"l1": -1.0}), {"op": "list_global"}])
case("no_losses_total_zero", "regularizer", [
    gv("w", initializer=const(1.0)), {"op": "regularization_losses"},
    {"op": "regularization_loss"}])
case("with_rename_getter", "regularizer", [
    vs("fc", regularizer={"l2": 0.5}, custom_getter=RENAME),
    gv("kernel", initializer=const(1.0)), EXIT, {"op": "regularization_losses"}])
case("with_return_existing_getter", "regularizer", [
    gv("base", id="b", initializer=const(1.0)),
    vs("s", regularizer={"l2": 0.5}, custom_getter={"return_existing": "b"}),
    gv("w", initializer=const(1.0)), EXIT, {"op": "regularization_losses"}])
case("root_name_consumed", "regularizer", [
    vs("s", regularizer={"l2": 0.1}), gv("w", initializer=const(1.0)),
    gv("v", initializer=const(1.0)), EXIT,
    {"op": "variable", "name": "l2_regularizer", "init": 1.0},
    {"op": "constant", "name": "l2_regularizer"},
    {"op": "variable", "name": "l1_regularizer", "init": 1.0}])
case("deep_names", "regularizer", [
    vs("a"), vs("b", regularizer={"l1": 0.5}), vs("c"),
    gv("w", (2, 3), initializer=const(-1.0)), EXIT, EXIT, EXIT,
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("with_local_collection", "regularizer", [
    gv("w", initializer=const(2.0), regularizer={"l2": 0.25},
       collections=["local_variables"]),
    {"op": "regularization_losses"}, {"op": "list_global"}])
case("float64_variable", "regularizer", [
    gv("w", dtype="float64", initializer=const(0.5), regularizer={"l2": 0.3}),
    {"op": "regularization_losses"}])

# ----- collections -----------------------------------------------------------------------
case("local_variables", "collections", [
    gv("step", (), initializer=const(0.0), trainable=False, collections=["local_variables"]),
    gv("w"), {"op": "list_global"}, {"op": "list_trainable"},
    {"op": "get_collection", "key": "local_variables"},
    {"op": "get_collection", "key": "variables"}])
case("model_and_global", "collections", [
    vs("m"), gv("w", collections=["variables", "model_variables"]), gv("v"), EXIT,
    {"op": "get_collection", "key": "model_variables"}, {"op": "list_global"}])
case("user_collection", "collections", [
    vs("a"), gv("w", collections=["mine"]), gv("x", collections=["mine", "variables"]), EXIT,
    vs("b"), gv("w", collections=["mine"]), EXIT,
    {"op": "get_collection", "key": "mine"},
    {"op": "get_collection", "key": "mine", "scope": "b"},
    {"op": "list_global"}, {"op": "list_trainable"}])
case("moving_average", "collections", [
    gv("w", collections=["variables", "moving_average_variables"]),
    gv("v", trainable=False, collections=["moving_average_variables"]),
    {"op": "get_collection", "key": "moving_average_variables"}, {"op": "list_global"},
    {"op": "list_trainable"}])
case("filter_prefix_not_component", "collections", [
    vs("a"), gv("w"), EXIT, vs("a_1"), gv("w"), EXIT, vs("ab"), gv("w"), EXIT,
    {"op": "get_collection", "key": "variables", "scope": "a"},
    {"op": "get_collection", "key": "variables", "scope": "a/"},
    {"op": "get_collection", "key": "trainable_variables", "scope": "a_"}])
case("filter_regex", "collections", [
    vs("x"), gv("w"), gv("bias"), EXIT, vs("y"), gv("w"), EXIT,
    {"op": "get_collection", "key": "variables", "scope": ".*w"},
    {"op": "get_collection", "key": "variables", "scope": "x/w$"},
    {"op": "get_collection", "key": "variables", "scope": "x/w:0$"},
    {"op": "get_collection", "key": "variables", "scope": "(x|y)/w"},
    {"op": "get_collection", "key": "variables", "scope": "[y]"}])
case("filter_empty_string", "collections", [
    gv("w"), gv("v", collections=["c"]),
    {"op": "get_collection", "key": "variables", "scope": ""},
    {"op": "get_collection", "key": "c", "scope": ""}])
case("unknown_key_empty", "collections", [
    gv("w"), {"op": "get_collection", "key": "nothing_here"}])
case("reuse_does_not_readd", "collections", [
    vs("s", capture="s"), gv("w", collections=["mine", "variables"]), EXIT,
    {"op": "variable_scope_reenter", "ref": "s", "reuse": True},
    gv("w", collections=["mine", "variables"]), EXIT,
    {"op": "get_collection", "key": "mine"}, {"op": "list_global"}])
case("untrainable_local", "collections", [
    gv("w", trainable=False, collections=["local_variables"]),
    gv("v", trainable=True, collections=["local_variables"]),
    {"op": "list_trainable"}, {"op": "list_global"},
    {"op": "get_collection", "key": "local_variables"},
    {"op": "get_collection", "key": "trainable_variables"}])
case("collections_empty_list", "collections", [
    gv("w", collections=[]), gv("v"), {"op": "list_global"}, {"op": "list_trainable"}])
case("collections_with_getter", "collections", [
    vs("s", custom_getter=RENAME), gv("kernel", collections=["variables", "model_variables"]),
    EXIT, {"op": "get_collection", "key": "model_variables"}])
case("collection_order", "collections", [
    gv("c", collections=["o"]), gv("a", collections=["o"]), gv("b", collections=["o"]),
    {"op": "get_collection", "key": "o"}])

# ----- templates -------------------------------------------------------------------------
BODY_W = [gv("w", id=None)]


def body(*ops):
    return [dict(o) for o in ops]


def tcall(ref, *ops):
    out = []
    for o in ops:
        o = dict(o)
        if o.get("id") is None:
            o.pop("id", None)
        out.append(o)
    return {"op": "template_call", "ref": ref, "body": out}


case("template_two_calls", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w", id="a")), tcall("t", gv("w", id="b")), {"op": "list_global"}])
case("template_unique_names", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t1"},
    {"op": "make_template", "name": "tmpl", "capture": "t2"},
    tcall("t1", gv("w")), tcall("t2", gv("w")), tcall("t1", gv("w")), tcall("t2", gv("w")),
    {"op": "list_global"}])
case("template_in_outer_scope", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    vs("outer"), tcall("t", gv("w")), EXIT, vs("other"), tcall("t", gv("w")), EXIT,
    {"op": "list_global"}])
case("template_second_call_get_variable_new", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w")), tcall("t", gv("w"), gv("extra")), {"op": "list_global"}])
case("template_second_call_tf_variable", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w")),
    tcall("t", gv("w"), {"op": "variable", "name": "sneaky", "init": 1.0})])
case("template_second_call_untrainable_ok", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w")),
    tcall("t", gv("w"), {"op": "variable", "name": "count", "init": 0, "trainable": False}),
    {"op": "list_global"}])
case("template_create_scope_now", "template", [
    vs("made_here"),
    {"op": "make_template", "name": "tmpl", "capture": "t", "create_scope_now": True},
    EXIT, vs("called_here"), tcall("t", gv("w")), EXIT, tcall("t", gv("w")),
    {"op": "list_global"}])
case("template_create_scope_now_unique", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t1", "create_scope_now": True},
    {"op": "make_template", "name": "tmpl", "capture": "t2", "create_scope_now": True},
    tcall("t2", gv("w")), tcall("t1", gv("w")), {"op": "list_global"}])
case("template_with_getter", "template", [
    {"op": "make_template", "name": "dense", "capture": "t", "custom_getter": RENAME},
    tcall("t", gv("kernel"), gv("bias")), tcall("t", gv("kernel")), {"op": "list_global"}])
case("template_nested_scope_in_body", "template", [
    {"op": "make_template", "name": "net", "capture": "t"},
    tcall("t", vs("layer"), gv("w"), EXIT, vs("layer"), gv("v"), EXIT),
    tcall("t", vs("layer"), gv("w"), EXIT), {"op": "list_global"}])
case("template_then_same_scope_name", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w")), vs("tmpl"), gv("w"), EXIT, vs(None, default_name="tmpl"), gv("w"),
    EXIT])
case("template_name_after_scope", "template", [
    vs("tmpl"), gv("w"), EXIT,
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w")), {"op": "list_global"}])
case("template_in_name_scope", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    {"op": "name_scope", "name": "ns"}, tcall("t", gv("w"), {"op": "current_name_scope"}),
    EXIT, tcall("t", {"op": "current_name_scope"})])
case("template_with_regularizer_scope", "template", [
    vs("r", regularizer={"l2": 0.5}),
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", gv("w", initializer=const(1.0))), tcall("t", gv("w")), EXIT,
    {"op": "regularization_losses"}])

# ----- constraints -----------------------------------------------------------------------
def step(vars_, opt="sgd", lr=1.0, coef=1.0, steps=1):
    return {"op": "optimizer_step", "optimizer": opt, "lr": lr, "coef": coef,
            "vars": vars_, "steps": steps}


case("non_neg_sgd", "constraint", [
    gv("w", (3,), id="w", initializer={"value": [0.5, 2.0, -1.0]},
       constraint={"non_neg": True}),
    gv("v", (3,), id="v", initializer={"value": [0.5, 2.0, -1.0]}),
    step(["w", "v"])])
case("clip_by_value_sgd", "constraint", [
    gv("w", (2,), id="w", initializer={"value": [0.0, 0.9]},
       constraint={"clip_by_value": [-0.5, 0.5]}),
    step(["w"], lr=0.3, coef=-1.0, steps=2)])
case("clip_by_norm_sgd", "constraint", [
    gv("w", (2,), id="w", initializer={"value": [3.0, 4.0]}, constraint={"clip_by_norm": 2.0}),
    step(["w"], lr=0.5, coef=-1.0)])
case("scope_constraint_inherited", "constraint", [
    vs("s", constraint={"non_neg": True}), vs("t"),
    gv("w", (2,), id="w", initializer={"value": [0.2, 3.0]}), EXIT, EXIT,
    gv("u", (2,), id="u", initializer={"value": [0.2, 3.0]}),
    step(["w", "u"])])
case("variable_constraint_overrides_scope", "constraint", [
    vs("s", constraint={"non_neg": True}),
    gv("w", (2,), id="w", initializer={"value": [0.2, 3.0]},
       constraint={"clip_by_value": [-0.3, 1.0]}), EXIT,
    step(["w"])])
case("adam_non_neg", "constraint", [
    gv("w", (3,), id="w", initializer={"value": [0.001, 1.0, -0.5]},
       constraint={"non_neg": True}),
    step(["w"], opt="adam", lr=0.01, steps=3)])
case("adam_clip_by_norm", "constraint", [
    vs("s", constraint={"clip_by_norm": 1.0}),
    gv("w", (2, 2), id="w", initializer=const(0.6)), EXIT,
    step(["w"], opt="adam", lr=0.1, coef=-1.0, steps=2)])
case("constraint_not_in_var_list_untouched", "constraint", [
    gv("w", (2,), id="w", initializer={"value": [-1.0, 1.0]}, constraint={"non_neg": True}),
    gv("v", (2,), id="v", initializer={"value": [-1.0, 1.0]}),
    step(["v"])])
case("constraint_with_getter_renamed", "constraint", [
    vs("fc", custom_getter=RENAME, constraint={"clip_by_value": [0.0, 1.0]}),
    gv("kernel", (2,), id="k", initializer={"value": [0.5, 0.7]}), EXIT,
    step(["k"], lr=1.0, coef=-1.0)])

case("scope_constraint_direct", "constraint", [
    vs("s", constraint={"non_neg": True}, capture="s"),
    gv("w", (2,), id="w", initializer={"value": [0.2, 3.0]}), EXIT,
    {"op": "variable_scope_reenter", "ref": "s"},
    gv("v", (2,), id="v", initializer={"value": [0.2, 3.0]}), EXIT,
    step(["w", "v"])], note="a scope's constraint is not kept by the scope object")
case("scope_constraint_reenter_given", "constraint", [
    vs("s", capture="s"), EXIT,
    {"op": "variable_scope_reenter", "ref": "s", "constraint": {"clip_by_value": [0.0, 0.5]}},
    gv("w", (2,), id="w", initializer={"value": [0.2, 3.0]}), EXIT,
    step(["w"], lr=0.1)])


# ----- more probes: edges of the above --------------------------------------------------
case("collections_trainable_key_untrainable", "collections", [
    gv("w", trainable=False, collections=["trainable_variables"]),
    gv("v", trainable=False, collections=["variables", "trainable_variables"]),
    {"op": "list_trainable"}, {"op": "list_global"}])
case("template_create_scope_now_name_scopes", "template", [
    {"op": "name_scope", "name": "ns"},
    {"op": "make_template", "name": "tmpl", "capture": "t", "create_scope_now": True},
    EXIT, tcall("t", gv("w"), {"op": "current_name_scope"}, {"op": "get_variable_scope"}),
    tcall("t", {"op": "current_name_scope"}), {"op": "current_name_scope"}])
case("template_in_scope_with_getter", "template", [
    vs("outer", custom_getter={"suffix": "_o"}),
    {"op": "make_template", "name": "tmpl", "capture": "t", "custom_getter": {"suffix": "_t"}},
    tcall("t", gv("w")), EXIT, tcall("t", gv("w")), {"op": "list_global"}])
case("template_body_variable_scope_reuse_state", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", {"op": "get_variable_scope"}, gv("w")),
    tcall("t", {"op": "get_variable_scope"}, gv("w"))])
case("template_first_call_fails_then_retries", "template", [
    vs("s"), gv("w"), EXIT,
    {"op": "make_template", "name": "s", "capture": "t"},
    tcall("t", gv("w")), tcall("t", gv("w")), {"op": "list_global"}])
case("getter_rename_in_auto_reuse_subscope", "custom_getter", [
    vs("net", custom_getter=RENAME), vs("fc", reuse="auto"), gv("kernel", id="a"), EXIT,
    vs("fc", reuse="auto"), gv("kernel"), EXIT, EXIT])
case("getter_untrainable_with_regularizer", "regularizer", [
    vs("s", custom_getter={"untrainable": True}, regularizer={"l1": 0.5}),
    gv("w", initializer=const(-2.0)), EXIT,
    {"op": "regularization_losses"}, {"op": "list_trainable"}])
case("regularizer_names_after_root_names", "regularizer", [
    {"op": "constant", "name": "l2_regularizer"},
    vs("s", regularizer={"l2": 0.1}), gv("w", initializer=const(1.0)), EXIT,
    {"op": "variable", "name": "l2_regularizer", "init": 1.0},
    {"op": "regularization_losses"}])
case("losses_regex_filter", "regularizer", [
    vs("a", regularizer={"l2": 0.1}), gv("w", initializer=const(1.0)),
    gv("b", initializer=const(1.0)), EXIT,
    {"op": "regularization_losses", "scope": ".*/w/"},
    {"op": "regularization_losses", "scope": "a/b/Regularizer/l2_regularizer:0$"},
    {"op": "regularization_losses", "scope": "a/b/Regularizer/l2_regularizer$"}])
case("collections_filter_on_local", "collections", [
    vs("a"), gv("w", collections=["local_variables"]), EXIT,
    vs("b"), gv("w", collections=["local_variables"]), EXIT,
    {"op": "get_collection", "key": "local_variables", "scope": "b"},
    {"op": "get_collection", "key": "local_variables", "scope": "a|b"}])
case("bool_variable_regularizer", "regularizer", [
    gv("flag", dtype="bool", initializer=const(True), regularizer={"l1": 0.5})])
case("l1_l2_int_variable", "regularizer", [
    gv("i", dtype="int64", initializer=const(1), regularizer={"l1_l2": [0.0, 0.25]})])
case("constraint_sgd_two_steps_scope", "constraint", [
    vs("s", constraint={"clip_by_norm": 1.0}),
    gv("w", (3,), id="w", initializer=const(0.5)), EXIT,
    step(["w"], lr=0.2, coef=-1.0, steps=2)])

case("get_collection_regularization_losses_key", "regularizer", [
    vs("a", regularizer={"l2": 0.1}), gv("w", initializer=const(1.0)), EXIT,
    {"op": "get_collection", "key": "regularization_losses"},
    {"op": "get_collection", "key": "regularization_losses", "scope": "a/w"}])
case("float16_variable_l2", "regularizer", [
    gv("w", dtype="float16", initializer=const(0.5), regularizer={"l2": 0.5}),
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])
case("template_calls_template", "template", [
    {"op": "make_template", "name": "inner", "capture": "i"},
    {"op": "make_template", "name": "outer", "capture": "o"},
    tcall("o", gv("w"), tcall("i", gv("v"))), tcall("o", gv("w"), tcall("i", gv("v"))),
    tcall("i", gv("v")), {"op": "list_global"}])
case("template_first_call_in_reuse_scope", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    vs("r", reuse=True), tcall("t", gv("w")), EXIT, tcall("t", gv("w")), {"op": "list_global"}])
case("template_first_call_tf_variable_ok", "template", [
    {"op": "make_template", "name": "tmpl", "capture": "t"},
    tcall("t", {"op": "variable", "name": "v", "init": 1.0}, gv("w")),
    tcall("t", gv("w")), {"op": "list_global"}])
case("getter_scope_in_reuse_parent", "custom_getter", [
    vs("p", capture="p"), gv("weights"), EXIT,
    {"op": "variable_scope_reenter", "ref": "p", "reuse": True},
    vs("c", custom_getter={"prefix": "x"}), EXIT, EXIT,
    vs("p", reuse=True, custom_getter=RENAME), gv("kernel"), gv("bias"), EXIT])
case("getter_reenter_outer_from_inner", "custom_getter", [
    vs("a", custom_getter={"suffix": "_a"}, capture="a"),
    vs("b", custom_getter={"suffix": "_b"}),
    {"op": "variable_scope_reenter", "ref": "a"}, gv("w"), EXIT, gv("v"), EXIT, EXIT])
case("getter_prefix_shape_mismatch", "custom_getter", [
    gv("x/w", (2,)), vs("s", custom_getter={"prefix": "x/"}, reuse="auto"), gv("w", (3,)), EXIT])
case("getter_return_existing_then_regular", "custom_getter", [
    gv("base", id="b"), vs("s", custom_getter={"return_existing": "b"}, capture="s"), EXIT,
    {"op": "variable_scope_reenter", "ref": "s"}, gv("q"), EXIT, vs("s"), gv("q"), EXIT,
    {"op": "list_global"}])
case("constraint_adam_two_vars", "constraint", [
    gv("w", (2,), id="w", initializer={"value": [0.05, 1.0]}, constraint={"non_neg": True}),
    gv("v", (2,), id="v", initializer={"value": [0.05, 1.0]}),
    step(["w", "v"], opt="adam", lr=0.1, steps=2)])
case("collections_dedup_key_twice", "collections", [
    gv("w", collections=["mine", "mine"]), {"op": "get_collection", "key": "mine"}])
case("regularization_losses_order_mixed", "regularizer", [
    gv("z", initializer=const(1.0), regularizer={"l1": 0.1}),
    vs("a", regularizer={"l2": 0.1}), gv("y", initializer=const(1.0)), EXIT,
    gv("x", initializer=const(1.0), regularizer={"l1_l2": [0.1, 0.1]}),
    {"op": "regularization_losses"}, {"op": "regularization_loss"}])

case("losses_after_optimizer_step", "constraint", [
    gv("w", (2,), id="w", initializer={"value": [1.0, -1.0]}, regularizer={"l2": 0.5},
       constraint={"non_neg": True}),
    {"op": "regularization_loss"}, step(["w"], lr=0.25, coef=-1.0),
    {"op": "regularization_losses"}, step(["w"], lr=0.25, coef=-1.0),
    {"op": "regularization_loss"}])
case("losses_of_unlisted_variable", "regularizer", [
    gv("w", initializer=const(2.0), regularizer={"l1": 0.5}, collections=["mine"]),
    {"op": "regularization_losses"}, {"op": "list_global"}])


if __name__ == "__main__":
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate ids"
    with open(sys.argv[1], "w") as f:
        json.dump({"cases": CASES}, f, indent=1)
    print(len(CASES), "draft cases")
