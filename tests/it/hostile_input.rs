//! Hostile input gets typed errors, never a panic, and a refused call leaves the registry as
//! it was: strange names (unicode, control characters, a megabyte of text), 10,000 nested
//! scopes, empty shapes, and shapes too large to allocate.

use scope::{DType, Error, Initializer, Registry, Tensor, VarSpec, Variable, VariableOptions};

use crate::support::{sstable, tf1};

/// Bytes this thread allocated while running `f`.
fn allocated_by<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let (r, used) = crate::alloc::measure(f);
    (r, used.bytes)
}

/// Everything a caller can observe about a registry and this thread's scopes.
#[derive(Debug, PartialEq)]
struct Snapshot {
    len: usize,
    names_in_use: usize,
    names: Vec<String>,
    name_scope: String,
    variable_scope: String,
}

fn snapshot(reg: &Registry) -> Snapshot {
    Snapshot {
        len: reg.len(),
        names_in_use: reg.names_in_use(),
        names: reg
            .global_variables()
            .iter()
            .map(|v| v.name().to_owned())
            .collect(),
        name_scope: reg.current_name_scope(),
        variable_scope: reg.current_variable_scope().name().to_owned(),
    }
}

/// Runs `op`, which must fail, and checks that it changed nothing.
#[track_caller]
fn refused<T: std::fmt::Debug>(reg: &Registry, op: impl FnOnce() -> Result<T, Error>) -> Error {
    let before = snapshot(reg);
    let err = op().expect_err("hostile input must be refused");
    assert_eq!(
        snapshot(reg),
        before,
        "a refused call changed the registry ({err})"
    );
    // Every error renders without panicking.
    assert!(!err.to_string().is_empty());
    err
}

fn one() -> VarSpec {
    VarSpec::new().shape([1])
}

const STRANGE: &[&str] = &[
    "é",
    "名前",
    "😀",
    "a😀",
    "Ω/w",
    "a\u{0}b",
    "\n\n",
    "a\tb",
    "a\u{7f}",
    "a\u{202e}b",
    "a b",
    "a:b",
    "_lead",
    "-lead",
    "a\u{200b}",
    "\u{feff}a",
    "a\r\n",
];

#[test]
fn unicode_and_control_characters_are_typed_errors() -> Result<(), Error> {
    let reg = Registry::with_seed(1);
    reg.get_variable("existing", one())?;
    for &name in STRANGE {
        let e = refused(&reg, || reg.get_variable(name, one()));
        assert!(matches!(e, Error::InvalidName { .. }), "{name:?}: {e:?}");
        refused(&reg, || Variable::new(&reg, name, [1.0f32]));
        refused(&reg, || reg.new_op_name(name));
        let e = refused(&reg, || reg.variable_scope(name).enter());
        assert!(matches!(e, Error::InvalidName { .. }), "{name:?}: {e:?}");
        let e = refused(&reg, || reg.name_scope(name).enter());
        assert!(matches!(e, Error::InvalidName { .. }), "{name:?}: {e:?}");
        refused(&reg, || {
            reg.variable_scope(None)
                .default_name(name.to_owned())
                .enter()
        });
    }
    // The same names one level down (the nested regex also allows a leading `_`/`-`).
    reg.variable_scope("outer").with(|_| {
        for &name in STRANGE.iter().filter(|n| !n.starts_with(['_', '-'])) {
            refused(&reg, || reg.get_variable(name, one()));
            refused(&reg, || reg.name_scope(name).enter());
        }
        Ok::<_, Error>(())
    })?;
    // Python's `$` lets a scope name end in one newline, so TF opens scope `a\n`; but a
    // variable's node name (`a\n/Initializer`) is refused.
    reg.variable_scope("a\n").with(|_| Ok::<_, Error>(()))?;
    let e = refused(&reg, || reg.get_variable("a\n", one()));
    assert!(matches!(e, Error::InvalidName { .. }), "{e:?}");
    // `unique_name` validates nothing (as TF's), but lower-cases unicode as Python does.
    assert_eq!(reg.unique_name("Σ"), "Σ");
    assert_eq!(reg.unique_name("σ"), "σ_1");
    assert_eq!(reg.unique_name("a\u{0}"), "a\u{0}");
    Ok(())
}

