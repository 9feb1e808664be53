//! The macros end to end: the seed RNN's parameters, declared with `model!` in
//! `scope::models::seed_rnn`, create TF's six names, share them with reuse, and refuse to
//! create them twice without it.

use scope::{model, variable_scope, Error, ManifestEntry, Model, Registry, Variable};

// The seed RNN's parameters as the library declares them, once, with `model!` (an input layer,
// TF's BasicLSTMCell as a nested hand-written `Model`, an output layer).
use scope::models::seed_rnn::SeedRnnParams as Rnn;

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
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
        ManifestEntry::Variable(scope::VarManifest {
            name: "bias",
            dtype: None,
            trainable: true,
            shape: Some("[4 * units]"),
            initializer: Some("zeros"),
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
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

// ----- The DSL forms of issue #10: repeat, explicit scope names, when, default_name, tied ----

model! {
    /// A dense layer as tf.layers makes one: `kernel` then `bias`, in the scope `dense`.
    pub struct Fc("dense", inputs: usize, units: usize) {
        kernel: [inputs, units] = truncated_normal(0.0, 0.02),
        bias: [units] = zeros,
    }

    /// An encoder layer: `self` (not a Rust identifier) through explicit scope names.
    pub struct Block("layer", width: usize) {
        attention {
            #[scope(name = "self")]
            self_attn {
                #[model(scope = "query")] query: model Fc(width, width),
            }
            #[model(scope = "LayerNorm")] norm: model Fc(width, 1),
        }
        #[model(scope = "a.b-c")] odd: model Fc(width, 1),
    }

    /// `num_layers` blocks, `encoder/layer_0 .. layer_{n-1}`.
    pub struct Encoder("bert", num_layers: usize, width: usize) {
        encoder {
            #[model(repeat = num_layers)]
            layer: model Block(width),
        }
    }
}

#[test]
fn repeat_builds_prefix_0_to_n_minus_1_as_a_vec() {
    let reg = Registry::with_seed(20);
    let enc = Encoder::new(&reg, 3, 2).unwrap();
    assert_eq!(enc.encoder_layer.len(), 3);
    let names: Vec<String> = enc
        .variables()
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with("query/kernel"))
        .collect();
    assert_eq!(
        names,
        [
            "bert/encoder/layer_0/attention/self/query/kernel",
            "bert/encoder/layer_1/attention/self/query/kernel",
            "bert/encoder/layer_2/attention/self/query/kernel",
        ]
    );
    assert_eq!(enc.encoder_layer[1].scope_name(), "bert/encoder/layer_1");
    assert_eq!(reg.len(), 3 * 6);
    // Reuse shares every element.
    reg.reuse_variables();
    let again = Encoder::new(&reg, 3, 2).unwrap();
    assert!(enc.shares_storage_with(&again));
    // A count of zero builds none.
    let other = Registry::new();
    let empty = Encoder::new(&other, 0, 2).unwrap();
    assert!(empty.encoder_layer.is_empty());
    assert!(other.is_empty());
}

#[test]
fn debug_shows_repeated_and_optional_models_as_their_containers_do() {
    let reg = Registry::new();
    let enc = Encoder::new(&reg, 2, 2).unwrap();
    let debug = format!("{enc:?}");
    assert!(
        debug.starts_with("Encoder { __scope: \"bert\", encoder_layer: [Block { __scope: "),
        "{debug}"
    );
    assert_eq!(debug.matches("Block {").count(), 2, "{debug}");
    let off = Embeddings::new(&reg, emb_config(false)).unwrap();
    assert!(
        format!("{off:?}").ends_with("projection: None }"),
        "{off:?}"
    );
    let on = Embeddings::new(&Registry::new(), emb_config(true)).unwrap();
    assert!(
        format!("{on:?}").contains("projection: Some(Fc { __scope: "),
        "{on:?}"
    );
}

#[test]
fn names_that_are_not_identifiers_are_kept_as_written() {
    let reg = Registry::new();
    let block = Block::new(&reg, 2).unwrap();
    let names: Vec<String> = block.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "layer/attention/self/query/kernel",
            "layer/attention/self/query/bias",
            "layer/attention/LayerNorm/kernel",
            "layer/attention/LayerNorm/bias",
            "layer/a.b-c/kernel",
            "layer/a.b-c/bias",
        ]
    );
    assert_eq!(
        block.attention_self_attn_query.scope_name(),
        "layer/attention/self/query"
    );
    let manifest: Vec<String> = Block::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(manifest[0], "attention/self/query/kernel");
    assert_eq!(manifest[4], "a.b-c/kernel");
}

