//! The macros end to end: the seed RNN's parameters, declared with `model!` in
//! `scope::seed_rnn`, create TF's six names, share them with reuse, and refuse to create them
//! twice without it.

use scope::{model, variable_scope, Error, ManifestEntry, Model, Registry, Variable};

// The seed RNN's parameters as the library declares them, once, with `model!` (an input layer,
// TF's BasicLSTMCell as a nested hand-written `Model`, an output layer).
use scope::seed_rnn::SeedRnnParams as Rnn;

const SEED_NAMES: [(&str, &[usize]); 6] = [
    ("rnn/input_layer/weights", &[10, 11]),
    ("rnn/input_layer/biases", &[11]),
    ("rnn/cell/basic_lstm_cell/kernel", &[22, 44]),
    ("rnn/cell/basic_lstm_cell/bias", &[44]),
    ("rnn/output_layer/weights", &[11, 2]),
    ("rnn/output_layer/biases", &[2]),
];

#[test]
fn the_seed_rnn_creates_tfs_six_trainable_names() {
    let reg = Registry::with_seed(1);
    let rnn = Rnn::new(&reg, 10, 11, 2).unwrap();
    let got: Vec<(String, Vec<usize>)> = reg
        .trainable_variables()
        .iter()
        .map(|v| (v.name().to_owned(), v.shape().to_vec()))
        .collect();
    let want: Vec<(String, Vec<usize>)> = SEED_NAMES
        .iter()
        .map(|(n, s)| ((*n).to_owned(), s.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(reg.len(), 6);
    assert_eq!(rnn.scope_name(), "rnn");
    let listed: Vec<String> = rnn.variables().into_iter().map(|(n, _)| n).collect();
    let want_names: Vec<&str> = SEED_NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(listed, want_names);
    assert_eq!(rnn.input_layer_weights.name(), "rnn/input_layer/weights");
}

/// The seed's own shape: `with tf.variable_scope('rnn') as scope:` builds the train RNN,
/// `scope.reuse_variables()`, then the test RNN; the RNN opens no scope of its own.
#[test]
fn build_here_builds_in_the_callers_scope_as_the_seed_does() {
    let reg = Registry::with_seed(4);
    let (train, test) = reg
        .variable_scope("rnn")
        .with(|scope| {
            let train = Rnn::build_here(&reg, (10, 11, 2))?;
            scope.reuse_variables();
            let test = Rnn::build_here(&reg, (10, 11, 2))?;
            Ok::<_, Error>((train, test))
        })
        .unwrap();
    let names: Vec<String> = train.variables().into_iter().map(|(n, _)| n).collect();
    let want: Vec<&str> = SEED_NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, want);
    assert!(train.shares_storage_with(&test));
    assert_eq!(train.scope_name(), "rnn");
    assert_eq!(train.cell_lstm.kernel().shape(), &[22, 44]);
    // The wrong way: two scopes, two parameter sets.
    let a = reg
        .variable_scope("train_rnn")
        .with(|_| Rnn::build_here(&reg, (10, 11, 2)))
        .unwrap();
    let b = reg
        .variable_scope("test_rnn")
        .with(|_| Rnn::build_here(&reg, (10, 11, 2)))
        .unwrap();
    assert_eq!(
        a.input_layer_weights.tensor_name(),
        "train_rnn/input_layer/weights:0"
    );
    assert_eq!(
        b.input_layer_weights.tensor_name(),
        "test_rnn/input_layer/weights:0"
    );
    assert!(!a.shares_storage_with(&b));
}

#[test]
fn train_and_test_share_every_variable_with_reuse() {
    let reg = Registry::with_seed(2);
    let train = Rnn::new(&reg, 10, 11, 2).unwrap();
    reg.reuse_variables();
    let test = Rnn::new(&reg, 10, 11, 2).unwrap();
    assert!(train.shares_storage_with(&test));
    assert_eq!(reg.len(), 6);
    for ((a_name, a), (b_name, b)) in train.variables().iter().zip(test.variables()) {
        assert_eq!(a_name, &b_name);
        assert!(a.ptr_eq(&b), "{a_name} is not shared");
    }
}

#[test]
fn without_reuse_the_second_build_fails_on_the_first_variable() {
    let reg = Registry::with_seed(3);
    let _train = Rnn::new(&reg, 10, 11, 2).unwrap();
    let err = Rnn::new(&reg, 10, 11, 2).unwrap_err();
    match &err {
        Error::AlreadyExists { name, .. } => assert_eq!(name, "rnn/input_layer/weights"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(err.to_string().contains("rnn/input_layer/weights"));
    // The failed build left every scope it opened.
    assert_eq!(reg.current_variable_scope().name(), "");
    assert_eq!(reg.len(), 6);
}

#[test]
fn separate_instances_without_sharing_are_not_shared() {
    let reg = Registry::with_seed(4);
    let a = reg
        .variable_scope("a")
        .with(|_| Rnn::new(&reg, 3, 4, 2))
        .unwrap();
    let b = reg
        .variable_scope("b")
        .with(|_| Rnn::new(&reg, 3, 4, 2))
        .unwrap();
    assert_eq!(a.scope_name(), "a/rnn");
    assert!(!a.shares_storage_with(&b));
}

#[test]
fn the_manifest_is_available_without_building() {
    let flat = Rnn::manifest();
    let paths: Vec<&str> = flat.iter().map(|(p, _)| p.as_str()).collect();
    let want: Vec<&str> = SEED_NAMES
        .iter()
        .map(|(n, _)| n.strip_prefix("rnn/").unwrap())
        .collect();
    assert_eq!(paths, want);
    let (_, kernel) = &flat[2];
    // A nested model's manifest is its own: the cell's shape expression, in its own terms.
    assert_eq!(
        kernel.shape,
        Some("[input_size + num_units, 4 * num_units]")
    );
    assert_eq!(kernel.initializer, None);
    let (_, weights) = &flat[0];
    assert_eq!(weights.initializer, Some("random_normal(0.0, 0.5)"));
    assert!(weights.trainable);
    assert_eq!(Rnn::SCOPE, "rnn");
    assert!(matches!(
        Rnn::MANIFEST[0],
        ManifestEntry::Scope {
            name: "input_layer",
            ..
        }
    ));
}

#[test]
fn debug_lists_the_scope_and_the_fields() {
    let reg = Registry::with_seed(5);
    let rnn = Rnn::new(&reg, 2, 3, 2).unwrap();
    let debug = format!("{rnn:?}");
    assert!(debug.starts_with("SeedRnnParams { __scope: \"rnn\", input_layer_weights: Variable"));
    assert!(debug.contains("cell_lstm: BasicLstmCell"), "{debug}");
}

/// A model with a variable called `scope`.
#[variable_scope("gate")]
pub struct Gate {
    /// The variable `gate/scope`.
    #[var(shape = [1])]
    pub scope: Variable,
}

#[test]
fn debug_keeps_a_field_named_scope_apart_from_the_models_scope() {
    let gate = Gate::new(&Registry::new()).unwrap();
    let debug = format!("{gate:?}");
    assert!(
        debug.starts_with("Gate { __scope: \"gate\", scope: Variable { name: \"gate/scope\""),
        "{debug}"
    );
}

/// A dense layer declared with the attribute, with a config struct for its sizes.
#[derive(Clone, Copy)]
pub struct DenseConfig {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub units: usize,
}

/// A dense layer.
#[variable_scope("dense", cfg: DenseConfig)]
pub struct Dense {
    /// The weights.
    #[var(shape = [cfg.inputs, cfg.units], init = truncated_normal(0.0, 0.1))]
    pub weights: Variable,
    /// The biases.
    #[var(shape = [cfg.units], init = zeros, name = "bias")]
    pub biases: Variable,
    /// A step counter.
    #[var(shape = [], dtype = i64, init = zeros, trainable = false)]
    pub step: Variable,
    /// An integer constant, then a boolean one.
    #[var(shape = [2], dtype = i32, init = constant(-3))]
    pub offsets: Variable,
    /// A mask.
    #[var(shape = [2], dtype = bool, init = constant(true))]
    pub mask: Variable,
}

/// Two dense layers: nested models with scope overrides, and one from its default scope.
#[variable_scope("mlp", inputs: usize, hidden: usize)]
pub struct Mlp {
    /// First layer.
    #[model(scope = "layer_1", args(DenseConfig { inputs, units: hidden }))]
    pub first: Dense,
    /// Second layer.
    #[model(args(DenseConfig { inputs: hidden, units: 1 }))]
    pub second: Dense,
}

#[test]
fn attribute_models_nest_and_override_names_dtypes_and_trainable() {
    let reg = Registry::with_seed(6);
    let mlp = Mlp::new(&reg, 4, 3).unwrap();
    let names: Vec<String> = mlp.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "mlp/layer_1/weights",
            "mlp/layer_1/bias",
            "mlp/layer_1/step",
            "mlp/layer_1/offsets",
            "mlp/layer_1/mask",
            "mlp/dense/weights",
            "mlp/dense/bias",
            "mlp/dense/step",
            "mlp/dense/offsets",
            "mlp/dense/mask",
        ]
    );
    assert_eq!(mlp.first.offsets.value().to_f64_vec(), [-3.0, -3.0]);
    assert_eq!(mlp.first.mask.dtype(), scope::DType::Bool);
    assert_eq!(mlp.first.step.dtype(), scope::DType::I64);
    assert!(!mlp.first.step.trainable());
    assert_eq!(reg.trainable_variables().len(), 8);
    assert_eq!(mlp.second.weights.shape(), [3, 1]);
    let manifest: Vec<String> = Mlp::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(manifest[0], "layer_1/weights");
    assert_eq!(manifest[5], "dense/weights");
}

#[test]
fn nested_models_build_inside_an_enclosing_reusing_scope() {
    let reg = Registry::with_seed(7);
    let (a, b) = reg
        .variable_scope("outer")
        .with(|scope| {
            let a = Mlp::new(&reg, 2, 2)?;
            scope.reuse_variables();
            let b = Mlp::new(&reg, 2, 2)?;
            Ok::<_, Error>((a, b))
        })
        .unwrap();
    assert!(a.shares_storage_with(&b));
    assert_eq!(a.first.weights.name(), "outer/mlp/layer_1/weights");
    assert_eq!(b.scope_name(), "outer/mlp");
}

/// A hand-written cell standing in for the `BasicLstmCell` that arrives from another branch:
/// it implements `Model` by hand and opens `basic_lstm_cell`, as TF's cell does.
#[derive(Debug)]
pub struct HandCell {
    scope: scope::VariableScope,
    kernel: Variable,
    bias: Variable,
}

impl Model for HandCell {
    type Args = (usize, usize);
    const SCOPE: &'static str = "basic_lstm_cell";
    const MANIFEST: &'static [ManifestEntry] = &[
        ManifestEntry::Variable(scope::VarManifest {
            name: "kernel",
            dtype: None,
            trainable: true,
            shape: Some("[input + units, 4 * units]"),
            initializer: None,
        }),
        ManifestEntry::Variable(scope::VarManifest {
            name: "bias",
            dtype: None,
            trainable: true,
            shape: Some("[4 * units]"),
            initializer: Some("zeros"),
        }),
    ];

    fn build_in(reg: &Registry, name: &str, (input, units): (usize, usize)) -> scope::Result<Self> {
        reg.variable_scope(name).with(|vs| {
            let kernel = reg.get_variable(
                "kernel",
                scope::VarSpec::new().shape([input + units, 4 * units]),
            )?;
            let bias = reg.get_variable(
                "bias",
                scope::VarSpec::new()
                    .shape([4 * units])
                    .initializer(scope::Initializer::Zeros),
            )?;
            Ok(HandCell {
                scope: vs.clone(),
                kernel,
                bias,
            })
        })
    }

    fn scope(&self) -> &scope::VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        f(&self.kernel);
        f(&self.bias);
    }
}