#[test]
fn a_megabyte_of_text_is_refused_or_handled() -> Result<(), Error> {
    let reg = Registry::with_seed(1);
    let megabyte = "a".repeat(1 << 20);
    let garbage: String = (0..1 << 20)
        .map(|i| char::from_u32(i % 0xD000).unwrap_or('x'))
        .collect();
    for name in [&megabyte, &garbage] {
        let e = refused(&reg, || reg.get_variable(name, one()));
        assert!(matches!(e, Error::NameTooLong { .. }), "{e:?}");
        // The message quotes only the start of the name.
        assert!(e.to_string().len() < 1000);
        let e = refused(&reg, || reg.variable_scope(name.as_str()).enter());
        assert!(matches!(e, Error::NameTooLong { .. }));
        let e = refused(&reg, || reg.name_scope(name.as_str()).enter());
        assert!(matches!(e, Error::NameTooLong { .. }));
        let e = refused(&reg, || Variable::new(&reg, name, [0.0f32]));
        assert!(matches!(e, Error::NameTooLong { .. }));
        refused(&reg, || reg.new_op_name(name));
        refused(&reg, || {
            reg.variable_scope(None).default_name(name.clone()).enter()
        });
    }
    // A short name under a scope is refused when the full name is too long.
    let limited = Registry::builder().max_name_len(16).build();
    let _s = limited.variable_scope("abcdefghij").enter()?;
    let e = refused(&limited, || limited.get_variable("klmnopq", one()));
    assert!(matches!(e, Error::NameTooLong { len: 18, .. }), "{e:?}");
    // A registry that accepts long names handles a megabyte name like any other.
    let roomy = Registry::builder().max_name_len(2 << 20).seed(1).build();
    let v = roomy.get_variable(&megabyte, one())?;
    assert_eq!(v.name().len(), 1 << 20);
    let root = roomy.current_variable_scope();
    let again = roomy
        .variable_scope(&root)
        .reuse(true)
        .with(|_| roomy.get_variable(&megabyte, VarSpec::new()))?;
    assert!(again.ptr_eq(&v));
    let w = Variable::new(&roomy, &megabyte, [1.0f32])?;
    assert_eq!(w.name().len(), (1 << 20) + 2, "uniquified to `<name>_1`");
    Ok(())
}

/// Opens `depth` scopes, alternating `variable_scope("v")` and `name_scope("n")`, then
/// checks both helper ops see the full names and that the scopes unwind innermost first and
/// outermost first.
fn nest(reg: &Registry, depth: usize) -> Result<(), Error> {
    let before = snapshot(reg);
    let mut guards = Vec::with_capacity(depth);
    for i in 0..depth {
        if i % 2 == 0 {
            guards.push(Ok(reg.variable_scope("v").enter()?));
        } else {
            guards.push(Err(reg.name_scope("n").enter()?));
        }
    }
    let w = reg.get_variable("w", one())?;
    assert_eq!(w.name().len(), "v/".len() * depth / 2 + 1);
    // The outermost name scope is `v`, or `v_1`, ... when `v` was opened before.
    let first = reg
        .current_name_scope()
        .split('/')
        .next()
        .unwrap_or("")
        .len();
    assert_eq!(reg.current_name_scope().len(), first + 2 * (depth - 1));
    let x = Variable::new(reg, "x", [1.0f32])?;
    assert!(x.name().ends_with("/n/x"));
    // Innermost first, as scopes close.
    while guards.pop().is_some() {}
    assert_eq!(reg.current_name_scope(), "");
    assert_eq!(reg.current_variable_scope().name(), "");
    assert_eq!(reg.len(), before.len + 2);

    // Outermost first: dropping the outer guard leaves every scope inside it.
    for _ in 0..depth / 10 {
        guards.push(Ok(reg.variable_scope("q").enter()?));
    }
    guards.reverse();
    drop(guards);
    assert_eq!(reg.current_variable_scope().name(), "");
    assert_eq!(reg.current_name_scope(), "");
    Ok(())
}

#[test]
fn ten_thousand_nested_scopes_work_and_unwind() -> Result<(), Error> {
    const DEPTH: usize = 10_000;
    // The name stack of 10,000 alternating scopes is 19,999 bytes, over the default limit on
    // a full name: the scope that would cross it is refused, with a typed error, changing
    // nothing, and everything below it still works.
    let reg = Registry::with_seed(1);
    let mut guards = Vec::new();
    let refusal = loop {
        let i = guards.len();
        let before = snapshot(&reg);
        let entered = if i % 2 == 0 {
            reg.variable_scope("v").enter().map(Ok)
        } else {
            reg.name_scope("n").enter().map(Err)
        };
        match entered {
            Ok(g) => guards.push(g),
            Err(e) => {
                assert_eq!(
                    snapshot(&reg),
                    before,
                    "a refused scope changed the registry"
                );
                break e;
            }
        }
        assert!(
            guards.len() < DEPTH,
            "the default limits let {DEPTH} scopes through"
        );
    };
    let limit = scope::DEFAULT_MAX_NAME_LEN;
    match &refusal {
        Error::NameTooLong { len, limit: l, .. } => {
            assert_eq!(*l, limit);
            assert_eq!(
                *len,
                2 * guards.len() + 1,
                "the full name stack was checked"
            );
        }
        other => panic!("expected NameTooLong, got {other:?}"),
    }
    assert!(
        guards.len() >= limit / 2 - 1,
        "refused at depth {}",
        guards.len()
    );
    let w = reg.get_variable("w", one())?;
    assert!(w.name().len() <= limit);
    drop(guards);
    assert_eq!(reg.current_name_scope(), "");

    // A variable name under the deepest scope is checked whole, too.
    let reg = Registry::builder().max_name_len(64).seed(1).build();
    let mut guards = Vec::new();
    while let Ok(g) = reg.variable_scope("abc").enter() {
        guards.push(g);
    }
    let e = refused(&reg, || reg.get_variable("w", one()));
    assert!(matches!(e, Error::NameTooLong { limit: 64, .. }), "{e:?}");
    drop(guards);

    // With the limits raised, 10,000 scopes work and unwind.
    let roomy = Registry::builder()
        .max_name_len(4 * DEPTH)
        .max_scope_depth(2 * DEPTH)
        .seed(1)
        .build();
    nest(&roomy, DEPTH)?;
    // And once more, on the same thread and registry: the first run left nothing behind.
    nest(&roomy, DEPTH / 10)
}