/// TF1's `MultiRNNCell`: cells in `cell_0 ..`, each built with its own arguments.
#[variable_scope("multi_rnn_cell", widths: std::rc::Rc<std::cell::RefCell<Vec<usize>>>)]
pub struct MultiCell {
    /// One cell per width; `args` is evaluated once per element.
    #[model(repeat = widths.borrow().len(), scope = "cell", args(2, widths.borrow_mut().remove(0)))]
    pub cells: Vec<Fc>,
}

#[test]
fn repeat_in_variable_scope_evaluates_args_once_per_element() {
    let reg = Registry::new();
    let widths = std::rc::Rc::new(std::cell::RefCell::new(vec![3, 5]));
    let multi = MultiCell::new(&reg, widths).unwrap();
    let got: Vec<(String, Vec<usize>)> = multi
        .variables()
        .into_iter()
        .map(|(n, v)| (n, v.shape().to_vec()))
        .collect();
    assert_eq!(
        got,
        [
            ("multi_rnn_cell/cell_0/kernel".to_owned(), vec![2, 3]),
            ("multi_rnn_cell/cell_0/bias".to_owned(), vec![3]),
            ("multi_rnn_cell/cell_1/kernel".to_owned(), vec![2, 5]),
            ("multi_rnn_cell/cell_1/bias".to_owned(), vec![5]),
        ]
    );
    match MultiCell::MANIFEST[0] {
        ManifestEntry::Repeated {
            pattern,
            count,
            type_name,
            ..
        } => {
            assert_eq!((pattern, type_name), ("cell_{i}", "Fc"));
            assert_eq!(count, "widths.borrow().len()");
        }
        other => panic!("expected a repeated entry, got {other:?}"),
    }
    let paths: Vec<String> = MultiCell::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["cell_{i}/kernel", "cell_{i}/bias"]);
}

model! {
    /// GPT-2's blocks: `model/h0 .. model/h{n-1}`, no underscore.
    pub struct Gpt2Like("model", n: usize) {
        wpe: [4, 2],
        #[model(repeat = n, scope = "h{i}", args(2, 2))]
        h: model Fc,
        #[model(repeat = n, scope = "x{i}_ln")]
        ln: model Fc(2, 1),
    }
}

/// The same blocks through `#[variable_scope]`.
#[variable_scope("model", n: usize)]
pub struct Gpt2LikeAttr {
    /// `h0 ..`.
    #[model(repeat = n, scope = "h{i}", args(2, 2))]
    pub blocks: Vec<Fc>,
}

#[test]
fn repeat_patterns_name_every_element() {
    let reg = Registry::new();
    let m = Gpt2Like::new(&reg, 11).unwrap();
    let scopes: Vec<&str> = m.h.iter().map(|b| b.scope_name()).collect();
    assert_eq!(scopes[0], "model/h0");
    assert_eq!(scopes[10], "model/h10");
    assert_eq!(m.ln[1].scope_name(), "model/x1_ln");
    let paths: Vec<String> = Gpt2Like::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "wpe",
            "h{i}/kernel",
            "h{i}/bias",
            "x{i}_ln/kernel",
            "x{i}_ln/bias"
        ]
    );
    let other = Registry::new();
    let attr = Gpt2LikeAttr::new(&other, 2).unwrap();
    let names: Vec<String> = attr.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "model/h0/kernel",
            "model/h0/bias",
            "model/h1/kernel",
            "model/h1/bias"
        ]
    );
    assert!(matches!(
        Gpt2LikeAttr::MANIFEST[0],
        ManifestEntry::Repeated {
            pattern: "h{i}",
            ..
        }
    ));
}

/// Sizes of the embeddings, with an `f32` initializer range as BERT's config has.
#[derive(Clone, Copy, Debug)]
pub struct EmbConfig {
    /// Rows of the word table.
    pub vocab_size: usize,
    /// Width.
    pub hidden_size: usize,
    /// Rows of the token-type table.
    pub type_vocab_size: usize,
    /// Whether there is a token-type table.
    pub use_token_type: bool,
    /// Whether there is a dense projection.
    pub use_projection: bool,
    /// Standard deviation of the truncated-normal initializer.
    pub initializer_range: f32,
}

model! {
    /// BERT's embeddings: optional parts by run-time flags.
    pub struct Embeddings("embeddings", cfg: EmbConfig) {
        word_embeddings: [cfg.vocab_size, cfg.hidden_size]
            = truncated_normal(0.0, cfg.initializer_range),
        #[var(when = cfg.use_token_type)]
        token_type_embeddings: [cfg.type_vocab_size, cfg.hidden_size]
            = truncated_normal(0.0, cfg.initializer_range),
        #[model(when = cfg.use_projection)]
        projection: model Fc(cfg.hidden_size, cfg.hidden_size),
    }
}

fn emb_config(flags: bool) -> EmbConfig {
    EmbConfig {
        vocab_size: 7,
        hidden_size: 4,
        type_vocab_size: 2,
        use_token_type: flags,
        use_projection: flags,
        initializer_range: 0.02,
    }
}

