//! Misuse and the paths the TF-recorded corpus cannot reach (partitioned variables, direct
//! optimizer use); the corpus (`tests/data/scope_cases_getters.json`) covers the TF rules.

use super::*;
use crate::optim::{Adam, Optimizer, Sgd};
use crate::partition::Partitioner;
use crate::tape::Tape;
use crate::{DType, Error, Initializer, Registry, VarSpec, Variable};

fn ones(shape: &[usize]) -> VarSpec {
    VarSpec::new().shape(shape).initializer(Initializer::Ones)
}

#[test]
fn getter_returning_another_shape_is_refused_and_changes_nothing() {
    let reg = Registry::with_seed(0);
    let small = reg.get_variable("small", ones(&[2])).unwrap();
    let names = reg.names_in_use();
    let g = CustomGetter::new("other", move |_, _| Ok(small.clone()));
    let err = reg
        .get_variable("big", ones(&[3]).custom_getter(g))
        .unwrap_err();
    assert!(
        matches!(&err, Error::GetterShapeMismatch { name, returned, .. } if name == "big" && returned == "small"),
        "{err}"
    );
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.names_in_use(), names);
}

#[test]
fn getter_asking_for_another_shape_creates_nothing() {
    let reg = Registry::with_seed(0);
    let g = CustomGetter::new("reshape", |mut a: GetterArgs, next: NextGetter<'_>| {
        a.spec.shape = Some(vec![4]);
        next(a)
    });
    let err = reg
        .get_variable("w", ones(&[2]).custom_getter(g))
        .unwrap_err();
    assert!(matches!(err, Error::GetterShapeMismatch { .. }), "{err}");
    assert_eq!(reg.len(), 0);
}

#[test]
fn regularizer_on_int_is_refused_before_creating() {
    let reg = Registry::with_seed(0);
    let s = reg
        .variable_scope("s")
        .regularizer(Regularizer::l2(0.1).unwrap())
        .enter()
        .unwrap();
    let names = reg.names_in_use();
    let err = reg
        .get_variable("i", ones(&[1]).dtype(DType::I32))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Expected int32, but got 0.1 of type 'float'."),
        "{err}"
    );
    assert!(err.to_string().contains("s/i"), "{err}");
    assert_eq!(reg.len(), 0);
    assert_eq!(reg.names_in_use(), names);
    assert!(reg.regularization_losses(None).unwrap().is_empty());
    // The name is still free.
    drop(s);
    reg.get_variable("s/i", ones(&[1]).dtype(DType::I32))
        .unwrap();
}

#[test]
fn regularizer_scales_are_checked() {
    assert!(matches!(
        Regularizer::l1(-1.0),
        Err(Error::RegularizerScale { .. })
    ));
    assert!(matches!(
        Regularizer::l2(f64::NAN),
        Err(Error::RegularizerScale { .. })
    ));
    assert!(matches!(
        Regularizer::l1_l2(0.1, -0.1),
        Err(Error::RegularizerScale { .. })
    ));
    assert!(!Regularizer::l1_l2(0.0, 0.0).unwrap().is_active());
    let r = Regularizer::l1_l2(0.5, 0.1).unwrap();
    assert!((r.penalty(&[3.0, -4.0]) - 4.75).abs() < 1e-12);
}

#[test]
fn partitioned_parts_are_regularized_and_collected_per_part() {
    // Recorded from TF 2.21: s/w/part_{0,1}/Regularizer/l2_regularizer, 1.0 each; the
    // collection holds both parts.
    let reg = Registry::with_seed(0);
    let _s = reg
        .variable_scope("s")
        .regularizer(Regularizer::l2(0.5).unwrap())
        .partitioner(Partitioner::fixed_size(2, 0))
        .enter()
        .unwrap();
    reg.get_partitioned_variable(
        "w",
        ones(&[4, 2]).collections(["mine", keys::GLOBAL_VARIABLES]),
    )
    .unwrap();
    let losses = reg.regularization_losses(None).unwrap();
    let names: Vec<&str> = losses.iter().map(|l| l.name()).collect();
    assert_eq!(
        names,
        [
            "s/w/part_0/Regularizer/l2_regularizer",
            "s/w/part_1/Regularizer/l2_regularizer"
        ]
    );
    assert!(losses.iter().all(|l| (l.value() - 1.0).abs() < 1e-12));
    let mine: Vec<String> = reg
        .get_collection("mine", None)
        .unwrap()
        .iter()
        .map(|v| v.name().to_owned())
        .collect();
    assert_eq!(mine, ["s/w/part_0", "s/w/part_1"]);
}

#[test]
fn bad_filter_is_an_error() {
    let reg = Registry::new();
    assert!(matches!(
        reg.get_collection(keys::GLOBAL_VARIABLES, Some("(")),
        Err(Error::InvalidFilter { .. })
    ));
    assert!(reg.regularization_losses(Some("[")).is_err());
}

fn step(opt: &mut dyn Optimizer, vars: &[Variable], coef: f32) {
    let mut tape = Tape::<f32>::new();
    let mut loss = None;
    for v in vars {
        let n = tape.variable(v).unwrap();
        let c = tape.constant(ndarray::ArrayD::from_elem(v.shape(), coef));
        let t = tape.mul(n, c).unwrap();
        let t = tape.sum_all(t).unwrap();
        loss = Some(match loss {
            None => t,
            Some(l) => tape.add(l, t).unwrap(),
        });
    }
    opt.minimize(&tape, loss.unwrap()).unwrap();
}