#[test]
fn deep_name_scopes_copy_no_stack_per_frame() -> Result<(), Error> {
    // Each nested name scope extends the stack; its frame records a length, not a copy, so
    // the scope state grows linearly with depth. The registry keeps each scope's name (as
    // TF's `names_in_use` does), and each guard its own scope string.
    const DEPTH: usize = 2000;
    let reg = Registry::with_seed(1);
    let (guards, bytes) = allocated_by(|| {
        (0..DEPTH)
            .map(|_| reg.name_scope("a").enter())
            .collect::<Result<Vec<_>, _>>()
    });
    let guards = guards?;
    assert_eq!(reg.current_name_scope().len(), 2 * DEPTH - 1);
    // The names themselves (in the uniquifier, the guards, and the transient copies of a
    // transition) are about 5 x DEPTH^2 bytes; a copied stack per frame would add 2 x that.
    let names = DEPTH * DEPTH;
    assert!(
        bytes < 8 * names,
        "{bytes} bytes for {DEPTH} nested name scopes"
    );
    drop(guards);
    assert_eq!(reg.current_name_scope(), "");
    Ok(())
}

#[test]
fn scope_depth_limit_is_a_typed_error() -> Result<(), Error> {
    let reg = Registry::builder().max_scope_depth(100).seed(1).build();
    let mut guards = Vec::new();
    for _ in 0..100 {
        guards.push(reg.variable_scope("s").enter()?);
    }
    let e = refused(&reg, || reg.variable_scope("s").enter());
    assert!(
        matches!(
            e,
            Error::ScopeTooDeep {
                depth: 101,
                limit: 100
            }
        ),
        "{e:?}"
    );
    let e = refused(&reg, || reg.name_scope("n").enter());
    assert!(matches!(e, Error::ScopeTooDeep { .. }));
    drop(guards);
    assert!(reg.variable_scope("s").enter().is_ok());
    Ok(())
}

#[test]
fn zero_sized_shapes_make_empty_variables() -> Result<(), Error> {
    let reg = Registry::with_seed(1);
    for (i, shape) in [
        vec![0],
        vec![3, 0],
        vec![0, 5],
        vec![0, 0, 0],
        vec![0, usize::MAX],
    ]
    .into_iter()
    .enumerate()
    {
        for dtype in DType::ALL {
            let v = reg.get_variable(
                &format!("e{i}_{}", dtype.name()),
                VarSpec::new().shape(&shape).dtype(dtype),
            )?;
            assert_eq!(v.shape(), shape.as_slice());
            assert_eq!(v.numel(), 0);
            assert!(v.value().is_empty());
            assert_eq!(v.to_string(), format!("{}:0 []", v.name()));
        }
    }
    let empty = Variable::new(&reg, "empty", Vec::<f32>::new())?;
    assert_eq!(empty.shape(), &[0]);
    let scalar = reg.get_variable("scalar", VarSpec::new().shape([]))?;
    assert_eq!(scalar.numel(), 1);
    Ok(())
}