#[test]
fn optional_parts_exist_by_a_runtime_flag() {
    let reg = Registry::with_seed(21);
    let on = Embeddings::new(&reg, emb_config(true)).unwrap();
    let names: Vec<String> = on.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "embeddings/word_embeddings",
            "embeddings/token_type_embeddings",
            "embeddings/dense/kernel",
            "embeddings/dense/bias",
        ]
    );
    assert_eq!(on.token_type_embeddings.as_ref().unwrap().shape(), [2, 4]);
    // The f32 range reached the initializer: every value within two standard deviations.
    let values = on.word_embeddings.value().to_f64_vec();
    assert!(values.iter().all(|v| v.abs() <= 0.04 + 1e-6), "{values:?}");
    assert!(values.iter().any(|v| *v != 0.0));

    let reg = Registry::with_seed(21);
    let off = Embeddings::new(&reg, emb_config(false)).unwrap();
    assert!(off.token_type_embeddings.is_none() && off.projection.is_none());
    assert_eq!(reg.len(), 1);
    assert_eq!(off.variables().len(), 1);
    assert!(reg.variable("embeddings/token_type_embeddings").is_none());
    // The manifest lists optional parts, with their condition.
    assert!(matches!(
        Embeddings::MANIFEST[1],
        ManifestEntry::Optional {
            condition: "cfg.use_token_type",
            ..
        }
    ));
    assert_eq!(Embeddings::manifest().len(), 4);
}

model! {
    /// Three unnamed layers and a named one, named the way tf.layers names them.
    pub struct Heads("heads", width: usize) {
        #[model(default_name)] first: model Fc(width, width),
        #[model(default_name)] second: model Fc(width, width),
        #[model(default_name)] third: model Fc(width, 1),
        #[model(default_name = "query")] query: model Fc(width, width),
    }
}

#[test]
fn default_name_counts_dense_dense_1_dense_2_as_tf_does() {
    let reg = Registry::with_seed(22);
    let heads = Heads::new(&reg, 2).unwrap();
    let scopes: Vec<&str> = [
        heads.first.scope_name(),
        heads.second.scope_name(),
        heads.third.scope_name(),
        heads.query.scope_name(),
    ]
    .into();
    assert_eq!(
        scopes,
        [
            "heads/dense",
            "heads/dense_1",
            "heads/dense_2",
            "heads/query"
        ]
    );
    assert_eq!(heads.third.kernel.name(), "heads/dense_2/kernel");
    let paths: Vec<String> = Heads::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "dense/kernel",
            "dense/bias",
            "dense_1/kernel",
            "dense_1/bias",
            "dense_2/kernel",
            "dense_2/bias",
            "query/kernel",
            "query/bias",
        ]
    );

    // Re-opening `heads` with reuse restarts its counters: the same names, shared.
    reg.reuse_variables();
    let again = Heads::new(&reg, 2).unwrap();
    assert!(heads.shares_storage_with(&again));
}

