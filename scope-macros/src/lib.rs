//! Implementation detail of the `scope` crate: the `#[variable_scope]` and `model!` macros.
//!
//! Use them through `scope`, which re-exports them. Both macros parse into one IR
//! (`ast`), which is checked (`check`) and expanded (`expand`); errors are collected in a
//! `Ctxt` so that every mistake of an invocation is reported at once.
#![doc(test(attr(deny(warnings))))]

mod ast;
mod check;
mod ctxt;
mod expand;
mod names;
mod parse;

use proc_macro::TokenStream;

/// Turns a struct with named fields into a model: every field is a variable (or a nested
/// model) in the TensorFlow 1 variable scope the model opens.
///
/// ```
/// use scope::{variable_scope, Model, Registry, Variable};
///
/// /// A dense layer.
/// #[variable_scope("dense", in_size: usize, units: usize)]
/// pub struct Dense {
///     /// The weights.
///     #[var(shape = [in_size, units], init = random_normal(0.0, 0.5))]
///     pub weights: Variable,
///     /// The biases, named `bias` in the registry.
///     #[var(shape = [units], init = constant(0.1), name = "bias")]
///     pub biases: Variable,
/// }
///
/// let reg = Registry::with_seed(0);
/// let train = Dense::new(&reg, 10, 11)?;
/// assert_eq!(train.weights.name(), "dense/weights");
/// assert_eq!(train.biases.name(), "dense/bias");
///
/// // TF's sharing: reuse in the enclosing scope, build again, get the same storage.
/// reg.reuse_variables();
/// let test = Dense::new(&reg, 10, 11)?;
/// assert!(train.shares_storage_with(&test));
/// # Ok::<(), scope::Error>(())
/// ```
///
/// # Grammar
///
/// ```text
/// #[variable_scope((crate = path,)? "scope" (, arg: Type)* (, crate = path)?)]
/// struct Name { field* }
///
/// field := #[var(key = value, ..)] vis ident: Variable
///        | #[model(key = value, ..)] vis ident: ModelType
///        | #[keep] vis arg: ArgType
/// ```
///
/// * `"scope"` is the variable scope the model opens inside the caller's current one. It
///   must match TF's root-scope regex `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`.
/// * `arg: Type` are the constructor's arguments; shapes and nested models' arguments may
///   use them, including fields of a config struct (`cfg.units`).
/// * `crate = path` (or `crate = "path"`, as serde's `#[serde(crate = "..")]`), first or last:
///   the path generated code reaches the `scope` crate by, when `Cargo.toml` renames it
///   (`tf = { package = "scope" }`: `#[variable_scope(crate = tf, "dense")]`). Without it,
///   a renamed crate makes rustc report ``E0433: cannot find `scope` in the crate root`` at
///   the macro.
/// * `custom_getter = expr` and `regularizer = l2(0.1)` (the values `#[var(regularizer = ..)]`
///   takes), anywhere after the scope name: what the model's variable scope is opened with, as
///   TF's `variable_scope("slim", custom_getter=.., regularizer=..)`; the getter wraps the
///   enclosing scope's, and both reach sub-scopes and nested models. `expr` is a
///   `CustomGetter` or `&CustomGetter` and may use the constructor arguments. The manifest's
///   first entry is then `ManifestEntry::Defaults`. In `model!`, a sub-scope takes them too:
///   `#[scope(custom_getter = .., regularizer = ..)] fc1 { .. }`.
/// * `#[keep] pub cfg: Config` keeps the constructor argument `cfg` as a field (of the
///   argument's type), so that a forward pass needs no config argument and cannot be given a
///   wrong one. The argument is moved in after every part is built, so parts may borrow it
///   (`shape = [cfg.units]`, `args(cfg.units)`) and it need not be `Clone`; a part that takes
///   it by value (`args = (cfg,)`) must take a copy (`cfg.clone()`). Kept fields are not
///   variables: `for_each_variable`, the manifest and `Debug` leave them out.
///
/// `#[var(..)]` keys, each at most once:
///
/// | key | value | default |
/// |---|---|---|
/// | `shape` | `[d0, d1, ..]`, each a `usize` expression; `[]` for a scalar | required unless `init = value(..)` |
/// | `init` | `zeros`, `ones`, `glorot_uniform`, `constant(x)`, `random_normal(mean, stddev)`, `truncated_normal(mean, stddev)`, `random_uniform(minval, maxval)`, `value(tensor)`; arguments are `f64` | the scope's initializer, else TF's default (glorot-uniform for floats, zeros otherwise) |
/// | `dtype` | `f16`, `f32`, `f64`, `i32`, `i64`, `bool` (or TF's `float32`, ...) | the scope's dtype (`f32`) |
/// | `trainable` | `true` or `false` | `true` |
/// | `name` | `"name"`, matching TF's nested regex `^[A-Za-z0-9_.\\/>-]*$` | the field's name |
/// | `when` | a `bool` expression: the variable is created only when it holds; the field is an `Option<Variable>` | always created |
/// | `tied` | an expression of type `Variable` or `&Variable` owned by another model: nothing is created; at build time the variable must belong to the same registry and have the declared `shape` (and `dtype`, if given), else a typed `Error::Tied*`; not with `init`, `trainable`, `name` or `when` | not tied |
/// | `partitioner` | one of TF's partitioners, `fixed_size(num_shards, axis = 0)`, `variable_axis_size(max_shard_bytes, axis = 0, max_shards = None)`, `min_max(max_partitions, axis = 0, min_slice_size = 262144)` (`tf.fixed_size_partitioner`, ..), or an expression of type `Partitioner` or `&Partitioner`: the variable is created in parts `name/part_0, ..` by `Registry::get_partitioned_variable`, the field is a `scope::partition::PartitionedVariable` (`Option<..>` with `when`), `for_each_variable` visits every part and the manifest records the partitioner as written; not on a scalar or a tied variable | one variable, unsplit |
/// | `regularizer` | `l1(scale)`, `l2(scale)`, `l1_l2(scale_l1, scale_l2)` (`tf.contrib.layers.l2_regularizer`, ..; a negative literal scale is refused), or an expression of type `Regularizer` or `&Regularizer`: its loss joins `REGULARIZATION_LOSSES` | the scope's regularizer, if any |
/// | `constraint` | `non_neg`, `clip_by_value(lo, hi)`, `clip_by_norm(max_norm)` (`f32`), or an expression of type `Constraint` or `&Constraint`: applied by the optimizers after each update | the scope's constraint, if any |
/// | `collections` | `[..]` of string literals and TF's `GraphKeys` names (`GLOBAL_VARIABLES`, `LOCAL_VARIABLES`, `MODEL_VARIABLES`, `MOVING_AVERAGE_VARIABLES`, `TRAINABLE_VARIABLES`, `REGULARIZATION_LOSSES`): the collections a new variable joins instead of `GLOBAL_VARIABLES`, as TF's `collections=` | `[GLOBAL_VARIABLES]` |
///
/// `#[model(..)]` keys:
///
/// | key | value | default |
/// |---|---|---|
/// | `scope` | `"name"`, any name TF's nested regex accepts (`self`, `LayerNorm`, `a.b`, `a-b`); with `repeat`, the elements' scope pattern holding the index `{i}` exactly once (`"h{i}"`: `h0`, `h1`, ...), or a prefix without braces (`"cell"`: `cell_0`, `cell_1`, ...) | the nested type's `Model::SCOPE` |
/// | `args` | `(expr, ..)`: the nested type's `Model::Args` as a tuple (what generated models take); or `= expr`: the whole `Model::Args` as is (a hand-written model whose `Args` is a config struct); with `repeat`, evaluated once per element | none |
/// | `repeat` | a `usize` expression `n`: built `n` times, element `i` in the scope `scope`'s pattern names (GPT-2's `scope = "h{i}"`: `h0 .. h{n-1}`), or, without `scope`, in `field_{i}` (BERT's `layer_0 .. layer_{n-1}`); the field is a `Vec<Type>` | built once |
/// | `when` | a `bool` expression: built only when it holds; the field is an `Option<Type>` | always built |
/// | `default_name` | bare, or `= "base"`: the scope comes from the enclosing scope's `default_name` counters (`dense`, `dense_1`, ... as TF's `variable_scope(None, default_name=..)`), bare taking the type's `Model::SCOPE`; not with `scope` or `repeat` | a fixed scope |
///
/// Names are checked at compile time across forms: a repeated `layer_{i}` clashes with a
/// sub-scope or model named `layer_0`, two repeats whose patterns can give one name clash
/// (`h{i}` and `h1{i}` both give `h10`), and a fixed name
/// that a `default_name = ".."` model before it takes from the counters clashes.
///
/// # What it generates
///
/// * the struct, with the helper attributes removed and a private scope handle added;
/// * `Name::new(reg, args..) -> scope::Result<Name>`: opens `"scope"` inside the registry's
///   current variable scope (inheriting its reuse mode) and calls `get_variable` for each
///   field in declaration order; a failure is the registry's typed error, such as
///   `Error::AlreadyExists` naming the variable;
/// * `impl Model`: `SCOPE`, the static `MANIFEST`, `build_in` (used to nest it),
///   `scope()`, `for_each_variable()`, and through them `scope_name()`, `variables()`,
///   `shares_storage_with()` and `manifest()`;
/// * `impl Debug` (do not derive it).
///
/// The struct's `#[cfg(..)]` attributes are copied onto every generated impl, and a
/// `#[deprecated]` struct's impls allow its use, so that only the user's own uses warn.
///
/// Put `#[variable_scope]` above any `#[derive(..)]`: derives listed before it would see the
/// struct without its scope handle, which the macro cannot see or fix; rustc then reports
/// "missing field `__scope_handle_put_variable_scope_above_derives`" at a derived `Clone`.
/// `Clone` may be derived (clones share the variables). `#[variable_scope]` is applied once;
/// a second one is an error.
///
/// Nested models are built in their own scope inside this one:
///
/// ```
/// use scope::{variable_scope, Model, Variable};
///
/// /// Sizes of a layer.
/// #[derive(Clone, Copy)]
/// pub struct Config {
///     /// Input width.
///     pub inputs: usize,
///     /// Output width.
///     pub units: usize,
/// }
///
/// /// A layer configured by a struct.
/// #[variable_scope("dense", cfg: Config)]
/// pub struct Dense {
///     /// The weights.
///     #[var(shape = [cfg.inputs, cfg.units])]
///     pub weights: Variable,
/// }
///
/// /// Two layers and a step counter.
/// #[variable_scope("mlp", inputs: usize, hidden: usize)]
/// pub struct Mlp {
///     /// In scope `mlp/hidden_layer`.
///     #[model(scope = "hidden_layer", args(Config { inputs, units: hidden }))]
///     pub first: Dense,
///     /// In the type's default scope, `mlp/dense`.
///     #[model(args(Config { inputs: hidden, units: 1 }))]
///     pub second: Dense,
///     /// Not trained.
///     #[var(shape = [], dtype = i64, init = zeros, trainable = false)]
///     pub step: Variable,
/// }
///
/// let reg = scope::Registry::new();
/// let mlp = Mlp::new(&reg, 4, 3)?;
/// let names: Vec<String> = mlp.variables().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["mlp/hidden_layer/weights", "mlp/dense/weights", "mlp/step"]);
/// // The manifest needs no registry.
/// let paths: Vec<String> = Mlp::manifest().into_iter().map(|(path, _)| path).collect();
/// assert_eq!(paths, ["hidden_layer/weights", "dense/weights", "step"]);
/// # Ok::<(), scope::Error>(())
/// ```
///
/// # Repeated, optional and tied parts, and layers named as tf.layers names them
///
/// TF1's `MultiRNNCell` builds its cells in `cell_0`, `cell_1`, ...; an optional projection
/// exists by a run-time flag; an output layer may reuse another model's table:
///
/// ```
/// use scope::{model, variable_scope, Model, Registry, Variable};
///
/// model! {
///     /// A cell.
///     pub struct Cell("cell", units: usize) {
///         kernel: [units, units],
///     }
/// }
///
/// /// Cells, an optional projection, and a table owned elsewhere.
/// #[variable_scope("multi_rnn_cell", n: usize, project: bool, words: Variable)]
/// pub struct Multi {
///     /// In `cell_0 .. cell_{n-1}`.
///     #[model(repeat = n, scope = "cell", args(4))]
///     pub cells: Vec<Cell>,
///     /// In the type's default scope name, through the `default_name` counters.
///     #[model(when = project, default_name, args(4))]
///     pub projection: Option<Cell>,
///     /// The table, checked to be `[3, 4]`; not created here.
///     #[var(tied = words, shape = [3, 4])]
///     pub table: Variable,
/// }
///
/// let reg = Registry::new();
/// let table = reg.get_variable("embeddings", scope::VarSpec::new().shape([3, 4]))?;
/// let multi = Multi::new(&reg, 2, true, table.clone())?;
/// assert_eq!(multi.cells[1].kernel.name(), "multi_rnn_cell/cell_1/kernel");
/// // `cell_0` and `cell_1` were opened, not `cell`: the counters give `cell` itself.
/// assert_eq!(multi.projection.as_ref().unwrap().scope_name(), "multi_rnn_cell/cell");
/// assert!(multi.table.ptr_eq(&table));
/// assert_eq!(multi.variables().len(), 3); // the table is its owner's
/// # Ok::<(), scope::Error>(())
/// ```
///
/// # Compile-time errors
///
/// All are reported at once, each under the offending tokens. The struct is still emitted,
/// with `new` (its declared signature), `impl Model` and `impl Debug`, so that its uses
/// elsewhere raise nothing more: unknown keys or initializers (listing the valid ones),
/// duplicate keys, names TF's regexes reject (given or taken from a field's name), two
/// variables or nested models with one name in the scope (after `name`/`scope` overrides), a
/// variable with neither a shape nor a `value(..)` initializer, a field with neither `#[var]`
/// nor `#[model]`, literals of the wrong type, `#[cfg]` on a field (the macro runs before
/// cfg), an argument type `Model::Args` cannot hold (a borrow, `impl Trait`).
///
/// ```compile_fail
/// use scope::{variable_scope, Variable};
///
/// #[variable_scope("dense")]
/// pub struct Dense {
///     #[var(shape = [2], name = "w")]
///     pub weights: Variable,
///     #[var(shape = [2])]
///     pub w: Variable, // duplicate name `w` in scope `dense`
/// }
/// ```
#[proc_macro_attribute]
pub fn variable_scope(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::variable_scope(args.into(), input.into()).into()
}

