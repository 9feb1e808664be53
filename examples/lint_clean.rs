//! Generated code under strict lints: this example is compiled by `cargo test` and linted by
//! CI's `cargo clippy --workspace --all-targets -- -D warnings`, with the lints below denied
//! as a user crate might deny them. It uses every form of both macros: sub-scopes,
//! `#[scope(name = "..")]`, nested models (generic ones too), `repeat`, `when`,
//! `default_name`, `tied`, `args = cfg`, every initializer, dtypes, `trainable`, `name`.
//!
//! Run it: `cargo run --example lint_clean`.
#![deny(warnings, missing_docs, unreachable_pub, rust_2018_idioms)]
#![deny(clippy::all, clippy::pedantic)]

use std::marker::PhantomData;

use scope::{
    model, variable_scope, ManifestEntry, Model, Registry, VarSpec, Variable, VariableScope,
};

/// Sizes of a model; `range` is `f32`, as in BERT's config.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Width.
    pub width: usize,
    /// Layers.
    pub layers: usize,
    /// Whether the optional parts exist.
    pub flag: bool,
    /// Initializer's standard deviation.
    pub range: f32,
}

/// A hand-written model generic over a marker type, whose `Args` is a config struct.
#[derive(Clone, Debug)]
pub struct Pair<T> {
    scope: VariableScope,
    w: Variable,
    marker: PhantomData<T>,
}

impl<T: std::fmt::Debug> Model for Pair<T> {
    type Args = Config;
    const SCOPE: &'static str = "pair";
    const MANIFEST: &'static [ManifestEntry] = &[];

    fn build_in(reg: &Registry, name: &str, cfg: Config) -> scope::Result<Self> {
        reg.variable_scope(name).with(|vs| {
            Ok(Pair {
                scope: vs.clone(),
                w: reg.get_variable("w", VarSpec::new().shape([cfg.width]))?,
                marker: PhantomData,
            })
        })
    }

    fn scope(&self) -> &VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        f(&self.w);
    }
}

const SEVEN: usize = 7;

model! {
    /// tf.layers.dense's variables.
    #[derive(Clone)]
    pub struct Dense("dense", inputs: usize, units: usize) {
        kernel: [inputs, units] = glorot_uniform,
        bias: [units] = zeros,
    }

    /// Every form `model!` has.
    #[derive(Clone)]
    pub struct Encoder("bert", cfg: Config, table: Variable) {
        embeddings {
            word_embeddings: [SEVEN, cfg.width] = truncated_normal(0.0, cfg.range),
            #[var(when = cfg.flag)]
            token_type: [2, cfg.width] = random_normal(0.0, cfg.range),
            position: f64[4, cfg.width] = random_uniform(-1, 1),
            scale: [] = constant(0.5),
            count: i32[] = constant(3),
            on: bool[] = constant(true),
            #[var(name = "global_step", trainable = false)]
            step: i64[] = zeros,
            norm: [cfg.width] = ones,
        }
        #[scope(name = "self")]
        self_attn {
            #[model(default_name = "query")] query: model Dense(cfg.width, cfg.width),
            #[model(default_name = "query")] key: model Dense(cfg.width, cfg.width),
        }
        encoder {
            #[model(repeat = cfg.layers)]
            layer: model Dense(cfg.width, cfg.width),
        }
        #[model(default_name, when = cfg.flag)]
        pooler: model Dense(cfg.width, cfg.width),
        #[model(args = cfg)]
        pair: model Pair<(u8, u16)>,
        #[var(tied = table)]
        output_weights: [SEVEN, cfg.width],
        #[var(tied = embeddings_word_embeddings.clone())]
        own_table: [SEVEN, cfg.width],
    }
}

/// Every form `#[variable_scope]` has, nesting both kinds of model.
#[variable_scope("multi_rnn_cell", n: usize, project: bool, cfg: Config, word_table: Variable)]
#[derive(Clone)]
pub struct Multi {
    /// `cell_0 .. cell_{n-1}`.
    #[model(repeat = n, scope = "cell", args(4, 4))]
    pub cells: Vec<Dense>,
    /// Built the way tf.layers builds an unnamed layer.
    #[model(when = project, default_name, args(4, 4))]
    pub projection: Option<Dense>,
    /// The encoder, in `multi_rnn_cell/enc`.
    #[model(scope = "enc", args(cfg, word_table.clone()))]
    pub encoder: Encoder,
    /// Another model's table.
    #[var(tied = &word_table, shape = [SEVEN, cfg.width], dtype = f32)]
    pub table: Variable,
    /// An optional bias.
    #[var(when = project, shape = [4], init = constant(0.1), name = "b")]
    pub bias: Option<Variable>,
    /// A generic nested model.
    #[model(args = cfg)]
    pub pair: Pair<u8>,
}

mod private {
    //! Private models: no `unreachable_pub`, no dead code.
    use scope::{model, variable_scope, Variable};

    model! {
        /// A private layer.
        pub(crate) struct Hidden("hidden", units: usize) {
            w: [units] = random_normal(0.0, 0.5),
        }
    }

    /// A private model holding a private one.
    #[variable_scope("outer", units: usize)]
    pub(crate) struct Outer {
        /// The layer.
        #[model(args(units))]
        pub(crate) hidden: super::private::Hidden,
        /// A variable.
        #[var(shape = [units, 2])]
        pub(crate) v: Variable,
    }
}

fn main() -> scope::Result<()> {
    let reg = Registry::with_seed(0);
    let table = reg.get_variable("table", VarSpec::new().shape([SEVEN, 3]))?;
    let cfg = Config {
        width: 3,
        layers: 2,
        flag: true,
        range: 0.02,
    };
    let multi = Multi::new(&reg, 2, true, cfg, table.clone())?;
    assert!(multi.encoder.output_weights.ptr_eq(&table));
    assert_eq!(multi.encoder.encoder_layer.len(), 2);
    let outer = private::Outer::new(&reg, 3)?;
    println!(
        "{} variables; {} in {}",
        multi.variables().len(),
        outer.variables().len(),
        outer.scope_name()
    );
    for (path, entry) in Multi::manifest() {
        println!("{path}: {entry:?}");
    }
    Ok(())
}
