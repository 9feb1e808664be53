//! BERT's optimizer: names and order, the schedule, one step by hand, clipping by TF's norm,
//! and its refusals.

use ndarray::{arr1, ArrayD};

use super::{AdamWeightDecay, AdamWeightDecayConfig};
use crate::optim::Optimizer;
use crate::tape::Gradients;
use crate::train_error::TrainError;
use crate::{DType, Initializer, Registry, Tensor, VarSpec, Variable};

fn vars(reg: &Registry) -> Vec<Variable> {
    let spec = |shape: &[usize]| {
        VarSpec::new()
            .shape(shape)
            .initializer(Initializer::Constant(0.5))
    };
    reg.variable_scope("bert")
        .with(|_| {
            Ok::<_, crate::Error>(vec![
                reg.get_variable("dense/kernel", spec(&[2, 2]))?,
                reg.get_variable("dense/bias", spec(&[2]))?,
                reg.get_variable("LayerNorm/gamma", spec(&[2]))?,
            ])
        })
        .unwrap()
}

fn names(reg: &Registry) -> Vec<String> {
    reg.global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect()
}

#[test]
fn creates_global_step_then_slots_in_order_and_shares_them_under_reuse() {
    let reg = Registry::new();
    let vs = vars(&reg);
    let opt = AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(1e-3, 10, 2), &vs).unwrap();
    assert_eq!(
        names(&reg),
        [
            "bert/dense/kernel",
            "bert/dense/bias",
            "bert/LayerNorm/gamma",
            "global_step",
            "bert/dense/kernel/adam_m",
            "bert/dense/kernel/adam_v",
            "bert/dense/bias/adam_m",
            "bert/dense/bias/adam_v",
            "bert/LayerNorm/gamma/adam_m",
            "bert/LayerNorm/gamma/adam_v",
        ]
    );
    let gs = opt.global_step();
    assert_eq!(
        (gs.dtype(), gs.shape(), gs.trainable()),
        (DType::I64, &[][..], false)
    );
    assert_eq!(opt.step().unwrap(), 0);
    assert!(opt.own_variables().iter().all(|v| !v.trainable()));
    assert_eq!(opt.own_variables().len(), 7);
    // Without reuse a second optimizer is refused (global_step exists); with it, shared.
    assert!(matches!(
        AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(1e-3, 10, 2), &vs),
        Err(TrainError::Registry(crate::Error::AlreadyExists { .. }))
    ));
    reg.reuse_variables();
    let again = AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(1e-3, 10, 2), &vs).unwrap();
    assert!(again.global_step().ptr_eq(opt.global_step()));
    for v in &vs {
        let (a, b) = (opt.slots(v).unwrap(), again.slots(v).unwrap());
        assert!(a.0.ptr_eq(b.0) && a.1.ptr_eq(b.1));
    }
}

#[test]
fn schedule_is_warmup_then_linear_decay() {
    let c = AdamWeightDecayConfig::bert(1e-3, 10, 2);
    assert_eq!(c.learning_rate(0), 0.0);
    assert_eq!(c.learning_rate(1), 1e-3f32 * (1.0 / 2.0));
    assert_eq!(c.learning_rate(2), 1e-3f32 * (1.0 - 0.2));
    assert_eq!(c.learning_rate(9), 1e-3f32 * (1.0 - 9.0f32 / 10.0));
    assert_eq!(c.learning_rate(10), 0.0);
    assert_eq!(c.learning_rate(25), 0.0);
    let no_warmup = AdamWeightDecayConfig::bert(2e-3, 20, 0);
    assert_eq!(no_warmup.learning_rate(0), 2e-3);
    assert_eq!(no_warmup.learning_rate(1), 2e-3f32 * (1.0 - 1.0f32 / 20.0));
    assert!(c.decays("bert/dense/kernel"));
    assert!(!c.decays("bert/dense/bias"));
    assert!(!c.decays("bert/LayerNorm/gamma"));
    assert!(!c.decays("x/layer_norm/beta"));
}

fn grad(var: &Variable, data: &[f32]) -> ArrayD<f32> {
    ArrayD::from_shape_vec(var.shape(), data.to_vec()).unwrap()
}