/// Declares models concisely: variables, anonymous sub-scopes and nested models in one
/// block.
///
/// The seed RNN, whose variables are TF's `rnn/input_layer/weights`,
/// `rnn/input_layer/biases`, `rnn/cell/basic_lstm_cell/kernel`,
/// `rnn/cell/basic_lstm_cell/bias`, `rnn/output_layer/weights` and `rnn/output_layer/biases`:
///
/// ```
/// use scope::{model, Model, Registry};
///
/// model! {
///     /// The seed RNN.
///     pub struct Rnn("rnn", input_size: usize, hidden: usize, classes: usize) {
///         input_layer {
///             weights: [input_size, hidden] = random_normal(0.0, 0.5),
///             biases: [hidden] = constant(0.1),
///         }
///         cell {
///             basic_lstm_cell {
///                 kernel: [hidden + hidden, 4 * hidden],
///                 bias: [4 * hidden] = zeros,
///             }
///         }
///         output_layer {
///             weights: [hidden, classes] = random_normal(0.0, 0.5),
///             biases: [classes] = constant(0.1),
///         }
///     }
/// }
///
/// let reg = Registry::with_seed(0);
/// let train = Rnn::new(&reg, 10, 11, 2)?;
/// assert_eq!(train.cell_basic_lstm_cell_kernel.name(), "rnn/cell/basic_lstm_cell/kernel");
/// assert_eq!(train.cell_basic_lstm_cell_kernel.shape(), [22, 44]);
///
/// reg.reuse_variables();
/// let test = Rnn::new(&reg, 10, 11, 2)?;
/// assert!(train.shares_storage_with(&test));
/// assert_eq!(reg.trainable_variables().len(), 6);
/// # Ok::<(), scope::Error>(())
/// ```
///
/// # Grammar
///
/// ```text
/// model!    { model+ }
/// model    := attr* vis struct Name((crate = path,)? "scope" (, arg: Type)*) { item* }
/// item     := #[scope(name = "..")]? ident { item* } ,?             anonymous sub-scope
///           | #[model(..)]? ident: model Type (( expr, .. ))? ,   nested model
///           | #[var(..)]?   ident: dtype? [shape]? (= init)? ,    variable
///           | #[keep] arg ,                                       kept argument
/// ```
///
/// * A variable is `name: [shape] = init`, optionally with a dtype before the shape
///   (`step: i64[] = zeros`). Its options are those of `#[variable_scope]`'s `#[var(..)]`,
///   which may also be put on the item for the rarer ones (`#[var(trainable = false, name =
///   "global_step")]`); giving an option both ways is an error.
/// * `ident { .. }` opens the variable scope `ident` for what it contains. It adds no
///   type: the fields of its items are prefixed with its name (`input_layer_weights`).
/// * `ident: model Type(args..)` builds `Type` (any type implementing `scope::Model`)
///   with `Model::build_in` in its default scope, or in `#[model(scope = "..")]`. Its
///   arguments are `Type::Args` as a tuple; they may name the parts declared before it
///   (`head: model Head(emb.word_embeddings.clone())`), as a `tied` expression may.
/// * `#[scope(name = "self")] self_attn { .. }` opens the scope `self` (any name TF's
///   nested regex accepts), while fields keep the identifier's prefix (`self_attn_query`).
/// * `#[model(..)]` and `#[var(..)]` take the keys of `#[variable_scope]`, including
///   `repeat` (the field is a `Vec<Type>`), `when` (an `Option<Type>` or
///   `Option<Variable>`), `default_name` and `tied`.
/// * `#[keep] cfg,` at the top level keeps the constructor argument `cfg` as a field of the
///   argument's type, as `#[keep]` does in `#[variable_scope]`:
///
/// ```
/// #[derive(Debug)]
/// pub struct Config {
///     pub units: usize,
/// }
///
/// scope::model! {
///     pub struct Dense("dense", cfg: Config) {
///         #[keep]
///         cfg,
///         kernel: [cfg.units, cfg.units],
///     }
/// }
///
/// let dense = Dense::new(&scope::Registry::new(), Config { units: 3 })?;
/// assert_eq!(dense.cfg.units, 3);
/// # Ok::<(), scope::Error>(())
/// ```
///
/// * Fields are as visible as the struct; every field gets a doc line naming its variable,
///   shape and initializer. Outer attributes and doc comments on the struct and on items
///   are kept.
///
/// * `crate = path` in a model's header names the `scope` crate when `Cargo.toml` renames
///   it, as for `#[variable_scope]`; each model of the block takes its own. Without it, a
///   renamed crate makes rustc report ``E0433: cannot find `scope` in the crate root`` at
///   the macro:
///
/// ```
/// extern crate scope as tf; // what `tf = { package = "scope" }` does
///
/// tf::model! {
///     /// A layer.
///     pub struct Dense(crate = tf, "dense", units: usize) {
///         kernel: [units, units],
///     }
/// }
///
/// fn main() -> Result<(), tf::Error> {
///     let reg = tf::Registry::new();
///     assert_eq!(Dense::new(&reg, 2)?.kernel.name(), "dense/kernel");
///     Ok(())
/// }
/// ```
///
/// The generated items are those of `#[variable_scope]`: the struct, `Name::new`, `impl
/// Model` with the static manifest, and `impl Debug`.
///
/// ```
/// use scope::{model, Registry};
///
/// model! {
///     /// A layer.
///     pub struct Dense("dense", inputs: usize, units: usize) {
///         weights: [inputs, units] = glorot_uniform,
///         biases: f32[units] = zeros,
///     }
///
///     /// Two layers and a counter.
///     pub struct Tower("tower", width: usize) {
///         /// In `tower/dense`, `Dense`'s default scope.
///         first: model Dense(width, width),
///         /// In `tower/second`.
///         #[model(scope = "second")]
///         second: model Dense(width, 1),
///         /// Named `global_step`, not trained.
///         #[var(name = "global_step", trainable = false)]
///         step: i64[] = zeros,
///     }
/// }
///
/// let reg = Registry::new();
/// let tower = Tower::new(&reg, 3)?;
/// assert_eq!(tower.second.weights.name(), "tower/second/weights");
/// assert_eq!(tower.step.name(), "tower/global_step");
/// assert_eq!(reg.trainable_variables().len(), 4);
/// # Ok::<(), scope::Error>(())
/// ```
///
/// BERT's shape: an encoder of `n` layers, each with `attention/self`, Dense layers named
/// by tf.layers' counters, an optional token-type table, and a head tied to the word table:
///
/// ```
/// use scope::{model, Model, Registry, Variable};
///
/// /// Sizes; `range` is `f32`, as in BERT's config.
/// #[derive(Clone, Copy)]
/// pub struct Cfg {
///     /// Width.
///     pub hidden: usize,
///     /// Layers.
///     pub layers: usize,
///     /// Whether there is a token-type table.
///     pub use_token_type: bool,
///     /// Initializer's standard deviation.
///     pub range: f32,
/// }
///
/// model! {
///     /// tf.layers.dense's variables.
///     pub struct Dense("dense", inputs: usize, units: usize) {
///         kernel: [inputs, units],
///         bias: [units] = zeros,
///     }
///
///     /// An encoder.
///     pub struct Encoder("bert", cfg: Cfg) {
///         embeddings {
///             word_embeddings: [10, cfg.hidden] = truncated_normal(0.0, cfg.range),
///             #[var(when = cfg.use_token_type)]
///             token_type_embeddings: [2, cfg.hidden] = truncated_normal(0.0, cfg.range),
///         }
///         encoder {
///             #[model(repeat = cfg.layers)]
///             layer: model Layer(cfg.hidden),
///         }
///     }
///
///     /// One layer.
///     pub struct Layer("layer", hidden: usize) {
///         attention {
///             #[scope(name = "self")]
///             self_attn {
///                 #[model(scope = "query")] query: model Dense(hidden, hidden),
///             }
///             output {
///                 #[model(default_name)] first: model Dense(hidden, hidden),
///                 #[model(default_name)] second: model Dense(hidden, hidden),
///             }
///         }
///     }
///
///     /// The masked-LM head.
///     pub struct Head("predictions", hidden: usize, table: Variable) {
///         #[var(tied = table)]
///         output_weights: [10, hidden],
///         output_bias: [10] = zeros,
///     }
/// }
///
/// let reg = Registry::new();
/// let cfg = Cfg { hidden: 4, layers: 2, use_token_type: false, range: 0.02 };
/// let bert = Encoder::new(&reg, cfg)?;
/// let layer = &bert.encoder_layer[1];
/// assert_eq!(
///     layer.attention_self_attn_query.kernel.name(),
///     "bert/encoder/layer_1/attention/self/query/kernel"
/// );
/// assert_eq!(layer.attention_output_first.scope_name(), "bert/encoder/layer_1/attention/output/dense");
/// assert_eq!(layer.attention_output_second.scope_name(), "bert/encoder/layer_1/attention/output/dense_1");
/// assert!(bert.embeddings_token_type_embeddings.is_none());
///
/// let head = Head::new(&reg, 4, bert.embeddings_word_embeddings.clone())?;
/// assert!(head.output_weights.ptr_eq(&bert.embeddings_word_embeddings));
/// // A tie of the wrong shape is a typed error, and creates nothing.
/// let before = reg.len();
/// let err = Head::new(&reg, 5, bert.embeddings_word_embeddings.clone()).unwrap_err();
/// assert!(matches!(err, scope::Error::TiedShapeMismatch { .. }));
/// assert_eq!(reg.len(), before);
/// # Ok::<(), scope::Error>(())
/// ```
///
/// Mistakes are reported at compile time, all at once, as for `#[variable_scope]`; model
/// fields flattened to the same name are one more:
///
/// ```compile_fail
/// scope::model! {
///     pub struct Rnn("rnn") {
///         input { layer_w: [2] }
///         input_layer { w: [2] } // duplicate field `input_layer_w`
///     }
/// }
/// ```
///
/// So is a repeated prefix that collides with a fixed name:
///
/// ```compile_fail
/// scope::model! {
///     pub struct Cell("cell") { w: [2] }
///
///     pub struct Multi("multi", n: usize) {
///         #[model(repeat = n)] layer: model Cell,
///         layer_0 { w: [2] } // clashes with the first element of `layer`
///     }
/// }
/// ```
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand::model(input.into()).into()
}
