//! Hostile input gets typed errors, never a panic, and a refused call leaves the registry as
//! it was: strange names (unicode, control characters, a megabyte of text), 10,000 nested
//! scopes, empty shapes, and shapes too large to allocate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use scope::{DType, Error, Initializer, Registry, Tensor, VarSpec, Variable, VariableOptions};

/// Counts the bytes this thread allocates, so that a test can show a refused shape was
/// refused *before* its buffer was allocated. Per thread, so parallel tests do not mix.
struct ThreadCounting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    // `try_with`: allocations during thread teardown are not counted.
    let _ = ALLOCATED.try_with(|a| a.set(a.get().saturating_add(bytes)));
}

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for ThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which we forward.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (all allocations go through us).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        // SAFETY: as for `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: ThreadCounting = ThreadCounting;

/// Bytes this thread allocated while running `f`.
fn allocated_by<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATED.with(Cell::get);
    let r = f();
    (r, ALLOCATED.with(Cell::get) - before)
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