#[test]
fn default_name_in_one_open_scope_keeps_counting_even_under_reuse() {
    // TF: two unnamed tf.layers.dense calls in one open scope get `dense` and `dense_1`,
    // whatever the reuse flag; the second build after `reuse_variables()` looks for
    // `dense_3/kernel`, which does not exist.
    let reg = Registry::with_seed(23);
    let err = reg
        .variable_scope("model")
        .with(|scope| {
            let _train = Heads::build_here(&reg, (2,))?;
            scope.reuse_variables();
            Heads::build_here(&reg, (2,))
        })
        .unwrap_err();
    match err {
        Error::NotFound { name, .. } => assert_eq!(name, "model/dense_3/kernel"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(reg.len(), 8);
}

model! {
    /// The masked-LM head: its output layer is the word-embedding table, owned by the
    /// embeddings.
    pub struct MaskedLm("predictions", vocab: usize, hidden: usize, table: Variable) {
        #[var(tied = table)]
        output_weights: [vocab, hidden],
        output_bias: [vocab] = zeros,
    }
}

#[test]
fn tied_variables_are_checked_and_create_nothing() {
    let reg = Registry::with_seed(24);
    let emb = Embeddings::new(&reg, emb_config(false)).unwrap();
    let head = MaskedLm::new(&reg, 7, 4, emb.word_embeddings.clone()).unwrap();
    assert!(head.output_weights.ptr_eq(&emb.word_embeddings));
    // The head lists only what it owns; the registry holds the table once.
    let names: Vec<String> = head.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["predictions/output_bias"]);
    assert_eq!(reg.len(), 2);
    assert!(matches!(
        MaskedLm::MANIFEST[0],
        ManifestEntry::Tied(scope::TiedManifest {
            field: "output_weights",
            owner: "table",
            shape: "[vocab, hidden]",
            dtype: None,
        })
    ));
    assert_eq!(MaskedLm::manifest().len(), 1);
}

#[test]
fn a_tie_of_the_wrong_shape_fails_and_changes_nothing() {
    let reg = Registry::with_seed(25);
    let emb = Embeddings::new(&reg, emb_config(false)).unwrap();
    let names_before = reg.names_in_use();
    let err = MaskedLm::new(&reg, 4, 7, emb.word_embeddings.clone()).unwrap_err();
    match &err {
        Error::TiedShapeMismatch {
            field,
            scope,
            name,
            expected,
            found,
        } => {
            assert_eq!(
                (field.as_str(), scope.as_str()),
                ("output_weights", "predictions")
            );
            assert_eq!(name, "embeddings/word_embeddings");
            assert_eq!(
                (expected.as_slice(), found.as_slice()),
                (&[4, 7][..], &[7, 4][..])
            );
        }
        other => panic!("expected TiedShapeMismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("expected shape (4, 7)") && msg.contains("has shape (7, 4)"),
        "{msg}"
    );
    // Nothing created, no name taken: a corrected build gets the usual names.
    assert_eq!(reg.len(), 1);
    assert_eq!(reg.names_in_use(), names_before);
    let head = MaskedLm::new(&reg, 7, 4, emb.word_embeddings.clone()).unwrap();
    assert_eq!(head.output_bias.name(), "predictions/output_bias");
}

#[test]
fn a_tie_to_another_registry_fails() {
    let reg = Registry::with_seed(26);
    let elsewhere = Registry::with_seed(26);
    let emb = Embeddings::new(&elsewhere, emb_config(false)).unwrap();
    let err = MaskedLm::new(&reg, 7, 4, emb.word_embeddings.clone()).unwrap_err();
    assert!(matches!(err, Error::TiedOtherRegistry { .. }), "{err}");
    assert!(err.to_string().contains("same `Registry`"), "{err}");
    assert!(reg.is_empty());
}

/// A tie declared with `#[variable_scope]`, with a dtype, in a scope below the model's.
#[variable_scope("cls", table: Variable)]
pub struct Cls {
    /// The table, declared `f64` while it is `f32`.
    #[var(tied = &table, shape = [7, 4], dtype = f64)]
    pub output_weights: Variable,
}

#[test]
fn a_tie_with_the_wrong_dtype_names_the_fix() {
    let reg = Registry::new();
    let emb = Embeddings::new(&reg, emb_config(false)).unwrap();
    let err = Cls::new(&reg, emb.word_embeddings.clone()).unwrap_err();
    assert!(matches!(err, Error::TiedDtypeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("`dtype = float32`"), "{err}");
}

model! {
    /// A tie to a part of the same model, checked in declaration order.
    pub struct WithHead("lm", cfg: EmbConfig) {
        emb: model Embeddings(cfg),
        #[var(tied = &emb.word_embeddings)]
        decoder: [cfg.vocab_size, cfg.hidden_size],
    }
}

#[test]
fn a_tie_to_an_earlier_field_is_checked_after_it_is_built() {
    let reg = Registry::new();
    let lm = WithHead::new(&reg, emb_config(false)).unwrap();
    assert!(lm.decoder.ptr_eq(&lm.emb.word_embeddings));
    assert_eq!(lm.variables().len(), 1);
}

/// A head that is handed a table another part of its model owns.
#[variable_scope("head", table: Variable)]
pub struct TableHead {
    /// Tied to the table it was given.
    #[var(tied = table, shape = [7, 4])]
    pub output_weights: Variable,
    /// Its own bias.
    #[var(shape = [7], init = zeros)]
    pub output_bias: Variable,
}

model! {
    /// BERT's pretraining shape: the masked-LM head's arguments name an earlier part of the
    /// model (`emb.word_embeddings.clone()`), as `MaskedLmHead(cfg, bert.embeddings..)` does.
    pub struct WithLentPart("lm", cfg: EmbConfig) {
        emb: model Embeddings(cfg),
        head: model TableHead(emb.word_embeddings.clone()),
    }
}

#[test]
fn nested_model_arguments_may_name_earlier_parts() {
    let reg = Registry::new();
    let lm = WithLentPart::new(&reg, emb_config(false)).unwrap();
    assert!(lm.head.output_weights.ptr_eq(&lm.emb.word_embeddings));
    // The earlier part is still the model's own (lent, then taken back).
    assert_eq!(
        lm.emb.word_embeddings.name(),
        "lm/embeddings/word_embeddings"
    );
    let names: Vec<String> = lm.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["lm/embeddings/word_embeddings", "lm/head/output_bias"]
    );
}

/// A config that is neither `Clone` nor `Copy`: a model keeps it by move.
#[derive(Debug, PartialEq)]
pub struct KeptConfig {
    /// Width of every part.
    pub width: usize,
    /// Number of blocks.
    pub blocks: usize,
}

model! {
    /// Keeps its config and a tuple argument; the parts borrow the config while they build.
    pub struct KeepsConfig("keeps", cfg: KeptConfig, pair: (usize, String)) {
        #[keep]
        cfg,
        /// The pair as given.
        #[keep]
        pair,
        w: [cfg.width, pair.0],
        #[model(repeat = cfg.blocks, scope = "h{i}")]
        h: model Fc(cfg.width, cfg.width),
    }
}

/// The same through `#[variable_scope]`.
#[variable_scope("keeps", cfg: KeptConfig)]
pub struct KeepsConfigAttr {
    /// The config it was built with.
    #[keep]
    pub cfg: KeptConfig,
    /// A variable shaped by it.
    #[var(shape = [cfg.width])]
    pub b: Variable,
}

#[test]
fn a_model_keeps_its_build_arguments() {
    let reg = Registry::new();
    let cfg = KeptConfig {
        width: 3,
        blocks: 2,
    };
    let m = KeepsConfig::new(&reg, cfg, (5, "five".to_owned())).unwrap();
    assert_eq!(
        m.cfg,
        KeptConfig {
            width: 3,
            blocks: 2
        }
    );
    assert_eq!(m.pair, (5, "five".to_owned()));
    assert_eq!(m.w.shape(), [3, 5]);
    assert_eq!(m.h.len(), 2);
    // The kept arguments are no variables: the manifest and the listing do not see them.
    assert_eq!(KeepsConfig::manifest().len(), 3);
    assert_eq!(m.variables().len(), 5);
    let attr = KeepsConfigAttr::new(
        &Registry::new(),
        KeptConfig {
            width: 4,
            blocks: 0,
        },
    )
    .unwrap();
    assert_eq!(attr.cfg.width, 4);
    assert_eq!(attr.b.shape(), [4]);
}

model! {
    /// A default-named layer, then a part that can fail (too large for the registry).
    pub struct Fragile("fragile", units: usize) {
        #[model(default_name = "dense")]
        first: model Fc(2, 2),
        w: [2],
        #[model(scope = "big")]
        big: model Fc(units, units),
    }
}

/// A failed build (generated code) leaves nothing behind: no variable, no `default_name`
/// count, no name-scope name, so the retry gets the first attempt's names.
#[test]
fn a_failed_build_leaves_the_registry_as_it_was() {
    let reg = Registry::builder().max_elements(100).build();
    let outer = reg.variable_scope("outer").enter().unwrap();
    let err = Fragile::new(&reg, 50).unwrap_err();
    assert!(matches!(err, scope::Error::TooLarge { .. }), "{err}");
    assert_eq!(reg.len(), 0);
    assert_eq!(reg.names_in_use(), 1, "only `outer`'s name scope");
    let m = Fragile::new(&reg, 3).unwrap();
    let names: Vec<String> = m.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "outer/fragile/dense/kernel",
            "outer/fragile/dense/bias",
            "outer/fragile/w",
            "outer/fragile/big/kernel",
            "outer/fragile/big/bias",
        ]
    );
    drop(outer);
    // Named as a first attempt would be: the name scope is `outer/fragile/`, not `fragile_1`.
    assert_eq!(m.scope().original_name_scope(), "outer/fragile/");
    // A default-named model's counter, moved by a failed top-level build, is put back too.
    let err = reg
        .variable_scope("top")
        .with(|_| {
            let _ok = Fc::build_in(&reg, "ok", (1, 1))?;
            <Fragile as Model>::build_here(&reg, (50,))
        })
        .unwrap_err();
    assert!(matches!(err, scope::Error::TooLarge { .. }), "{err}");
    // Only the first part of `with` was outside the failed build.
    assert_eq!(reg.len(), 7);
}

