//! Runtime behaviour of the registry beyond the TF conformance corpus: the seed programs'
//! lines, shared storage, failed calls changing nothing, guards, and threads.

use std::sync::{Arc, Barrier};

use scope::{
    Collection, DType, Error, Initializer, Registry, Reuse, Tensor, VarSpec, Variable,
    VariableOptions,
};

fn shape(s: &[usize]) -> VarSpec {
    VarSpec::new().shape(s)
}

#[test]
fn seed_name_scope_lines() -> Result<(), Error> {
    let reg = Registry::new();
    let _ns = reg.name_scope("a_name_scope").enter()?;
    let var1 = reg.get_variable("var1", shape(&[1]).initializer(Initializer::Constant(1.0)))?;
    let var2 = Variable::new(&reg, "var2", [2.0f32])?;
    let var21 = Variable::new(&reg, "var2", [2.1f32])?;
    let var22 = Variable::new(&reg, "var2", [2.2f32])?;
    let lines: Vec<String> = [var1, var2, var21, var22]
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "var1:0 [1.0]",
            "a_name_scope/var2:0 [2.0]",
            "a_name_scope/var2_1:0 [2.1]",
            "a_name_scope/var2_2:0 [2.2]"
        ]
    );
    Ok(())
}

#[test]
fn seed_variable_scope_lines() -> Result<(), Error> {
    let reg = Registry::new();
    let scope = reg.variable_scope("a_variable_scope").enter()?;
    let var3 = reg.get_variable("var3", shape(&[1]).initializer(Initializer::Constant(3.0)))?;
    scope.reuse_variables();
    let var3_reuse = reg.get_variable("var3", VarSpec::new())?;
    let var4 = Variable::new(&reg, "var4", [4.0f32])?;
    let var4_reuse = Variable::new(&reg, "var4", [4.0f32])?;
    let lines: Vec<String> = [&var3, &var3_reuse, &var4, &var4_reuse]
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "a_variable_scope/var3:0 [3.0]",
            "a_variable_scope/var3:0 [3.0]",
            "a_variable_scope/var4:0 [4.0]",
            "a_variable_scope/var4_1:0 [4.0]"
        ]
    );
    assert!(var3.ptr_eq(&var3_reuse));
    assert!(!var4.ptr_eq(&var4_reuse));
    Ok(())
}

#[test]
fn every_holder_sees_every_update() -> Result<(), Error> {
    let reg = Registry::new();
    let a = reg
        .variable_scope("m")
        .with(|_| reg.get_variable("w", shape(&[2, 2])))?;
    let b = reg
        .variable_scope("m")
        .reuse(true)
        .with(|_| reg.get_variable("w", VarSpec::new()))?;
    a.write().as_f32_mut().expect("float32")[3] = 7.5;
    assert_eq!(b.read().as_f32().expect("float32")[3], 7.5);
    assert!(a.ptr_eq(&b));
    assert!(b.assign(Tensor::zeros(DType::F64, &[2, 2])?).is_err());
    assert!(b.assign(Tensor::zeros(DType::F32, &[4])?).is_err());
    Ok(())
}

#[test]
fn failed_calls_change_nothing() -> Result<(), Error> {
    let reg = Registry::new();
    reg.get_variable("w", shape(&[1]))?;
    let before = (reg.len(), reg.names_in_use());
    let mistakes: Vec<Result<Variable, Error>> = vec![
        reg.get_variable("w", shape(&[1])),
        reg.get_variable("bad name", shape(&[1])),
        reg.get_variable("nos", VarSpec::new()),
        reg.get_variable("v", shape(&[1]).initializer(Initializer::value([1.0f32]))),
        reg.get_variable("big", shape(&[usize::MAX, 2])),
        reg.get_variable("huge", shape(&[1 << 20, 1 << 20])),
        Variable::new(&reg, "a:b", [1.0f32]),
    ];
    assert!(mistakes.iter().all(Result::is_err));
    assert!(reg.variable_scope("_x").enter().is_err());
    assert!(reg
        .variable_scope(None)
        .reuse(true)
        .default_name("d")
        .enter()
        .is_err());
    assert!(reg.variable_scope(None).enter().is_err());
    assert_eq!((reg.len(), reg.names_in_use()), before);
    assert_eq!(reg.current_variable_scope().name(), "");
    assert_eq!(reg.current_name_scope(), "");
    Ok(())
}

