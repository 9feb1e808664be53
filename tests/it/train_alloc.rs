//! Heap use of a steady BERT fine-tuning step (issue 11): what one step allocates must not
//! grow with the step count. A BERT-Tiny-shaped classifier (smaller, so the suite stays
//! quick) is trained with `bert_optimizer`; steps 3 and 8 must allocate the same number of
//! blocks and bytes, the embedding table's gradient must not be allocated dense, and the
//! large buffers of the forward and backward passes must be reused rather than allocated.

use ndarray::Array2;
use scope::models::bert::{bert_optimizer, BertClassifier, BertConfig, BertInputs};
use scope::optim::Optimizer;
use scope::tape::Tape;
use scope::{Model, Registry};

#[test]
fn a_bert_train_step_allocates_the_same_at_step_3_and_step_8() {
    let cfg = BertConfig {
        type_vocab_size: 2,
        ..BertConfig::tiny(3000, 32, 2, 2, 64, 64)
    };
    let (batch, seq, labels) = (4, 16, 2);
    let reg = Registry::with_seed(1);
    let model = BertClassifier::build_here(&reg, (cfg, labels)).unwrap();
    let mut opt = bert_optimizer(&reg, 1e-4, 100, 2).unwrap();
    let ids = Array2::from_shape_fn((batch, seq), |(b, t)| ((b * 977 + t * 131) % 3000) as i64);
    let types = Array2::from_shape_fn((batch, seq), |(_, t)| i64::from(t >= seq / 2));
    let mask = Array2::from_shape_fn((batch, seq), |(b, t)| i64::from(t < seq - 2 * b));
    let inputs = BertInputs::new(ids, mask, types).unwrap();
    let y: Vec<i64> = (0..batch).map(|b| (b % labels) as i64).collect();
    let mut tape = Tape::<f32>::new();
    let mut per_step = Vec::new();
    for _ in 0..8 {
        let (loss, used) = crate::alloc::measure(|| {
            tape.clear();
            let out = model.forward(&mut tape, &inputs, &y).unwrap();
            opt.minimize(&tape, out.loss).unwrap()
        });
        assert!(loss.is_finite());
        per_step.push(used);
    }
    let (third, eighth) = (per_step[2], per_step[7]);
    assert_eq!(
        (third.calls, third.bytes),
        (eighth.calls, eighth.bytes),
        "allocations per step grew between step 3 and step 8: {per_step:?}"
    );
    // The word-embedding table is 3000 x 32 floats; its gradient (rows gathered only) and
    // nothing else of that size is allocated per step.
    let table_bytes = 3000 * 32 * 4;
    assert!(
        eighth.largest < table_bytes,
        "a step allocated {} bytes at once, as much as the embedding table ({table_bytes})",
        eighth.largest
    );
    // The tape keeps the large activation and gradient buffers across steps: a steady step
    // allocates a fraction of what the first did.
    assert!(
        eighth.bytes < per_step[0].bytes / 2,
        "a steady step allocated {} bytes, the first {}",
        eighth.bytes,
        per_step[0].bytes
    );
}