/// The case: a `default_name` layer, then an explicit scope of the same name in a
/// hand-written model, fails with `AlreadyExists`; the registry is as before, and a retry
/// that builds the layer alone gets `dense`, not `dense_1`, and no `AlreadyExists`.
#[test]
fn a_failed_hand_written_build_is_rolled_back_by_build() {
    #[derive(Debug)]
    struct Clash(scope::VariableScope);
    impl Model for Clash {
        type Args = ();
        const SCOPE: &'static str = "clash";
        const MANIFEST: &'static [ManifestEntry] = &[];
        fn build_in(reg: &Registry, scope: &str, (): ()) -> scope::Result<Self> {
            let here = scope::ModelScope::enter(reg, scope)?;
            {
                let _layer = scope::ModelScope::enter_default_name(reg, "dense")?;
                reg.get_variable("kernel", scope::VarSpec::new().shape([2]))?;
            }
            let _explicit = reg.variable_scope("dense").enter()?;
            reg.get_variable("kernel", scope::VarSpec::new().shape([2]))?;
            Ok(Clash(here.scope().clone()))
        }
        fn scope(&self) -> &scope::VariableScope {
            &self.0
        }
        fn for_each_variable(&self, _: &mut dyn FnMut(&Variable)) {}
    }
    let reg = Registry::new();
    let err = Clash::build(&reg, ()).unwrap_err();
    assert!(matches!(err, scope::Error::AlreadyExists { .. }), "{err}");
    assert!(reg.is_empty());
    let kernel = reg
        .variable_scope("clash")
        .with(|_| {
            let _layer = scope::ModelScope::enter_default_name(&reg, "dense")?;
            reg.get_variable("kernel", scope::VarSpec::new().shape([2]))
        })
        .unwrap();
    assert_eq!(kernel.name(), "clash/dense/kernel");
}