#[test]
fn errors_name_the_variable_the_scope_and_the_fix() -> Result<(), Error> {
    let reg = Registry::new();
    let _s = reg.variable_scope("rnn").enter()?;
    reg.get_variable("w", shape(&[1]))?;
    let msg = reg.get_variable("w", shape(&[1])).unwrap_err().to_string();
    assert!(
        msg.contains("Variable rnn/w already exists, disallowed"),
        "{msg}"
    );
    assert!(
        msg.contains("reuse_variables()") && msg.contains("`rnn`"),
        "{msg}"
    );
    let _inner = reg.variable_scope("x").reuse(Reuse::Yes).enter()?;
    let msg = reg.get_variable("q", shape(&[1])).unwrap_err().to_string();
    assert!(msg.contains("Variable rnn/x/q does not exist") && msg.contains("Reuse::Auto"));
    Ok(())
}

#[test]
fn write_and_initializer_errors_name_the_variable() -> Result<(), Error> {
    let reg = Registry::with_seed(1);
    let _s = reg.variable_scope("enc").enter()?;
    let w = reg.get_variable("w", shape(&[2]))?;
    let e = w.write().copy_from(&Tensor::from([1.0f32])).unwrap_err();
    assert!(
        matches!(&e, Error::AssignMismatch { name, .. } if name == "enc/w"),
        "{e:?}"
    );
    assert!(e.to_string().contains("variable enc/w"), "{e}");
    let e = reg
        .get_variable(
            "u",
            shape(&[2]).initializer(Initializer::random_uniform(1.0, 0.0)),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInitializer { .. }), "{e:?}");
    assert!(e.to_string().contains("enc/u"), "{e}");
    let e = reg
        .get_variable("huge", shape(&[usize::MAX, 2]))
        .unwrap_err();
    assert!(
        matches!(&e, Error::VariableShapeOverflow { name, .. } if name == "enc/huge"),
        "{e:?}"
    );
    Ok(())
}

/// `tf.Variable(1 << 40, dtype=tf.int32)` is refused, not saturated or wrapped; int64
/// values keep every bit.
#[test]
fn variable_values_are_converted_exactly_or_refused() -> Result<(), Error> {
    let reg = Registry::new();
    let named = VariableOptions::named;
    for big in [1i64 << 40, i64::from(i32::MAX) + 1, i64::from(i32::MIN) - 1] {
        let before = reg.names_in_use();
        let e = Variable::new_with(&reg, vec![0, big], named("v").dtype(DType::I32)).unwrap_err();
        match &e {
            Error::ValueOutOfRange { name, dtype, value } => {
                assert_eq!(name, "v");
                assert_eq!(*dtype, DType::I32);
                assert_eq!(value, &big.to_string());
            }
            other => panic!("{big}: expected ValueOutOfRange, got {other:?}"),
        }
        assert!(e.to_string().contains("variable v"), "{e}");
        assert_eq!(
            reg.names_in_use(),
            before,
            "a refused value changed nothing"
        );
    }
    let v = Variable::new_with(
        &reg,
        vec![i64::from(i32::MIN), -1, i64::from(i32::MAX)],
        named("fits").dtype(DType::I32),
    )?;
    assert_eq!(v.value(), Tensor::from(vec![i32::MIN, -1, i32::MAX]));
    let exact = vec![(1i64 << 53) + 1, i64::MAX, i64::MIN];
    let v = Variable::new_with(&reg, exact.clone(), named("wide").dtype(DType::I64))?;
    assert_eq!(v.value(), Tensor::from(exact));
    let v = Variable::new_with(&reg, vec![-7i32, 7], named("widened").dtype(DType::I64))?;
    assert_eq!(v.value(), Tensor::from(vec![-7i64, 7]));
    // Type refusals print the value exactly, as Python would.
    let e = Variable::new_with(&reg, vec![(1i64 << 53) + 1], named("b").dtype(DType::Bool))
        .unwrap_err();
    assert!(
        matches!(&e, Error::InitializerType { value, kind: "int", .. } if value == "9007199254740993"),
        "{e:?}"
    );
    Ok(())
}