#[test]
fn overflowing_and_oversized_shapes_are_refused_before_allocating() -> Result<(), Error> {
    let reg = Registry::builder().max_elements(1_000_000).seed(1).build();
    reg.get_variable("ok", VarSpec::new().shape([1000, 1000]))?;
    for shape in [
        vec![usize::MAX, 2],
        vec![1 << 40, 1 << 40],
        vec![2, 3, usize::MAX / 2],
    ] {
        let (e, bytes) = allocated_by(|| {
            refused(&reg, || {
                reg.get_variable("big", VarSpec::new().shape(&shape))
            })
        });
        match &e {
            Error::VariableShapeOverflow { name, shape: s } => {
                assert_eq!(name, "big");
                assert_eq!(s, &shape);
            }
            other => panic!("{shape:?}: expected VariableShapeOverflow, got {other:?}"),
        }
        assert!(e.to_string().contains("variable big"), "{e}");
        assert!(
            bytes < 1 << 16,
            "{bytes} bytes allocated for a refused shape"
        );
    }
    for (shape, dtype) in [
        (vec![1_000_001], DType::F32),
        (vec![1001, 1000], DType::F64),
        (vec![1 << 20, 1 << 20], DType::Bool),
        (vec![usize::MAX / 4], DType::I64),
    ] {
        let spec = VarSpec::new().shape(&shape).dtype(dtype);
        let (e, bytes) = allocated_by(|| refused(&reg, || reg.get_variable("big", spec)));
        match e {
            Error::TooLarge {
                numel,
                limit: 1_000_000,
                ..
            } => assert!(numel > 1_000_000),
            other => panic!("{shape:?}: expected TooLarge, got {other:?}"),
        }
        assert!(
            bytes < 1 << 16,
            "{bytes} bytes allocated for a refused shape"
        );
    }
    // With a scope initializer too, and through tf.Variable with a value over the limit.
    reg.variable_scope("init")
        .initializer(Initializer::random_normal(0.0, 1.0))
        .with(|_| {
            let e = refused(&reg, || {
                reg.get_variable("big", VarSpec::new().shape([2_000_000]))
            });
            assert!(matches!(e, Error::TooLarge { .. }));
            Ok::<_, Error>(())
        })?;
    let value = Tensor::zeros(DType::F32, &[1_000_001])?;
    let e = refused(&reg, || {
        Variable::new_with(&reg, value.clone(), VariableOptions::named("v"))
    });
    assert!(matches!(e, Error::TooLarge { .. }));
    // A tensor whose own shape overflows cannot even be built.
    assert!(matches!(
        Tensor::zeros(DType::F32, &[usize::MAX, usize::MAX]),
        Err(Error::ShapeOverflow { .. })
    ));
    Ok(())
}

#[test]
fn bad_initializer_parameters_are_typed_errors() -> Result<(), Error> {
    let reg = Registry::with_seed(1);
    for init in [
        Initializer::random_normal(0.0, -1.0),
        Initializer::random_normal(0.0, f64::NAN),
        Initializer::random_normal(f64::INFINITY, 1.0),
        Initializer::random_uniform(1.0, 0.0),
        Initializer::random_uniform(f64::NEG_INFINITY, f64::INFINITY),
        Initializer::random_uniform(f64::NAN, 1.0),
    ] {
        let e = refused(&reg, || {
            reg.get_variable("w", VarSpec::new().shape([2]).initializer(init.clone()))
        });
        assert!(
            matches!(e, Error::InvalidInitializer { .. }),
            "{init:?}: {e:?}"
        );
    }
    // The message names the variable, with its scope.
    let e = reg.variable_scope("enc").with(|_| {
        refused(&reg, || {
            reg.get_variable(
                "w",
                VarSpec::new()
                    .shape([2])
                    .initializer(Initializer::random_normal(0.0, -1.0)),
            )
        });
        reg.get_variable(
            "w",
            VarSpec::new()
                .shape([2])
                .initializer(Initializer::random_normal(0.0, -1.0)),
        )
        .map(|_| ())
    });
    let e = e.expect_err("a negative stddev is refused");
    assert!(e.to_string().contains("enc/w"), "{e}");
    Ok(())
}

#[test]
fn odd_but_legal_names_never_panic() {
    let reg = Registry::with_seed(1);
    let names = [
        "/",
        "//",
        "a//b",
        "a/",
        "a/b/",
        ".",
        "..",
        "./a",
        "a\\b",
        ">",
        "a>b",
        "0",
        "a-",
        "A",
        "a",
        "A_1",
        "a_1",
        "a_01",
        "a_4294967295",
        "a_4294967296",
        "a_99999999999999",
    ];
    for name in names {
        // Whatever TF's rules make of these, the answer is a value or a typed error.
        let before = snapshot(&reg);
        match reg.get_variable(name, one()) {
            Ok(v) => assert!(!v.name().is_empty()),
            Err(_) => assert_eq!(snapshot(&reg), before),
        }
        let before = snapshot(&reg);
        if Variable::new(&reg, name, [1.0f32]).is_err() {
            assert_eq!(snapshot(&reg), before);
        }
        let _ = reg.new_op_name(name);
        let _ = reg.unique_name(name);
        if let Ok(g) = reg.name_scope(name).enter() {
            let _ = reg.get_variable(name, one());
            drop(g);
        }
        if let Ok(g) = reg.variable_scope(name).enter() {
            let _ = reg.get_variable(name, one());
            drop(g);
        }
    }
    assert_eq!(reg.current_name_scope(), "");
}

// ----- tape ops: bad ranks and shapes (issue #15, item 1) --------------------------------------

