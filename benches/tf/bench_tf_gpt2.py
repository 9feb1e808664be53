#!/usr/bin/env python3
"""Performance anchor: GPT-2 small in TF compat.v1 graph mode through openai/gpt-2's own code.

Runs the repository's `src/model.py` (`model.model`) and `src/sample.py`
(`sample.sample_sequence`) unmodified, as /work/shared/fixtures/gpt2/README.md records them:
`import tensorflow as tf` resolves to `tf.compat.v1` and `tensorflow.contrib.training.HParams`
(gone from TF 2) is a plain attribute holder. The repository is not part of this project: fetch
it yourself and pass its `src` directory:

  git clone https://github.com/openai/gpt-2 /tmp/gpt-2
  TF_CPP_MIN_LOG_LEVEL=2 python benches/tf/bench_tf_gpt2.py --gpt2-src /tmp/gpt-2/src --threads 1

Config (the one `cargo run --release --example gpt2 -- --bench` times): GPT-2 small (n_vocab
50257, n_ctx 1024, n_embd 768, n_head 12, n_layer 12), random weights, 1 x 128 tokens.

Measures (medians over timed iterations after warm-up, time.perf_counter around session.run):
  * gpt2_build_ms: a fresh tf.Graph with model.model, the loss, tf.train.AdamOptimizer, a
    Session and global_variables_initializer() run;
  * gpt2_forward_ms: session.run(logits) for 1 x 128 tokens;
  * gpt2_token_ms: one token through the key/value cache after 128:
    model.model(hparams, X[1 x 1], past=<the 128 tokens' present, fed>, reuse=True);
  * gpt2_sample_token_ms: the same through sample.sample_sequence (greedy, top_k=1) from a
    128-token context: (time of `length` 9 - time of `length` 1) / 8 (its while_loop also
    concatenates the growing cache each step);
  * gpt2_train_step_ms: session.run([train_op, loss]) (TF1 Adam, lr 1e-4), the loss as every
    GPT-2 fine-tuning script computes it.
"""
import argparse
import json
import os
import statistics
import sys
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SEQ = 128


def load_gpt2(src):
    """Imports the repository's model and sample modules under the two import-level shims."""
    import tensorflow as real_tf
    v1 = real_tf.compat.v1
    v1.disable_v2_behavior()

    class HParams:
        def __init__(self, **kw):
            self.__dict__.update(kw)

        def override_from_dict(self, d):
            self.__dict__.update(d)

    contrib = types.ModuleType("tensorflow.contrib")
    training = types.ModuleType("tensorflow.contrib.training")
    training.HParams = HParams
    contrib.training = training
    sys.modules["tensorflow"] = v1
    sys.modules["tensorflow.contrib"] = contrib
    sys.modules["tensorflow.contrib.training"] = training
    sys.path.insert(0, src)
    import model
    import sample
    return v1, model, sample, HParams


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpt2-src", required=True, help="openai/gpt-2's src directory")
    ap.add_argument("--threads", type=int, default=1,
                    help="intra_op = inter_op threads (0: TF's default, every core)")
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--token-iters", type=int, default=10)
    ap.add_argument("--build-reps", type=int, default=1)
    ap.add_argument("--no-sample", action="store_true", help="skip sample_sequence's timing")
    ap.add_argument("--json")
    args = ap.parse_args()
    import numpy as np
    tf, model, sample, HParams = load_gpt2(args.gpt2_src)
    hp = HParams(n_vocab=50257, n_ctx=1024, n_embd=768, n_head=12, n_layer=12)
    cfg = tf.ConfigProto(intra_op_parallelism_threads=args.threads,
                         inter_op_parallelism_threads=args.threads)

    def fresh(with_sampler):
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(1)
            X = tf.placeholder(tf.int32, [1, SEQ])
            out = model.model(hparams=hp, X=X)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=X[:, 1:], logits=out["logits"][:, :-1]))
            train_op = tf.train.AdamOptimizer(1e-4).minimize(loss)
            init = tf.global_variables_initializer()
            t = {"X": X, "logits": out["logits"], "present": out["present"], "loss": loss,
                 "train": train_op}
            if with_sampler:
                t["past"] = tf.placeholder(tf.float32, model.past_shape(
                    hparams=hp, batch_size=1, sequence=SEQ))
                t["tok"] = tf.placeholder(tf.int32, [1, 1])
                t["tok_logits"] = model.model(hparams=hp, X=t["tok"], past=t["past"],
                                              reuse=True)["logits"]
                t["length"] = tf.placeholder(tf.int32, [])
                t["sampled"] = sample.sample_sequence(hparams=hp, length=t["length"],
                                                      context=X, batch_size=1, top_k=1)
        sess = tf.Session(graph=g, config=cfg)
        sess.run(init)
        return sess, t

    builds = []
    for _ in range(args.build_reps):
        start = time.perf_counter()
        sess, _ = fresh(False)
        builds.append(time.perf_counter() - start)
        sess.close()
    sess, t = fresh(True)
    rng = np.random.default_rng(7)
    x = rng.integers(0, hp.n_vocab, (1, SEQ)).astype(np.int32)

    def timed(fetch, fd, iters, warm=1):
        for _ in range(warm):
            sess.run(fetch, fd)
        out = []
        for _ in range(iters):
            start = time.perf_counter()
            sess.run(fetch, fd)
            out.append(time.perf_counter() - start)
        return statistics.median(out)

    fwd = timed(t["logits"], {t["X"]: x}, args.iters)
    past = sess.run(t["present"], {t["X"]: x})
    tok = timed(t["tok_logits"], {t["tok"]: np.array([[464]], np.int32), t["past"]: past},
                args.token_iters, 2)
    res = {"tf_version": tf.__version__, "threads": args.threads,
           "gpt2_forward_ms": fwd * 1e3, "gpt2_token_ms": tok * 1e3}
    if not args.no_sample:
        s1 = timed(t["sampled"], {t["X"]: x, t["length"]: 1}, args.iters)
        s9 = timed(t["sampled"], {t["X"]: x, t["length"]: 9}, args.iters)
        res["gpt2_sample_token_ms"] = (s9 - s1) / 8 * 1e3
    res["gpt2_train_step_ms"] = timed([t["train"], t["loss"]], {t["X"]: x}, args.iters) * 1e3
    res["gpt2_build_ms"] = statistics.median(builds) * 1e3
    for k, v in res.items():
        print(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
