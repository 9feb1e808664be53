//! ALBERT's LAMB: names and order, one step by hand (trust ratio, its exclusions, zero
//! norms), a gather's gradient, and its refusals.

use ndarray::{arr1, arr2};

use super::{Lamb, LambConfig};
use crate::optim::{AdamWeightDecay, AdamWeightDecayConfig, Optimizer};
use crate::tape::Gradients;
use crate::train_error::TrainError;
use crate::{Initializer, Registry, VarSpec, Variable};

fn var(reg: &Registry, name: &str, values: &[f32]) -> Variable {
    let spec = VarSpec::new()
        .shape([values.len()])
        .initializer(Initializer::Zeros);
    let v = reg.get_variable(name, spec).unwrap();
    v.assign(arr1(values).into_dyn()).unwrap();
    v
}

fn names(reg: &Registry) -> Vec<String> {
    reg.global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect()
}

#[test]
fn creates_what_adam_weight_decay_creates() {
    let (a, b) = (Registry::new(), Registry::new());
    let va = [
        var(&a, "dense/kernel", &[1.0]),
        var(&a, "dense/bias", &[1.0]),
    ];
    let vb = [
        var(&b, "dense/kernel", &[1.0]),
        var(&b, "dense/bias", &[1.0]),
    ];
    Lamb::new(&a, LambConfig::albert(1e-3, 10, 0), &va).unwrap();
    AdamWeightDecay::new(&b, AdamWeightDecayConfig::bert(1e-3, 10, 0), &vb).unwrap();
    assert_eq!(names(&a), names(&b));
    assert_eq!(
        names(&a)[2..],
        [
            "global_step",
            "dense/kernel/adam_m",
            "dense/kernel/adam_v",
            "dense/bias/adam_m",
            "dense/bias/adam_v"
        ]
    );
}

/// One step by hand, in f64: Adam's update, then the trust ratio for the kernel and none for
/// the bias (excluded) nor for a zero kernel (ratio 1).
#[test]
fn one_step_applies_the_trust_ratio_except_to_excluded_names_and_zero_norms() {
    let reg = Registry::new();
    let kernel = var(&reg, "dense/kernel", &[0.5, -1.0, 2.0]);
    let bias = var(&reg, "dense/bias", &[0.3, 0.1, -0.2]);
    let zero = var(&reg, "other/kernel", &[0.0, 0.0, 0.0]);
    let mut opt = Lamb::new(
        &reg,
        LambConfig::albert(0.01, 4, 0),
        &[kernel.clone(), bias.clone(), zero.clone()],
    )
    .unwrap();
    let g = [0.1f32, 0.2, -0.05];
    let mut grads = Gradients::new();
    for v in [&kernel, &bias, &zero] {
        grads.add(v, arr1(&g).into_dyn()).unwrap();
    }
    let before: Vec<Vec<f64>> = [&kernel, &bias, &zero]
        .iter()
        .map(|v| v.value().to_f64_vec())
        .collect();
    opt.apply(&grads).unwrap();
    // The global norm sqrt(3 * 0.0525) < 1: no clipping. lr = 0.01 * (1 - 1/4).
    let lr = 0.0075;
    for (k, (v, decays, adapts)) in [
        (&kernel, true, true),
        (&bias, false, false),
        (&zero, true, true),
    ]
    .into_iter()
    .enumerate()
    {
        let p = &before[k];
        let update: Vec<f64> = g
            .iter()
            .zip(p)
            .map(|(&g, &p)| {
                let (m, v) = (0.1 * f64::from(g), 0.001 * f64::from(g) * f64::from(g));
                m / (v.sqrt() + 1e-6) + if decays { 0.01 * p } else { 0.0 }
            })
            .collect();
        let norm = |x: &[f64]| x.iter().map(|x| x * x).sum::<f64>().sqrt();
        let ratio = if adapts && norm(p) > 0.0 {
            norm(p) / norm(&update)
        } else {
            1.0
        };
        let got = v.value().to_f64_vec();
        for i in 0..3 {
            let want = p[i] - ratio * lr * update[i];
            assert!(
                (got[i] - want).abs() < 1e-6,
                "{} [{i}]: {} vs {want}",
                v.name(),
                got[i]
            );
        }
        let (m, _) = opt.slots(v).unwrap();
        assert!((m.value().to_f64_vec()[1] - 0.02).abs() < 1e-7);
    }
    assert_eq!(opt.step().unwrap(), 1);
}

/// A gather's gradient (rows) updates exactly as the same gradient made dense.
#[test]
fn a_gathered_gradient_updates_as_its_dense_form() {
    let run = |dense: bool| {
        let reg = Registry::new();
        let spec = VarSpec::new().shape([3, 2]).initializer(Initializer::Ones);
        let table = reg.get_variable("word_embeddings", spec).unwrap();
        let mut opt = Lamb::new(
            &reg,
            LambConfig::albert(0.1, 10, 0),
            std::slice::from_ref(&table),
        )
        .unwrap();
        for _ in 0..2 {
            let mut tape = crate::tape::Tape::<f32>::new();
            let rows = tape.gather_variable(&table, &[2, 0, 2]).unwrap();
            let loss = tape.sum_all(rows).unwrap();
            let mut grads = tape.gradients(loss).unwrap();
            if dense {
                let mut d = Gradients::new();
                d.add(
                    &table,
                    arr2(&[[1.0f32, 1.0], [0.0, 0.0], [2.0, 2.0]]).into_dyn(),
                )
                .unwrap();
                // Same clipping as the rows' (TF counts the rows unsummed).
                let sq = grads.tf_sum_of_squares(&table).unwrap();
                d.set_slices_sq(&table, sq);
                grads = d;
            }
            opt.apply(&grads).unwrap();
        }
        table.value().to_f64_vec()
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn bad_settings_are_refused_naming_lamb() {
    let reg = Registry::new();
    let v = var(&reg, "w", &[1.0]);
    let mut cfg = LambConfig::albert(1e-3, 0, 0);
    let err = Lamb::new(&reg, cfg.clone(), std::slice::from_ref(&v)).unwrap_err();
    assert!(
        matches!(&err, TrainError::Config { detail } if detail.starts_with("LAMB")),
        "{err}"
    );
    assert!(
        reg.variable("global_step").is_none(),
        "a refused optimizer created something"
    );
    cfg.adam.num_train_steps = 10;
    cfg.exclude_from_layer_adaptation = Some(vec!["w".into()]);
    assert!(!cfg.adapts("w") && cfg.adapts("dense/bias"));
    let err = Lamb::new(&reg, cfg, &[v.clone(), v]).unwrap_err();
    assert!(matches!(err, TrainError::Config { .. }), "{err}");
}