#[test]
fn every_optimizer_applies_constraints_after_its_update() {
    let reg = Registry::with_seed(0);
    let c = Constraint::clip_by_value(0.0, 0.5);
    let w = reg
        .get_variable("w", ones(&[2]).constraint(c.clone()))
        .unwrap();
    let free = reg.get_variable("free", ones(&[2])).unwrap();
    step(&mut Sgd::new(0.1), &[w.clone(), free.clone()], 1.0);
    assert_eq!(w.value().to_f64_vec(), [0.5, 0.5]);
    assert!((free.value().to_f64_vec()[0] - 0.9).abs() < 1e-6);

    let a = reg.get_variable("a", ones(&[2]).constraint(c)).unwrap();
    let mut adam = Adam::new(&reg, 0.1, std::slice::from_ref(&a)).unwrap();
    step(&mut adam, std::slice::from_ref(&a), -1.0);
    assert_eq!(a.value().to_f64_vec(), [0.5, 0.5]);
}

#[test]
fn getters_nest_inner_first_and_call_getter_replaces() {
    let reg = Registry::with_seed(0);
    let suffix = |s: &'static str| {
        CustomGetter::new(s, move |mut a: GetterArgs, next: NextGetter<'_>| {
            a.name.push_str(s);
            next(a)
        })
    };
    let _a = reg
        .variable_scope("a")
        .custom_getter(suffix("_o"))
        .enter()
        .unwrap();
    let _b = reg
        .variable_scope("b")
        .custom_getter(suffix("_i"))
        .enter()
        .unwrap();
    assert_eq!(
        reg.get_variable("w", ones(&[1])).unwrap().name(),
        "a/b/w_i_o"
    );
    let v = reg
        .get_variable("v", ones(&[1]).custom_getter(suffix("_c")))
        .unwrap();
    assert_eq!(v.name(), "a/b/v_c");
}

#[test]
fn template_refuses_new_trainable_variables_after_the_first_call() {
    let reg = Registry::with_seed(0);
    let r = reg.clone();
    let t = reg.make_template("tmpl", move |extra: bool| {
        let w = r.get_variable("w", ones(&[1]))?;
        if extra {
            Variable::new_with(
                &r,
                crate::Tensor::from_f64(&[1], vec![1.0])?,
                crate::VariableOptions::named("sneaky"),
            )?;
        }
        Ok::<_, Error>(w)
    });
    let w = t.call(false).unwrap();
    assert!(t.call(false).unwrap().ptr_eq(&w));
    let (count, names) = (reg.len(), reg.names_in_use());
    let err = t.call(true).unwrap_err();
    assert!(
        matches!(&err, Error::TemplateCreated { names, .. } if names == &["tmpl_2/sneaky"]),
        "{err}"
    );
    // The failed call changed nothing: no variable, no name (the next call opens `tmpl_2`).
    assert_eq!((reg.len(), reg.names_in_use()), (count, names));
    assert!(reg.variable("tmpl_2/sneaky").is_none());
    assert!(t.call(false).unwrap().ptr_eq(&w));
    assert_eq!(reg.current_name_scope(), "");
    // A first call that fails leaves no scope behind.
    let r2 = reg.clone();
    let failing = reg.make_template("bad", move |_: ()| {
        r2.get_variable("w", ones(&[1]))?;
        Err::<(), _>(Error::MissingScopeName)
    });
    assert!(failing.call(()).is_err());
    assert!(failing.variable_scope().is_none());
    assert!(reg.variable("bad/w").is_none());
    assert_eq!(t.variable_scope().unwrap().name(), "tmpl");
    let now = reg
        .make_template_now("tmpl", |_: ()| Ok::<_, Error>(()))
        .unwrap();
    assert_eq!(now.variable_scope().unwrap().name(), "tmpl_1");
}

#[test]
fn casting_getter_reads_float16_and_trains_the_float32_variable() {
    // Mixed precision: the model asks for float16, the getter keeps a float32 variable and
    // hands out a float16 read of it.
    let reg = Registry::with_seed(0);
    let cast = CustomGetter::new("fp16", |mut a: GetterArgs, next: NextGetter<'_>| {
        let wanted = a.spec.dtype;
        a.spec.dtype = Some(DType::F32);
        let var = next(a)?;
        match wanted {
            Some(DType::F16) => var.cast_read(DType::F16),
            _ => Ok(var),
        }
    });
    let _s = reg
        .variable_scope("mp")
        .custom_getter(cast)
        .enter()
        .unwrap();
    let spec = VarSpec::new()
        .shape([1])
        .dtype(DType::F16)
        .initializer(Initializer::Constant(0.1));
    let w16 = reg.get_variable("w", spec).unwrap();
    assert_eq!((w16.dtype(), w16.read_dtype()), (DType::F32, DType::F16));
    let w32 = reg.variable("mp/w").unwrap();
    assert!(w32.ptr_eq(&w16));

    let mut tape = Tape::<f32>::new();
    let x = tape.variable(&w16).unwrap();
    let seen = tape.value(x).unwrap()[[0]];
    assert_eq!(seen, half::f16::from_f32(0.1).to_f32());
    assert_ne!(seen, 0.1f32);
    let loss = tape.sum_all(x).unwrap();
    Sgd::new(0.5).minimize(&tape, loss).unwrap();
    // The float32 master took the update at full precision.
    assert_eq!(w32.value().to_f64_vec(), [f64::from(0.1f32 - 0.5)]);
    assert!(matches!(
        reg.variable("mp/w").unwrap().cast_read(DType::I32),
        Err(Error::CastRead { .. })
    ));
}