/// Shapes of rank 0 to 3, with empty, unit and odd extents.
const SHAPES: &[&[usize]] = &[
    &[],
    &[0],
    &[1],
    &[2],
    &[3],
    &[8],
    &[0, 3],
    &[1, 1],
    &[1, 3],
    &[2, 3],
    &[3, 2],
    &[2, 8],
    &[1, 1, 1],
    &[2, 3, 1],
    &[2, 3, 4],
];

fn filled(shape: &[usize]) -> ndarray::ArrayD<f64> {
    ndarray::ArrayD::from_shape_fn(shape, |ix| {
        ndarray::Dimension::slice(&ix).iter().sum::<usize>() as f64 * 0.1
    })
}

/// Runs one op on fresh leaves of `shapes`; if it succeeds, differentiates through it too.
/// Returns whether it succeeded; panics inside are caught and reported as the test failure.
/// One tape op under test: builds on the leaves, returns the nodes to differentiate.
type TapeOp<'a> = dyn Fn(
        &mut scope::tape::Tape<f64>,
        &[scope::tape::NodeId],
    ) -> Result<Vec<scope::tape::NodeId>, scope::TrainError>
    + 'a;

fn try_op(what: &str, shapes: &[&[usize]], op: &TapeOp<'_>) -> bool {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut tape = scope::tape::Tape::<f64>::new();
        let leaves: Vec<_> = shapes.iter().map(|s| tape.constant(filled(s))).collect();
        match op(&mut tape, &leaves) {
            Ok(outs) => {
                for out in outs {
                    let loss = tape.sum_all(out).expect("sum_all of a result");
                    tape.backward(loss).expect("backward through a result");
                }
                true
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                false
            }
        }
    }));
    match run {
        Ok(ok) => ok,
        Err(_) => panic!("{what} on shapes {shapes:?} panicked instead of returning TrainError"),
    }
}