#[test]
fn guards_dropped_out_of_order_restore_the_outer_state() -> Result<(), Error> {
    let reg = Registry::new();
    let outer = reg.variable_scope("outer").enter()?;
    let inner = reg.name_scope("inner").enter()?;
    assert_eq!(reg.current_name_scope(), "outer/inner");
    drop(outer);
    assert_eq!(reg.current_name_scope(), "");
    assert_eq!(reg.current_variable_scope().name(), "");
    let again = reg.variable_scope("b").enter()?;
    drop(inner); // already left with `outer`: must not pop `b`
    assert_eq!(reg.current_variable_scope().name(), "b");
    drop(again);
    Ok(())
}

#[test]
fn with_leaves_the_scope_on_error() {
    let reg = Registry::new();
    let r: Result<(), Error> = reg.variable_scope("a").with(|_| {
        reg.get_variable("w", VarSpec::new())?;
        Ok(())
    });
    assert!(matches!(r, Err(Error::MissingShape { .. })));
    assert_eq!(reg.current_variable_scope().name(), "");
}

#[test]
fn scope_defaults_are_inherited() -> Result<(), Error> {
    let reg = Registry::new();
    let v = reg
        .variable_scope("a")
        .dtype(DType::F64)
        .initializer(Initializer::Ones)
        .with(|_| {
            reg.variable_scope("b")
                .with(|_| reg.get_variable("w", shape(&[2])))
        })?;
    assert_eq!(v.dtype(), DType::F64);
    assert_eq!(v.value().to_f64_vec(), vec![1.0, 1.0]);
    let i = reg.get_variable("i", shape(&[2]).dtype(DType::I64))?;
    assert_eq!(i.value().to_f64_vec(), vec![0.0, 0.0]);
    Ok(())
}

#[test]
fn seeded_registries_are_reproducible() -> Result<(), Error> {
    let make = || -> Result<Tensor, Error> {
        let reg = Registry::with_seed(42);
        Ok(reg.get_variable("w", shape(&[3, 4]))?.value())
    };
    assert_eq!(make()?, make()?);
    let other = Registry::with_seed(43)
        .get_variable("w", shape(&[3, 4]))?
        .value();
    assert_ne!(make()?, other);
    Ok(())
}

#[test]
fn collections_filter_by_prefix() -> Result<(), Error> {
    let reg = Registry::new();
    reg.get_variable("x", shape(&[]))?;
    reg.variable_scope("foo_")
        .with(|_| reg.get_variable("y", shape(&[]).trainable(false)))?;
    reg.variable_scope("foo")
        .with(|_| reg.get_variable("z", shape(&[])))?;
    let names = |c, p| {
        reg.collection(c, p)
            .iter()
            .map(|v| v.name().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Collection::Global, Some("foo")), ["foo_/y", "foo/z"]);
    assert_eq!(names(Collection::Trainable, Some("foo")), ["foo/z"]);
    assert_eq!(names(Collection::Trainable, None), ["x", "foo/z"]);
    Ok(())
}

#[test]
fn registry_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Registry>();
    assert_send_sync::<Variable>();
    assert_send_sync::<scope::VariableScope>();
}

/// Two threads build the same model shape at once, each in its own scope: scope stacks are
/// per thread, so neither sees the other's scopes, and the shared uniquifier never hands a
/// name out twice.
#[test]
fn two_threads_build_models_at_once_without_corrupting_names() {
    let reg = Registry::new();
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|tower| {
            let reg = reg.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || -> Result<Vec<String>, Error> {
                barrier.wait();
                let mut names = Vec::new();
                for layer in 0..200 {
                    reg.variable_scope(tower).with(|_| {
                        reg.variable_scope(format!("layer{layer}")).with(|_| {
                            names.push(reg.get_variable("w", shape(&[2]))?.name().to_owned());
                            names.push(Variable::new(&reg, "v", [0.0f32])?.name().to_owned());
                            Ok::<_, Error>(())
                        })
                    })?;
                }
                Ok(names)
            })
        })
        .collect();
    let results: Vec<Vec<String>> = handles
        .into_iter()
        .map(|h| h.join().expect("no panic").expect("no error"))
        .collect();
    for (tower, names) in ["left", "right"].iter().zip(&results) {
        for (layer, pair) in names.chunks(2).enumerate() {
            assert_eq!(pair[0], format!("{tower}/layer{layer}/w"));
            // Each re-entry of `tower` opens a fresh name scope (`left_1`, ...), as in TF.
            let ns = if layer == 0 {
                tower.to_string()
            } else {
                format!("{tower}_{layer}")
            };
            assert_eq!(pair[1], format!("{ns}/layer{layer}/v"));
        }
    }
    assert_eq!(reg.len(), 800);
}
