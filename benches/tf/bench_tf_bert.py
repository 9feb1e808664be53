#!/usr/bin/env python3
"""Performance anchor: BERT-Tiny in TF compat.v1 graph mode, the graph of google-research/bert.

Re-implements modeling.BertModel (embeddings, post-processor, transformer_model, pooler),
run_classifier.create_model and optimization.create_optimizer (AdamWeightDecayOptimizer,
linear warmup/decay, clip_by_global_norm 1.0) with tf.compat.v1 ops, under the same variable
names, following /work/shared/fixtures/bert/README.md's math (BERT's code is not copied).

Config (the one `cargo run --release --example bert -- --bench` times): vocab 30522, hidden 128,
2 layers, 2 heads, intermediate 512, max positions 512, 2 token types, batch 8 x seq 128,
2 labels, gelu, no dropout (is_training=False).

Measures (medians over timed iterations after warm-up, time.perf_counter around session.run):
  * build + init: a fresh tf.Graph with the model, the loss, the optimizer, a Session and
    global_variables_initializer() run (median of --build-reps);
  * forward: session.run(loss) (fetching the loss runs the whole forward pass);
  * train step: session.run([train_op, loss]).

With --base: BERT-Base (hidden 768, 12 layers, 12 heads, intermediate 3072; the config
`cargo run --release --example bert -- --bench --base` times), lines named bert_base_*.

Usage:
  TF_CPP_MIN_LOG_LEVEL=2 python bench_tf_bert.py --threads 1 [--json out.json]
  TF_CPP_MIN_LOG_LEVEL=2 python bench_tf_bert.py --base --threads 2 --forward-iters 3 --train-iters 2
  (--threads 1 = intra_op = inter_op = 1; pin the process with taskset -c N for one core.)
"""
import argparse
import json
import math
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

VOCAB, HIDDEN, LAYERS, HEADS, INTER, MAX_POS, TYPES = 30522, 128, 2, 2, 512, 512, 2
BATCH, SEQ, LABELS = 8, 128, 2


def gelu(tf, x):
    cdf = 0.5 * (1.0 + tf.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * tf.pow(x, 3))))
    return x * cdf


def layer_norm(tf, v1, x, name="LayerNorm"):
    with v1.variable_scope(name):
        beta = v1.get_variable("beta", [HIDDEN], initializer=v1.zeros_initializer())
        gamma = v1.get_variable("gamma", [HIDDEN], initializer=v1.ones_initializer())
        mean, var = tf.nn.moments(x, [-1], keepdims=True)
        inv = tf.math.rsqrt(var + 1e-12) * gamma
        return x * inv + (beta - mean * inv)


def dense(tf, v1, x, units, name, act=None):
    init = v1.truncated_normal_initializer(stddev=0.02)
    with v1.variable_scope(name):
        k = v1.get_variable("kernel", [x.shape[-1], units], initializer=init)
        b = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        y = tf.nn.bias_add(tf.matmul(x, k), b)
    return act(y) if act is not None else y


def build(tf, v1):
    init = v1.truncated_normal_initializer(stddev=0.02)
    ids = v1.placeholder(tf.int32, [BATCH, SEQ], "input_ids")
    mask = v1.placeholder(tf.int32, [BATCH, SEQ], "input_mask")
    types = v1.placeholder(tf.int32, [BATCH, SEQ], "token_type_ids")
    labels = v1.placeholder(tf.int32, [BATCH], "labels")
    D = HIDDEN // HEADS
    with v1.variable_scope("bert"):
        with v1.variable_scope("embeddings"):
            table = v1.get_variable("word_embeddings", [VOCAB, HIDDEN], initializer=init)
            x = tf.gather(table, tf.reshape(ids, [-1]))
            tt = v1.get_variable("token_type_embeddings", [TYPES, HIDDEN], initializer=init)
            x += tf.matmul(tf.one_hot(tf.reshape(types, [-1]), TYPES), tt)
            x = tf.reshape(x, [BATCH, SEQ, HIDDEN])
            pos = v1.get_variable("position_embeddings", [MAX_POS, HIDDEN], initializer=init)
            x += tf.reshape(tf.slice(pos, [0, 0], [SEQ, -1]), [1, SEQ, HIDDEN])
            x = layer_norm(tf, v1, x)
        adder = (1.0 - tf.cast(tf.reshape(mask, [BATCH, 1, 1, SEQ]), tf.float32)) * -10000.0
        prev = tf.reshape(x, [BATCH * SEQ, HIDDEN])
        with v1.variable_scope("encoder"):
            for i in range(LAYERS):
                with v1.variable_scope("layer_%d" % i):
                    with v1.variable_scope("attention"):
                        with v1.variable_scope("self"):
                            def heads(name):
                                y = dense(tf, v1, prev, HIDDEN, name)
                                y = tf.reshape(y, [BATCH, SEQ, HEADS, D])
                                return tf.transpose(y, [0, 2, 1, 3])
                            q, k, v = heads("query"), heads("key"), heads("value")
                            s = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(D))
                            p = tf.nn.softmax(s + adder)
                            c = tf.transpose(tf.matmul(p, v), [0, 2, 1, 3])
                            c = tf.reshape(c, [BATCH * SEQ, HIDDEN])
                        with v1.variable_scope("output"):
                            a = dense(tf, v1, c, HIDDEN, "dense")
                            a = layer_norm(tf, v1, a + prev)
                    with v1.variable_scope("intermediate"):
                        m = dense(tf, v1, a, INTER, "dense", lambda t: gelu(tf, t))
                    with v1.variable_scope("output"):
                        o = dense(tf, v1, m, HIDDEN, "dense")
                        prev = layer_norm(tf, v1, o + a)
        with v1.variable_scope("pooler"):
            first = tf.reshape(tf.slice(tf.reshape(prev, [BATCH, SEQ, HIDDEN]), [0, 0, 0],
                                        [-1, 1, -1]), [BATCH, HIDDEN])
            pooled = dense(tf, v1, first, HIDDEN, "dense", tf.tanh)
    w = v1.get_variable("output_weights", [LABELS, HIDDEN], initializer=init)
    b = v1.get_variable("output_bias", [LABELS], initializer=v1.zeros_initializer())
    logits = tf.nn.bias_add(tf.matmul(pooled, w, transpose_b=True), b)
    log_probs = tf.nn.log_softmax(logits, axis=-1)
    one_hot = tf.one_hot(labels, depth=LABELS, dtype=tf.float32)
    loss = tf.reduce_mean(-tf.reduce_sum(one_hot * log_probs, axis=-1))
    train_op = create_optimizer(tf, v1, loss, 1e-4, 1000, 100)
    return (ids, mask, types, labels), loss, train_op