#[test]
fn every_tape_op_refuses_bad_shapes_without_panicking() {
    use scope::tape::NodeId;
    use scope::TrainError;
    let one = |r: Result<NodeId, TrainError>| r.map(|n| vec![n]);
    // The three cases the adversarial read found, in `Tape::concat`.
    for shapes in [
        &[&[1usize, 1, 1][..], &[1, 1][..]][..],
        &[&[2, 3][..], &[2][..]][..],
        &[&[3][..], &[][..]][..],
        &[&[][..], &[3][..]][..],
    ] {
        for axis in 0..3 {
            assert!(
                !try_op("concat", shapes, &|t, n| one(t.concat(n, axis))),
                "concat of {shapes:?} on axis {axis} must be refused"
            );
        }
    }
    // Every op, on every pair of shapes (and every shape alone), in every axis: a result that
    // differentiates, or a typed error.
    let mut accepted = 0;
    for &a in SHAPES {
        let unary: [(&str, Box<TapeOp<'_>>); 14] = [
            ("relu", Box::new(|t, n| one(t.relu(n[0])))),
            ("sigmoid", Box::new(|t, n| one(t.sigmoid(n[0])))),
            ("tanh", Box::new(|t, n| one(t.tanh(n[0])))),
            ("square", Box::new(|t, n| one(t.square(n[0])))),
            ("sum_all", Box::new(|t, n| one(t.sum_all(n[0])))),
            ("sum 0,1", Box::new(|t, n| one(t.sum(n[0], &[0, 1])))),
            ("sum 1,1", Box::new(|t, n| one(t.sum(n[0], &[1, 1])))),
            ("mean 0", Box::new(|t, n| one(t.mean(n[0], &[0])))),
            ("mean 2", Box::new(|t, n| one(t.mean(n[0], &[2])))),
            ("reshape [6]", Box::new(|t, n| one(t.reshape(n[0], &[6])))),
            (
                "reshape [0, big]",
                Box::new(|t, n| one(t.reshape(n[0], &[0, usize::MAX]))),
            ),
            ("split 1 [1, 2]", Box::new(|t, n| t.split(n[0], 1, &[1, 2]))),
            (
                "split 0 [max, 2]",
                Box::new(|t, n| t.split(n[0], 0, &[usize::MAX, 2])),
            ),
            (
                "slice 0 1..max",
                Box::new(|t, n| one(t.slice(n[0], 0, 1, usize::MAX))),
            ),
        ];
        for (what, op) in &unary {
            accepted += usize::from(try_op(what, &[a], op.as_ref()));
        }
        for axis in 0..4 {
            accepted += usize::from(try_op(
                "slice",
                &[a],
                &|t, n| one(t.slice(n[0], axis, 1, 1)),
            ));
            accepted += usize::from(try_op("concat x1", &[a], &|t, n| {
                one(t.concat(&[n[0]], axis))
            }));
        }
        for &b in SHAPES {
            let binary: [(&str, Box<TapeOp<'_>>); 12] = [
                ("matmul", Box::new(|t, n| one(t.matmul(n[0], n[1])))),
                (
                    "attention_probs",
                    Box::new(|t, n| one(t.attention_probs(n[0], n[0], n[1], 2, 0.5))),
                ),
                (
                    "attention_context",
                    Box::new(|t, n| one(t.attention_context(n[0], n[1]))),
                ),
                (
                    "masked_softmax",
                    Box::new(|t, n| one(t.masked_softmax(n[0], n[1], 0.5))),
                ),
                ("bias_gelu", Box::new(|t, n| one(t.bias_gelu(n[0], n[1])))),
                (
                    "batch_matmul",
                    Box::new(|t, n| one(t.batch_matmul(n[0], n[1], false, true))),
                ),
                (
                    "layer_norm",
                    Box::new(|t, n| one(t.layer_norm(n[0], n[1], n[1], 1e-3))),
                ),
                ("add", Box::new(|t, n| one(t.add(n[0], n[1])))),
                ("sub", Box::new(|t, n| one(t.sub(n[0], n[1])))),
                ("mul", Box::new(|t, n| one(t.mul(n[0], n[1])))),
                ("lstm_c", Box::new(|t, n| one(t.lstm_c(n[0], n[1], 1.0)))),
                ("lstm_h", Box::new(|t, n| one(t.lstm_h(n[0], n[1])))),
            ];
            for (what, op) in &binary {
                accepted += usize::from(try_op(what, &[a, b], op.as_ref()));
            }
            for axis in 0..4 {
                accepted += usize::from(try_op("concat", &[a, b], &|t, n| one(t.concat(n, axis))));
                accepted += usize::from(try_op("concat x3", &[a, b, a], &|t, n| {
                    one(t.concat(n, axis))
                }));
            }
        }
    }
    // Not everything was refused: the grid holds plenty of valid calls.
    assert!(accepted > 500, "only {accepted} calls succeeded");
}

#[test]
fn tape_results_too_large_to_allocate_are_typed_errors() {
    use scope::tape::Tape;
    // `[n, 0] · [0, n]` is n² zeros from empty operands; `[n, 1] + [1, n]` is n² elements
    // from 2n. 2^44 float32s is 64 TiB: the allocator refuses, the op says so.
    let n = 1usize << 22;
    let mut tape = Tape::<f32>::new();
    let a = tape.constant(ndarray::ArrayD::zeros(vec![n, 0]));
    let b = tape.constant(ndarray::ArrayD::zeros(vec![0, n]));
    let e = tape.matmul(a, b).expect_err("a 64 TiB product");
    assert!(e.to_string().contains("cannot be allocated"), "{e}");
    let col = tape.constant(ndarray::ArrayD::zeros(vec![n, 1]));
    let row = tape.constant(ndarray::ArrayD::zeros(vec![1, n]));
    for r in [tape.add(col, row), tape.mul(col, row), tape.sub(row, col)] {
        let e = r.expect_err("a 64 TiB broadcast");
        assert!(e.to_string().contains("cannot be allocated"), "{e}");
    }
    // Sizes past `isize::MAX` elements are refused before the allocator is asked.
    let wide = tape.constant(ndarray::ArrayD::zeros(vec![0, usize::MAX / 2]));
    let tall = tape.constant(ndarray::ArrayD::zeros(vec![usize::MAX / 2, 0]));
    assert!(tape.matmul(tall, wide).is_err());
    assert!(tape.concat(&[wide, wide, wide], 1).is_err());
}

// ----- two registries (issue #15, item 2) ------------------------------------------------------

#[test]
fn variables_of_two_registries_are_never_confused() -> Result<(), scope::TrainError> {
    use scope::optim::{Optimizer, Sgd};
    use scope::tape::{Gradients, Tape};
    // Each registry's first variable: before ids were unique per process, both had id 1.
    let (r1, r2) = (Registry::with_seed(1), Registry::with_seed(2));
    let ones = |n| VarSpec::new().shape([n]).initializer(Initializer::Ones);
    let w1 = r1.get_variable("w", ones(2))?;
    let w2 = r2.get_variable("w", ones(3))?;
    assert_ne!(w1.id(), w2.id());

    let mut tape = Tape::<f32>::new();
    let (n1, n2) = (tape.variable(&w1)?, tape.variable(&w2)?);
    assert_ne!(n1, n2, "w2 got w1's leaf");
    assert_eq!(tape.value(n2)?.shape(), &[3]);
    let (s1, s2) = (tape.sum_all(n1)?, tape.sum_all(n2)?);
    let two = tape.constant(ndarray::arr0(2.0f32).into_dyn());
    let s2 = tape.mul(s2, two)?;
    let loss = tape.add(s1, s2)?;
    let grads = tape.backward(loss)?;
    assert_eq!(grads.variable(&w2).unwrap().as_slice().unwrap(), &[2.0; 3]);
    let grads = grads.into_gradients();
    assert_eq!(grads.len(), 2);
    assert_eq!(grads.get(&w1).unwrap().as_slice().unwrap(), &[1.0; 2]);
    assert_eq!(grads.get(&w2).unwrap().as_slice().unwrap(), &[2.0; 3]);

    // `add` and `merge` keep them apart (with different shapes they used to panic).
    let mut sum = Gradients::new();
    sum.add(&w1, ndarray::ArrayD::from_elem(vec![2], 1.0f32))?;
    sum.add(&w2, ndarray::ArrayD::from_elem(vec![3], 1.0f32))?;
    sum.merge(&grads)?;
    assert_eq!(sum.get(&w1).unwrap().as_slice().unwrap(), &[2.0; 2]);
    assert_eq!(sum.get(&w2).unwrap().as_slice().unwrap(), &[3.0; 3]);

    // SGD moves each by its own gradient.
    Sgd::new(0.5).apply(&sum)?;
    assert_eq!(w1.read().as_f32().unwrap(), &[0.0; 2]);
    assert_eq!(w2.read().as_f32().unwrap(), &[-0.5; 3]);
    Ok(())
}

// ----- optimizer settings that would write garbage (issue #15, item 7) -------------------------

#[test]
fn optimizers_refuse_settings_that_write_garbage_and_write_nothing(
) -> Result<(), Box<dyn std::error::Error>> {
    use scope::checkpoint::{to_safetensors_bytes, Restore, SafetensorsCheckpoint};
    use scope::optim::{Adam, Optimizer, Sgd};
    use scope::tape::Gradients;
    use scope::TrainError;
    let reg = Registry::with_seed(1);
    let w = reg.get_variable(
        "w",
        VarSpec::new().shape([3]).initializer(Initializer::Ones),
    )?;
    let mut grads = Gradients::new();
    grads.add(&w, ndarray::ArrayD::from_elem(vec![3], 1.0f32))?;
    for lr in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.1] {
        for check in [false, true] {
            let e = Sgd::new(lr)
                .check_finite(check)
                .apply(&grads)
                .expect_err("a bad rate");
            assert!(matches!(e, TrainError::Config { .. }), "{lr}: {e:?}");
            assert!(e.to_string().contains("learning_rate"), "{e}");
            assert_eq!(w.read().as_f32().unwrap(), &[1.0; 3], "SGD({lr}) wrote");
        }
    }

    // Adam's beta powers are variables: a checkpoint can bring back any value.
    let mut adam = reg
        .variable_scope("train")
        .with(|_| Adam::new(&reg, 0.1, std::slice::from_ref(&w)))?;
    let good = reg.global_variables();
    let before: Vec<_> = good.iter().map(Variable::value).collect();
    for (p1, p2) in [
        (1.5, 0.999),
        (0.9, 1.0),
        (-0.5, 0.999),
        (f32::NAN, 0.999),
        (0.9, f32::INFINITY),
    ] {
        adam.beta1_power().assign(p1)?;
        adam.beta2_power().assign(p2)?;
        let ckpt =
            SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&reg, &Default::default())?)?;
        adam.beta1_power().assign(0.9f32)?;
        adam.beta2_power().assign(0.999f32)?;
        Restore::new(&reg).restore(&ckpt)?;
        let e = adam.apply(&grads).expect_err("beta powers outside [0, 1)");
        assert!(
            matches!(e, TrainError::Config { .. }),
            "({p1}, {p2}): {e:?}"
        );
        assert!(e.to_string().contains("train/beta1_power"), "{e}");
        let (b1, b2) = (adam.beta1_power().value(), adam.beta2_power().value());
        for (v, old) in good.iter().zip(&before) {
            if !v.ptr_eq(adam.beta1_power()) && !v.ptr_eq(adam.beta2_power()) {
                assert_eq!(&v.value(), old, "({p1}, {p2}) wrote {}", v.name());
            }
        }
        // The powers themselves are left as restored, not advanced.
        assert_eq!(b1.as_f32().unwrap()[0].to_bits(), p1.to_bits());
        assert_eq!(b2.as_f32().unwrap()[0].to_bits(), p2.to_bits());
    }
    // Back in range, Adam steps against the gradient.
    adam.beta1_power().assign(0.9f32)?;
    adam.beta2_power().assign(0.999f32)?;
    adam.apply(&grads)?;
    assert!(w.read().as_f32().unwrap().iter().all(|&x| x < 1.0));
    Ok(())
}