/// The k-th step uses the schedule at k + 1; decay skips LayerNorm and bias; no bias
/// correction; global_step counts.
#[test]
fn steps_are_bert_s_update_in_f32() {
    let reg = Registry::new();
    let vs = vars(&reg);
    let config = AdamWeightDecayConfig::bert(1e-3, 10, 2);
    let mut opt = AdamWeightDecay::new(&reg, config.clone(), &vs).unwrap();
    let data: [&[f32]; 3] = [&[0.1, -0.2, 0.05, 0.3], &[0.4, -0.1], &[-0.25, 0.15]];
    let mut grads = Gradients::new();
    for (v, d) in vs.iter().zip(data) {
        grads.add(v, grad(v, d)).unwrap();
    }
    // The norm is under 1: nothing is clipped.
    assert!(grads.tf_global_norm() < 1.0);
    let mut p: Vec<Vec<f32>> = vs
        .iter()
        .map(|v| v.read().as_f32().unwrap().to_vec())
        .collect();
    let mut m: Vec<Vec<f32>> = data.iter().map(|d| vec![0.0; d.len()]).collect();
    let mut s = m.clone();
    for k in 0..3i64 {
        assert_eq!(
            opt.next_learning_rate().unwrap(),
            config.learning_rate(k + 1)
        );
        opt.apply(&grads).unwrap();
        let lr = config.learning_rate(k + 1);
        for (i, d) in data.iter().enumerate() {
            for (e, &g) in d.iter().enumerate() {
                m[i][e] = 0.9f32 * m[i][e] + 0.1f32 * g;
                s[i][e] = 0.999f32 * s[i][e] + 0.001f32 * (g * g);
                let mut u = m[i][e] / (s[i][e].sqrt() + 1e-6f32);
                if i == 0 {
                    u += 0.01f32 * p[i][e];
                }
                p[i][e] -= lr * u;
            }
            let got = vs[i].read().as_f32().unwrap().to_vec();
            assert_eq!(got, p[i], "step {k} variable {}", vs[i].name());
            let (mv, vv) = opt.slots(&vs[i]).unwrap();
            assert_eq!(mv.read().as_f32().unwrap(), m[i].as_slice());
            assert_eq!(vv.read().as_f32().unwrap(), s[i].as_slice());
        }
        assert_eq!(opt.step().unwrap(), k + 1);
    }
}

#[test]
fn clips_by_tf_global_norm_counting_gathered_rows() {
    let reg = Registry::new();
    let vs = vars(&reg);
    let mut opt =
        AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(1e-3, 10, 0), &vs[..1]).unwrap();
    let mut grads = Gradients::new();
    grads
        .add(&vs[0], grad(&vs[0], &[3.0, 0.0, 0.0, 4.0]))
        .unwrap();
    // As if a gather of one row twice gave the dense [3, 0; 0, 4]: TF sums the slices'
    // squares, here 50 rather than 25.
    grads.set_slices_sq(&vs[0], 50.0);
    assert_eq!(grads.global_norm(), 5.0);
    assert_eq!(grads.tf_global_norm(), 50f64.sqrt());
    opt.apply(&grads).unwrap();
    let scale = 1.0f32 * (1.0 / (50f64.sqrt() as f32)).min(1.0);
    let (m, _) = opt.slots(&vs[0]).unwrap();
    let want: Vec<f32> = [3.0f32, 0.0, 0.0, 4.0]
        .iter()
        .map(|g| 0.1f32 * (g * scale))
        .collect();
    assert_eq!(m.read().as_f32().unwrap(), want.as_slice());
    assert_eq!(opt.last_global_norm(), Some(50f64.sqrt()));
    // A dense gradient added to the slices makes the whole gradient dense.
    grads.add(&vs[0], grad(&vs[0], &[0.0; 4])).unwrap();
    assert_eq!(grads.tf_global_norm(), 5.0);
}

#[test]
fn refusals_change_nothing() {
    let reg = Registry::new();
    let vs = vars(&reg);
    for bad in [
        AdamWeightDecayConfig {
            num_train_steps: 0,
            ..AdamWeightDecayConfig::bert(1e-3, 10, 0)
        },
        AdamWeightDecayConfig::bert(f32::NAN, 10, 0),
        AdamWeightDecayConfig {
            beta_2: 1.0,
            ..AdamWeightDecayConfig::bert(1e-3, 10, 0)
        },
        AdamWeightDecayConfig {
            clip_norm: 0.0,
            ..AdamWeightDecayConfig::bert(1e-3, 10, 0)
        },
    ] {
        assert!(matches!(
            AdamWeightDecay::new(&reg, bad, &vs),
            Err(TrainError::Config { .. })
        ));
    }
    assert!(matches!(
        AdamWeightDecay::new(
            &reg,
            AdamWeightDecayConfig::bert(1e-3, 10, 0),
            &[vs[0].clone(), vs[0].clone()]
        ),
        Err(TrainError::Config { .. })
    ));
    assert_eq!(names(&reg).len(), 3, "a refused optimizer creates nothing");
    let mut opt =
        AdamWeightDecay::new(&reg, AdamWeightDecayConfig::bert(1e-3, 10, 0), &vs).unwrap();
    let before: Vec<Tensor> = vs.iter().map(Variable::value).collect();
    let mut grads = Gradients::new();
    grads
        .add(&vs[1], arr1(&[f32::NAN, 0.0]).into_dyn())
        .unwrap();
    assert!(matches!(
        opt.apply(&grads),
        Err(TrainError::NonFiniteGradient { .. })
    ));
    let wrong = Gradients::new();
    let mut wrong = wrong;
    wrong.add(&vs[1], arr1(&[1.0f32, 0.0]).into_dyn()).unwrap();
    let after: Vec<Tensor> = vs.iter().map(Variable::value).collect();
    assert_eq!(before, after);
    assert_eq!(opt.step().unwrap(), 0);
    opt.apply(&wrong).unwrap();
    assert_eq!(opt.step().unwrap(), 1);
}
