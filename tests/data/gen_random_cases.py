"""Random TF1 naming scripts, recorded from real TensorFlow with replay_tf's own Runner/record.

Usage (in a venv with tensorflow-cpu==2.21.0), from tests/data:
    python gen_random_cases.py SEED N OUT.json

Scripts are generated op by op against a live TF graph, so an `exit` only follows a scope
that really opened. Cases where a failing op leaks a name in TF (an initializer type error
raised after the op name was uniquified, or an invalid constant name checked after it) are
dropped: this registry changes nothing on a failed call. Values are kept only for variables
an op created with a deterministic initializer.
"""
import json, random, sys
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import replay_tf as R

SCOPE_NAMES = ["a", "b", "a", "b", "c", "A", "a_1", "x/y", "_u", ""]
VAR_NAMES = ["w", "v", "w", "W", "w_1", "a", "b", "_v", "x/y"]
INITS = [None, None, None, {"constant": 2}, {"constant": 0.5}, {"zeros": True}, {"value": [1.0, 2.0]}]

def gen_case(rng, cid, n_ops):
    runner = R.Runner({"id": cid, "ops": []})
    ops = []
    with runner.graph.as_default():
        for i in range(n_ops):
            for _attempt in range(20):
                op = pick(rng, runner)
                if op is not None:
                    break
            runner.exec_op(i, op)
            ops.append(op)
        while runner.stack:
            runner.stack.pop().__exit__(None, None, None)
    return {"id": cid, "area": "random", "source": "probe", "ops": ops}

def pick(rng, runner):
    k = rng.random()
    refs = list(runner.refs)
    if k < 0.16:
        op = {"op": "variable_scope"}
        if rng.random() < 0.2:
            op["name"] = None; op["default_name"] = rng.choice(["d", "a", "layer"])
        else:
            op["name"] = rng.choice(SCOPE_NAMES)
        r = rng.random()
        if r < 0.2: op["reuse"] = True
        elif r < 0.3: op["reuse"] = "auto"
        elif r < 0.35: op["reuse"] = False
        if rng.random() < 0.1: op["auxiliary_name_scope"] = False
        if rng.random() < 0.08: op["initializer"] = {"constant": 3}
        if rng.random() < 0.05: op["dtype"] = "int32"
        if rng.random() < 0.3: op["capture"] = "s%d" % len(refs)
        return op
    if k < 0.22:
        if not refs: return None
        op = {"op": "variable_scope_reenter", "ref": rng.choice(refs)}
        r = rng.random()
        if r < 0.25: op["reuse"] = True
        elif r < 0.35: op["reuse"] = "auto"
        if rng.random() < 0.1: op["auxiliary_name_scope"] = False
        return op
    if k < 0.30:
        op = {"op": "name_scope", "name": rng.choice(SCOPE_NAMES + ["a/", None])}
        if op["name"] is None and rng.random() < 0.7: op["default_name"] = "d"
        return op
    if k < 0.45:
        if not runner.stack: return None
        return {"op": "exit"}
    if k < 0.49:
        op = {"op": "reuse_variables"}
        if refs and rng.random() < 0.4: op["ref"] = rng.choice(refs)
        return op
    if k < 0.72:
        op = {"op": "get_variable", "name": rng.choice(VAR_NAMES)}
        init = rng.choice(INITS)
        if init is not None: op["initializer"] = init
        if init is None or "value" not in init:
            r = rng.random()
            if r < 0.75: op["shape"] = [1]
            elif r < 0.9: op["shape"] = [2]
        if rng.random() < 0.1: op["dtype"] = "int32"
        if rng.random() < 0.1: op["trainable"] = False
        if init is not None: op["_want_value"] = True
        return op
    if k < 0.86:
        op = {"op": "variable", "init": [1.0]}
        if rng.random() < 0.85: op["name"] = rng.choice(VAR_NAMES)
        if rng.random() < 0.1: op["trainable"] = False
        op["_want_value"] = True
        return op
    if k < 0.91:
        return {"op": "constant", "name": rng.choice(VAR_NAMES + ["w/read", "a/"])}
    if k < 0.95:
        return {"op": "get_variable_scope"}
    if k < 0.97:
        return {"op": "current_name_scope"}
    op = {"op": rng.choice(["list_global", "list_trainable"])}
    if rng.random() < 0.5: op["scope"] = rng.choice(["a", "a/", "b/"])
    return op

def keep(case):
    """Drops values of reused variables (random in TF) and the name-leaking failures."""
    for o in case["ops"]:
        if "same_as" in o:
            o.pop("expect_value", None)
        e = o.get("expect")
        if isinstance(e, dict) and e.get("error") == "Other":
            return False
        if o["op"] == "constant" and isinstance(e, dict) and "error" in e:
            return False
    return True

def main():
    seed, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    cases = []
    for c in range(n):
        draft = gen_case(rng, "scope_random_%d_%d" % (seed, c), rng.randint(6, 22))
        actual, values = R.Runner(draft).run()
        case, notes = R.record(draft, actual, values)
        if keep(case):
            cases.append(case)
    json.dump({"format": "tf1-naming-conformance/1", "tensorflow_version": "2.21.0",
               "mode": "tensorflow.compat.v1 with disable_v2_behavior() (graph mode, RefVariable)",
               "part": "scope-random", "cases": cases}, open(out, "w"), indent=1)
    print("wrote", len(cases))

main()