// ----- out of memory is a typed error, not an abort (issue #15, item 5) ------------------------

/// Set in the child process: which allocation-failure case to run.
const OOM_CASE: &str = "SCOPE_HOSTILE_OOM_CASE";
/// The child's address-space limit, in KiB (`ulimit -v`): under 2 GiB, so a 2 GiB buffer
/// can never be had, whatever the machine.
const OOM_LIMIT_KIB: u64 = 2_000_000;

/// Each case runs in a child process (this test binary again, filtered to this test) under
/// `ulimit -v`, where an infallible allocation of the size asked for aborts the process. The
/// child passes only if the library returned a typed error.
#[test]
fn allocation_failure_under_a_memory_limit_is_a_typed_error() {
    if let Ok(case) = std::env::var(OOM_CASE) {
        oom_case(&case);
        println!("oom case {case}: typed error");
        return;
    }
    if !cfg!(target_os = "linux") {
        return; // `ulimit -v` is how the limit is set; elsewhere it may not exist.
    }
    let exe = std::env::current_exe().unwrap();
    // This test's name as the harness knows it (`hostile_input::allocation_..` in `it`).
    let name = module_path!().split_once("::").map_or_else(
        || "allocation_failure_under_a_memory_limit_is_a_typed_error".to_owned(),
        |(_, module)| format!("{module}::allocation_failure_under_a_memory_limit_is_a_typed_error"),
    );
    for case in ["variable_cast", "tf_read_tensor", "safetensors_open"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {OOM_LIMIT_KIB} && exec \"$0\" \"$@\""))
            .arg(&exe)
            .args(["--exact", &name, "--nocapture", "--test-threads=1"])
            .env(OOM_CASE, case)
            .output()
            .expect("run the test binary under ulimit -v");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(
            out.status.success() && stdout.contains(&format!("oom case {case}: typed error")),
            "{case} under ulimit -v {OOM_LIMIT_KIB}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            out.status
        );
    }
}