model! {
    /// Ties to its own earlier parts: a sibling variable and a nested model's.
    pub struct SelfTied("self_tied") {
        table: [4, 2],
        #[var(tied = table)]
        output_weights: [4, 2],
        inner: model Fc(4, 2),
        #[var(tied = inner.kernel)]
        decoder: [4, 2],
    }
}

#[test]
fn a_tie_to_a_sibling_part_borrows_it() {
    let reg = Registry::new();
    let m = SelfTied::new(&reg).unwrap();
    assert!(m.output_weights.ptr_eq(&m.table));
    assert!(m.decoder.ptr_eq(&m.inner.kernel));
    assert_eq!(m.variables().len(), 3);
}

/// ALBERT's sizes, reduced.
#[derive(Clone, Copy, Debug)]
pub struct AlbertSizes {
    /// Vocabulary.
    pub vocab: usize,
    /// Embedding width `E`.
    pub embedding: usize,
    /// Hidden width `H`.
    pub hidden: usize,
}

model! {
    /// contrib's `layer_norm`, named `LayerNorm` by default.
    pub struct Norm("LayerNorm", h: usize) {
        beta: [h] = zeros,
        gamma: [h] = ones,
    }

    /// ALBERT's inner group, reduced: two `layer_norm`s by default names, so `LayerNorm` and
    /// `LayerNorm_1`, whenever the group is entered.
    pub struct InnerGroup("inner_group_0", h: usize) {
        attention_1 { dense { kernel: [h, h] } }
        #[model(default_name)]
        attention_norm: model Norm(h),
        ffn_1 { dense { kernel: [h, h] } }
        #[model(default_name)]
        output_norm: model Norm(h),
    }

    /// ALBERT's factorized embedding: the projection exists only when `E != H`.
    pub struct AlbertEmbeddings("embeddings", cfg: AlbertSizes) {
        #[keep]
        cfg,
        word_embeddings: [cfg.vocab, cfg.embedding],
        #[model(when = cfg.embedding != cfg.hidden, scope = "embedding_hidden_mapping_in")]
        mapping: model Fc(cfg.embedding, cfg.hidden),
    }
}

/// ALBERT re-enters `transformer/group_0/inner_group_0` under `AUTO_REUSE` for every layer:
/// TF's `default_name` counters of the group restart each time (its `__exit__` closes the
/// counts of its sub-scopes), so every layer meets `LayerNorm` and `LayerNorm_1` again, and
/// every build after the first creates nothing.
#[test]
fn default_names_restart_in_a_re_entered_scope() {
    use scope::Reuse;
    let reg = Registry::new();
    let layers = reg
        .variable_scope("transformer")
        .reuse(Reuse::Auto)
        .with(|_| {
            (0..3)
                .map(|_| {
                    reg.variable_scope("group_0")
                        .with(|_| InnerGroup::build(&reg, (4,)))
                })
                .collect::<scope::Result<Vec<_>>>()
        })
        .unwrap();
    let names: Vec<String> = layers[2].variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "transformer/group_0/inner_group_0/attention_1/dense/kernel",
            "transformer/group_0/inner_group_0/LayerNorm/beta",
            "transformer/group_0/inner_group_0/LayerNorm/gamma",
            "transformer/group_0/inner_group_0/ffn_1/dense/kernel",
            "transformer/group_0/inner_group_0/LayerNorm_1/beta",
            "transformer/group_0/inner_group_0/LayerNorm_1/gamma",
        ]
    );
    assert_eq!(reg.len(), 6);
    assert!(layers[0].shares_storage_with(&layers[2]));
    // The optional projection, by a condition on the kept config.
    let factorized = AlbertSizes {
        vocab: 10,
        embedding: 2,
        hidden: 4,
    };
    let emb = AlbertEmbeddings::new(&reg, factorized).unwrap();
    assert_eq!(emb.mapping.as_ref().unwrap().kernel.shape(), [2, 4]);
    let plain = AlbertSizes {
        embedding: 4,
        ..factorized
    };
    let emb = AlbertEmbeddings::build_in(&reg, "plain", (plain,)).unwrap();
    assert!(emb.mapping.is_none() && emb.cfg.embedding == 4);
}