def create_optimizer(tf, v1, loss, init_lr, num_train_steps, num_warmup_steps):
    """optimization.create_optimizer's math: schedule, clipping, AdamWeightDecay, dense."""
    global_step = v1.train.get_or_create_global_step()
    lr = v1.train.polynomial_decay(tf.constant(init_lr, tf.float32), global_step,
                                   num_train_steps, end_learning_rate=0.0, power=1.0)
    gs = tf.cast(global_step, tf.int32)
    warm = tf.constant(num_warmup_steps, tf.int32)
    warm_lr = init_lr * (tf.cast(gs, tf.float32) / tf.cast(warm, tf.float32))
    is_warm = tf.cast(gs < warm, tf.float32)
    lr = (1.0 - is_warm) * lr + is_warm * warm_lr
    tvars = v1.trainable_variables()
    grads = tf.gradients(loss, tvars)
    grads, _ = tf.clip_by_global_norm(grads, clip_norm=1.0)
    assignments = []
    for g, p in zip(grads, tvars):
        name = p.op.name
        m = v1.get_variable(name + "/adam_m", p.shape.as_list(), tf.float32, trainable=False,
                            initializer=v1.zeros_initializer())
        v = v1.get_variable(name + "/adam_v", p.shape.as_list(), tf.float32, trainable=False,
                            initializer=v1.zeros_initializer())
        next_m = tf.multiply(0.9, m) + tf.multiply(0.1, g)
        next_v = tf.multiply(0.999, v) + tf.multiply(0.001, tf.square(g))
        update = next_m / (tf.sqrt(next_v) + 1e-6)
        if not any(w in name for w in ("LayerNorm", "layer_norm", "bias")):
            update += 0.01 * p
        assignments += [p.assign(p - lr * update), m.assign(next_m), v.assign(next_v)]
    return tf.group(*assignments, global_step.assign(global_step + 1))


def main():
    global HIDDEN, LAYERS, HEADS, INTER
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", action="store_true", help="BERT-Base instead of BERT-Tiny")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--build-reps", type=int, default=5)
    ap.add_argument("--forward-iters", type=int, default=40)
    ap.add_argument("--train-iters", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    name = "bert"
    if args.base:
        HIDDEN, LAYERS, HEADS, INTER, name = 768, 12, 12, 3072, "bert_base"
    import numpy as np
    import tensorflow as tf
    v1 = tf.compat.v1
    v1.disable_v2_behavior()
    cfg = v1.ConfigProto(intra_op_parallelism_threads=args.threads,
                         inter_op_parallelism_threads=args.threads)

    def fresh():
        g = tf.Graph()
        with g.as_default():
            v1.set_random_seed(1)
            feeds, loss, train_op = build(tf, v1)
            init = v1.global_variables_initializer()
        sess = v1.Session(graph=g, config=cfg)
        sess.run(init)
        return sess, feeds, loss, train_op

    builds = []
    for _ in range(args.build_reps):
        t = time.perf_counter()
        sess, feeds, loss, train_op = fresh()
        builds.append(time.perf_counter() - t)
        sess.close()
    sess, feeds, loss, train_op = fresh()
    rng = np.random.default_rng(7)
    ids = rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int32)
    types = np.array([[int(t >= SEQ // 2) for t in range(SEQ)]] * BATCH, np.int32)
    mask = np.array([[int(t < SEQ - 8 * b) for t in range(SEQ)] for b in range(BATCH)],
                    np.int32)
    labels = np.array([b % LABELS for b in range(BATCH)], np.int32)
    fd = dict(zip(feeds, (ids, mask, types, labels)))

    def timed(fetch, iters, warm):
        for _ in range(warm):
            sess.run(fetch, fd)
        out = []
        for _ in range(iters):
            t = time.perf_counter()
            sess.run(fetch, fd)
            out.append(time.perf_counter() - t)
        return statistics.median(out)

    warm = 1 if args.base else 5
    fwd = timed(loss, args.forward_iters, warm)
    step = timed([train_op, loss], args.train_iters, max(warm - 2, 1))
    res = {"tf_version": tf.__version__, "threads": args.threads,
           name + "_forward_ms": fwd * 1e3, name + "_train_step_ms": step * 1e3,
           name + "_build_ms": statistics.median(builds) * 1e3}
    for k, v in res.items():
        print(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