model! {
    /// The seed RNN with its cell as a nested model type: what the lead's switch to
    /// `BasicLstmCell` will look like.
    pub struct RnnWithCell("rnn", input_size: usize, hidden: usize, classes: usize) {
        input_layer {
            weights: [input_size, hidden] = random_normal(0.0, 0.5),
            biases: [hidden] = constant(0.1),
        }
        cell {
            lstm: model HandCell(hidden, hidden),
        }
        output_layer {
            weights: [hidden, classes] = random_normal(0.0, 0.5),
            biases: [classes] = constant(0.1),
        }
    }
}

#[test]
fn a_hand_written_cell_nests_in_an_anonymous_sub_scope_with_the_same_names() {
    let reg = Registry::with_seed(8);
    let train = RnnWithCell::new(&reg, 10, 11, 2).unwrap();
    let got: Vec<(String, Vec<usize>)> = train
        .variables()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec()))
        .collect();
    let want: Vec<(String, Vec<usize>)> = SEED_NAMES
        .iter()
        .map(|(n, s)| ((*n).to_owned(), s.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(train.cell_lstm.scope_name(), "rnn/cell/basic_lstm_cell");
    reg.reuse_variables();
    let test = RnnWithCell::new(&reg, 10, 11, 2).unwrap();
    assert!(train.shares_storage_with(&test));
    let manifest: Vec<String> = RnnWithCell::manifest()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(manifest[2], "cell/basic_lstm_cell/kernel");
}

model! {
    /// Items named by raw identifiers.
    pub struct Raw("raw") {
        r#type: [1],
        r#fn { r#loop: [1] }
    }
}

#[test]
fn raw_identifiers_name_variables_and_sub_scopes_without_r_hash() {
    let raw = Raw::new(&Registry::new()).unwrap();
    assert_eq!(raw.r#type.name(), "raw/type");
    assert_eq!(raw.fn_loop.name(), "raw/fn/loop");
}