/// A failed build puts nothing back when another thread wrote to the registry meanwhile:
/// that thread's variable stays (it may be in use there), and so does what the build made.
#[test]
fn a_failed_build_keeps_another_threads_variables() {
    use std::sync::{Arc, Barrier};
    let reg = Registry::new();
    let (started, written) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let other = {
        let (reg, started, written) = (reg.clone(), started.clone(), written.clone());
        std::thread::spawn(move || {
            started.wait();
            let v = reg.get_variable("theirs", scope::VarSpec::new().shape([1]));
            written.wait();
            v.unwrap()
        })
    };
    let failed = scope::atomic_build(&reg, || {
        reg.get_variable("mine", scope::VarSpec::new().shape([1]))?;
        started.wait();
        written.wait();
        reg.get_variable("mine", scope::VarSpec::new().shape([1]))
    });
    assert!(matches!(failed, Err(Error::AlreadyExists { .. })));
    let theirs = other.join().unwrap();
    assert!(reg.variable("theirs").unwrap().ptr_eq(&theirs));
    assert!(reg.variable("mine").is_some());
    // Alone again, a failed build is rolled back.
    let failed = scope::atomic_build(&reg, || {
        reg.get_variable("again", scope::VarSpec::new().shape([1]))?;
        reg.get_variable("mine", scope::VarSpec::new().shape([1]))
    });
    assert!(failed.is_err());
    assert!(reg.variable("again").is_none());
    assert_eq!(reg.len(), 2);
}

#[variable_scope("emb", vocab: usize, split: scope::partition::Partitioner)]
struct PartitionedEmb {
    /// TF: `tf.get_variable("table", [vocab, 2], partitioner=tf.fixed_size_partitioner(3))`.
    #[var(shape = [vocab, 2], init = zeros, partitioner = fixed_size(3, 0))]
    table: scope::partition::PartitionedVariable,
    /// A partitioner given as a value, splitting the columns.
    #[var(shape = [vocab, 2], partitioner = &split)]
    by_column: scope::partition::PartitionedVariable,
}

model! {
    struct WideModel("wide", vocab: usize) {
        /// TF: `variable_axis_size_partitioner(64)`: 16 bytes a row, 4 rows a part.
        #[var(partitioner = variable_axis_size(64))]
        w: [vocab, 4] = zeros,
        #[model(args(vocab, scope::partition::Partitioner::min_max(2, 1, 1)))]
        emb: model PartitionedEmb,
        bias: [1] = zeros,
    }
}

#[test]
fn partitioned_fields_create_tfs_parts_and_visit_every_part() {
    let reg = Registry::new();
    let model = WideModel::new(&reg, 7).unwrap();
    let parts: Vec<(String, Vec<usize>)> = model
        .variables()
        .into_iter()
        .map(|(name, v)| (name, v.shape().to_vec()))
        .collect();
    let expected: Vec<(String, Vec<usize>)> = [
        ("wide/w/part_0", vec![4, 4]),
        ("wide/w/part_1", vec![3, 4]),
        // `fixed_size_partitioner(3)` on 7 rows: the first `7 % 3` parts get one more.
        ("wide/emb/table/part_0", vec![3, 2]),
        ("wide/emb/table/part_1", vec![2, 2]),
        ("wide/emb/table/part_2", vec![2, 2]),
        ("wide/emb/by_column/part_0", vec![7, 1]),
        ("wide/emb/by_column/part_1", vec![7, 1]),
        ("wide/bias", vec![1]),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_owned(), s))
    .collect();
    assert_eq!(parts, expected);
    assert_eq!(model.emb.table.name(), "wide/emb/table");
    assert_eq!(model.emb.table.shape(), [7, 2]);
    assert_eq!(model.emb.table.partitions(), [3, 1]);
    let info = model.emb.table.parts()[1].save_slice_info().unwrap();
    assert_eq!(info.full_name, "wide/emb/table");
    assert_eq!(info.full_shape, [7, 2]);

    // The manifest records each partitioner as written.
    let manifest = WideModel::manifest();
    let partitioners: Vec<(&str, Option<&str>)> = manifest
        .iter()
        .map(|(path, v)| (path.as_str(), v.partitioner))
        .collect();
    assert_eq!(
        partitioners,
        [
            ("w", Some("variable_axis_size(64)")),
            ("emb/table", Some("fixed_size(3, 0)")),
            ("emb/by_column", Some("&split")),
            ("bias", None),
        ]
    );

    // Built again with reuse, every part is shared; with another partitioning, it fails.
    let again = reg
        .variable_scope("")
        .reuse(scope::Reuse::Yes)
        .with(|_| WideModel::new(&reg, 7))
        .unwrap();
    assert!(again.shares_storage_with(&model));
    let before = reg.len();
    let other = reg.variable_scope("").reuse(scope::Reuse::Yes).with(|_| {
        PartitionedEmb::build_in(
            &reg,
            "wide/emb",
            (7, scope::partition::Partitioner::fixed_size(2, 0)),
        )
    });
    let err = other.unwrap_err().to_string();
    assert!(err.contains("wide/emb/by_column"), "{err}");
    assert_eq!(reg.len(), before);
}