/// One allocation failure, run in the limited child.
fn oom_case(case: &str) {
    use scope::checkpoint::{
        CheckpointError, CheckpointSource, SafetensorsCheckpoint, TfCheckpoint,
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hostile-oom-{case}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // float32 [2^31]: 8 GiB of data, held by a sparse file that costs no disk.
    const N: u64 = 1 << 31;
    let sparse = |path: &std::path::Path, prefix: &[u8]| {
        let mut f = std::fs::File::create(path).unwrap();
        std::io::Write::write_all(&mut f, prefix).unwrap();
        f.set_len(prefix.len() as u64 + 4 * N).unwrap();
    };
    match case {
        // bool [2^28] is 256 MiB; as float64 it is 2 GiB.
        "variable_cast" => {
            let reg = Registry::with_seed(1);
            let value = Tensor::from_bool(&[1 << 28], vec![true; 1 << 28]).unwrap();
            let e =
                Variable::new_with(&reg, value, VariableOptions::named("big").dtype(DType::F64))
                    .expect_err("2 GiB under a 2 GB limit");
            assert!(
                matches!(&e, Error::VariableShapeOverflow { name, .. } if name == "big"),
                "{e:?}"
            );
            assert_eq!(reg.len(), 0, "a refused variable was registered");
        }
        "tf_read_tensor" => {
            let prefix = dir.join("model.ckpt");
            std::fs::write(dir.join("model.ckpt.index"), tf_index_of_one_float32(N)).unwrap();
            sparse(&dir.join("model.ckpt.data-00000-of-00001"), &[]);
            let ckpt = TfCheckpoint::open(&prefix).expect("the index is valid");
            assert_eq!(ckpt.tensors()[0].shape, [N as usize]);
            match ckpt.read_tensor("big") {
                Err(CheckpointError::OutOfMemory { name, bytes, .. }) => {
                    assert_eq!((name.as_str(), bytes), ("big", 4 * N));
                }
                other => panic!("expected OutOfMemory, got {other:?}"),
            }
        }
        "safetensors_open" => {
            let header = format!(
                r#"{{"big":{{"dtype":"F32","shape":[{N}],"data_offsets":[0,{}]}}}}"#,
                4 * N
            );
            let mut head = (header.len() as u64).to_le_bytes().to_vec();
            head.extend_from_slice(header.as_bytes());
            let path = dir.join("model.safetensors");
            sparse(&path, &head);
            match SafetensorsCheckpoint::open(&path) {
                Err(CheckpointError::Io { source, .. }) => {
                    assert_eq!(source.kind(), std::io::ErrorKind::OutOfMemory, "{source}");
                }
                other => panic!("expected an out-of-memory Io error, got {other:?}"),
            }
        }
        other => panic!("unknown case {other}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A TF checkpoint index (a LevelDB table) holding the bundle header and one entry: `big`,
/// float32 of shape `[n]` at offset 0 of shard 0.
fn tf_index_of_one_float32(n: u64) -> Vec<u8> {
    let entry = tf1::Entry {
        dtype: tf1::dtype_code(DType::F32),
        shape: vec![n],
        size: 4 * n,
        crc32c: 0, // never reached
        ..tf1::Entry::default()
    };
    sstable::table(&[(b"", &tf1::header(1)), (b"big", &entry.encode())])
}
