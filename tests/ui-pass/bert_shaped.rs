//! A small BERT-shaped model with every form of issue #10 together, all declared here:
//! `self` through an explicit scope name, repeated layers, tf.layers-named Dense layers,
//! an optional embedding and a tied table.

use scope::{model, variable_scope, Model, Registry, Variable};

/// BERT's configuration, the fields it uses here.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub intermediate_size: usize,
    pub type_vocab_size: usize,
    pub use_token_type: bool,
    pub initializer_range: f32,
}

model! {
    /// tf.layers.dense's variables.
    pub struct Dense("dense", inputs: usize, units: usize, range: f32) {
        kernel: [inputs, units] = truncated_normal(0.0, range),
        bias: [units] = zeros,
    }

    /// `LayerNorm`: `beta`, then `gamma`.
    pub struct LayerNorm("LayerNorm", width: usize) {
        beta: [width] = zeros,
        gamma: [width] = ones,
    }

    /// One encoder layer.
    pub struct Layer("layer", cfg: Config) {
        attention {
            #[scope(name = "self")]
            self_attn {
                #[model(scope = "query")] query: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range),
                #[model(scope = "key")] key: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range),
                #[model(scope = "value")] value: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range),
            }
            output {
                #[model(default_name)] dense: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range),
                norm: model LayerNorm(cfg.hidden_size),
            }
        }
        intermediate {
            #[model(default_name)] dense: model Dense(cfg.hidden_size, cfg.intermediate_size, cfg.initializer_range),
        }
        output {
            #[model(default_name)] dense: model Dense(cfg.intermediate_size, cfg.hidden_size, cfg.initializer_range),
            norm: model LayerNorm(cfg.hidden_size),
        }
    }

    /// The model: embeddings, encoder, pooler.
    pub struct Bert("bert", cfg: Config) {
        embeddings {
            word_embeddings: [cfg.vocab_size, cfg.hidden_size]
                = truncated_normal(0.0, cfg.initializer_range),
            #[var(when = cfg.use_token_type)]
            token_type_embeddings: [cfg.type_vocab_size, cfg.hidden_size]
                = truncated_normal(0.0, cfg.initializer_range),
            norm: model LayerNorm(cfg.hidden_size),
        }
        encoder {
            #[model(repeat = cfg.num_hidden_layers)]
            layer: model Layer(cfg),
        }
        pooler {
            #[model(default_name)] dense: model Dense(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range),
        }
    }
}

/// The masked-LM head, in `cls/predictions`: its output weights are BERT's word table.
#[variable_scope("predictions", cfg: Config, table: Variable)]
pub struct Predictions {
    #[model(default_name = "transform", args(cfg.hidden_size, cfg.hidden_size, cfg.initializer_range))]
    pub transform: Dense,
    #[var(tied = table, shape = [cfg.vocab_size, cfg.hidden_size])]
    pub output_weights: Variable,
    #[var(shape = [cfg.vocab_size], init = zeros)]
    pub output_bias: Variable,
}

fn main() {
    let cfg = Config {
        vocab_size: 11,
        hidden_size: 4,
        num_hidden_layers: 2,
        intermediate_size: 8,
        type_vocab_size: 2,
        use_token_type: true,
        initializer_range: 0.02,
    };
    let reg = Registry::with_seed(0);
    let bert = Bert::new(&reg, cfg).unwrap();
    let head = reg
        .variable_scope("cls")
        .with(|_| Predictions::new(&reg, cfg, bert.embeddings_word_embeddings.clone()))
        .unwrap();
    let names: Vec<String> = bert.variables().into_iter().map(|(n, _)| n).collect();
    for name in [
        "bert/embeddings/word_embeddings",
        "bert/embeddings/token_type_embeddings",
        "bert/embeddings/LayerNorm/gamma",
        "bert/encoder/layer_0/attention/self/query/kernel",
        "bert/encoder/layer_1/attention/self/value/bias",
        "bert/encoder/layer_1/attention/output/dense/kernel",
        "bert/encoder/layer_1/attention/output/LayerNorm/beta",
        "bert/encoder/layer_0/intermediate/dense/kernel",
        "bert/encoder/layer_1/output/dense/bias",
        "bert/pooler/dense/kernel",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    assert_eq!(names.len(), 3 + 1 + 2 * 16 + 2);
    assert_eq!(head.transform.kernel.name(), "cls/predictions/transform/kernel");
    assert!(head.output_weights.ptr_eq(&bert.embeddings_word_embeddings));
    assert_eq!(head.variables().len(), 3);
    assert_eq!(reg.len(), names.len() + 3);
    // The manifest agrees without a registry.
    let paths: Vec<String> = Bert::manifest().into_iter().map(|(p, _)| p).collect();
    assert!(paths.contains(&"encoder/layer_{i}/attention/self/key/kernel".to_owned()));
    assert_eq!(paths.len(), 3 + 1 + 16 + 2);
}