/// TF-Slim's renaming getter.
fn slim_getter() -> scope::CustomGetter {
    scope::CustomGetter::rename([("kernel", "weights"), ("bias", "biases")])
}

#[variable_scope("fc", n: usize, custom_getter = slim_getter(), regularizer = l2(0.1))]
struct SlimFc {
    #[var(shape = [n, n], init = ones, constraint = non_neg)]
    kernel: Variable,
    /// Its own regularizer replaces the scope's.
    #[var(shape = [n], init = ones, regularizer = l1(0.5), collections = [GLOBAL_VARIABLES, MODEL_VARIABLES, "biases"])]
    bias: Variable,
    #[var(shape = [1], init = zeros, trainable = false, collections = [LOCAL_VARIABLES])]
    counter: Variable,
}

model! {
    struct SlimNet("net", n: usize) {
        #[model(args(n))]
        fc: model SlimFc,
        #[scope(regularizer = l1(0.25))]
        head { w: [n] = ones }
    }
}

#[test]
fn scope_getters_regularizers_constraints_and_collections_from_the_dsl() {
    let reg = Registry::new();
    let net = SlimNet::new(&reg, 2).unwrap();
    let names: Vec<String> = net.variables().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "net/fc/weights",
            "net/fc/biases",
            "net/fc/counter",
            "net/head/w"
        ]
    );
    let losses: Vec<(String, f64)> = reg
        .regularization_losses(None)
        .unwrap()
        .iter()
        .map(|l| (l.variable().name().to_owned(), l.value()))
        .collect();
    // l2(0.1) of a 2x2 of ones: 0.1 * 4 / 2; l1(0.5) of two ones; l1(0.25) of two ones.
    let expected = [
        ("net/fc/weights", 0.2),
        ("net/fc/biases", 1.0),
        ("net/fc/counter", 0.0),
        ("net/head/w", 0.5),
    ];
    assert_eq!(losses.len(), expected.len(), "{losses:?}");
    for ((name, value), (want_name, want)) in losses.iter().zip(expected) {
        assert_eq!(name, want_name);
        assert!((value - want).abs() < 1e-9, "{name}: {value}");
    }
    assert!(net.fc.kernel.constraint().is_some());
    assert!(net.fc.bias.constraint().is_none());
    let collection = |key: &str| -> Vec<String> {
        reg.get_collection(key, None)
            .unwrap()
            .iter()
            .map(|v| v.name().to_owned())
            .collect()
    };
    assert_eq!(collection(scope::keys::MODEL_VARIABLES), ["net/fc/biases"]);
    assert_eq!(collection("biases"), ["net/fc/biases"]);
    assert_eq!(collection(scope::keys::LOCAL_VARIABLES), ["net/fc/counter"]);
    assert!(!collection(scope::keys::GLOBAL_VARIABLES).contains(&"net/fc/counter".to_owned()));

    // The manifest shows the scope's defaults and each variable's options.
    assert_eq!(
        SlimFc::MANIFEST[0],
        ManifestEntry::Defaults {
            custom_getter: Some("slim_getter()"),
            regularizer: Some("l2(0.1)"),
        }
    );
    let bias = SlimFc::manifest()[1].1;
    assert_eq!(bias.regularizer, Some("l1(0.5)"));
    assert_eq!(
        bias.collections,
        Some(&["variables", "model_variables", "biases"][..])
    );
    assert_eq!(SlimFc::manifest()[0].1.constraint, Some("non_neg"));
}

#[test]
fn a_declared_model_is_a_template_built_once_and_called_many_times() {
    let reg = Registry::new();
    let fc = SlimFc::template(&reg, "tower");
    let first = fc.call((2,)).unwrap();
    let second = fc.call((2,)).unwrap();
    assert!(first.shares_storage_with(&second));
    assert_eq!(first.variables()[0].0, "tower/weights");
    // A second template of the same name gets its own scope, as tf.make_template's does.
    let other = SlimFc::template(&reg, "tower").call((2,)).unwrap();
    assert_eq!(other.variables()[0].0, "tower_1/weights");
    // A later call that would create a variable (another shape is no reuse) fails.
    assert!(fc.call((3,)).is_err());
}
