//! This project's BERT (`scope::models::bert`, TF's names) on a fixture: build, forward,
//! outputs by the fixture's names.

use ndarray::{Array1, Array2};
use scope::models::bert::{
    BertClassifier, BertConfig, BertInputs, BertPretraining, PretrainingLabels,
};
use scope::tape::{NodeId, Tape};
use scope::{Model, Registry};

use crate::Fixture;

/// The model of a fixture's task, built with this project's BERT.
pub enum ScopeBert {
    /// `run_classifier`'s model.
    Classifier(Box<BertClassifier>),
    /// `run_pretraining`'s model.
    Pretraining(Box<BertPretraining>),
}

impl Fixture {
    /// The fixture's `BertConfig`.
    pub fn scope_config(&self) -> BertConfig {
        BertConfig::from_json(&self.json["spec"]["config"].to_string()).expect("a BERT config")
    }

    fn ints(&self, name: &str) -> (Vec<usize>, Vec<i64>) {
        let input = &self.json["inputs"][name];
        let shape = input["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|d| d.as_u64().expect("a dimension") as usize)
            .collect();
        let data = input["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|x| x.as_i64().expect("an integer"))
            .collect();
        (shape, data)
    }

    fn ints2(&self, name: &str) -> Array2<i64> {
        let (shape, data) = self.ints(name);
        Array2::from_shape_vec((shape[0], shape[1]), data).expect("a [batch, n] input")
    }

    /// Builds this project's BERT for the fixture's task in `reg` (its variables only, by
    /// TF's names, not yet restored).
    pub fn build_scope_bert(&self, reg: &Registry) -> ScopeBert {
        let cfg = self.scope_config();
        match self.task() {
            "classifier" => {
                let labels = self.json["spec"]["num_labels"]
                    .as_u64()
                    .expect("num_labels");
                ScopeBert::Classifier(Box::new(
                    BertClassifier::build_here(reg, (cfg, labels as usize)).expect("the model"),
                ))
            }
            _ => ScopeBert::Pretraining(Box::new(
                BertPretraining::build_here(reg, (cfg,)).expect("the model"),
            )),
        }
    }
}

impl ScopeBert {
    /// One forward pass on the fixture's inputs: the outputs candle also computes, by the
    /// fixture's names, flattened.
    pub fn outputs(&self, fx: &Fixture) -> Vec<(String, Vec<f32>)> {
        let inputs = BertInputs::new(
            fx.ints2("input_ids"),
            fx.ints2("input_mask"),
            fx.ints2("token_type_ids"),
        )
        .expect("the fixture's inputs");
        let mut tape = Tape::<f32>::new();
        let last = fx.config_usize("num_hidden_layers") - 1;
        let named: Vec<(String, NodeId)> = match self {
            ScopeBert::Classifier(model) => {
                let labels = fx.ints("labels").1;
                let out = model
                    .forward(&mut tape, &inputs, &labels)
                    .expect("the forward pass");
                vec![
                    (format!("layer_{last}_output"), out.bert.sequence_output),
                    ("pooled_output".into(), out.bert.pooled_output),
                    ("logits".into(), out.logits),
                ]
            }
            ScopeBert::Pretraining(model) => {
                let weights = fx.json["inputs"]["masked_lm_weights"]["data"]
                    .as_array()
                    .expect("masked_lm_weights")
                    .iter()
                    .map(|w| w.as_f64().expect("a weight") as f32)
                    .collect();
                let positions = fx.ints2("masked_lm_positions");
                let labels = PretrainingLabels {
                    masked_lm_weights: Array2::from_shape_vec(positions.dim(), weights)
                        .expect("[batch, P] weights"),
                    masked_lm_positions: positions,
                    masked_lm_ids: fx.ints2("masked_lm_ids"),
                    next_sentence_labels: Array1::from(fx.ints("next_sentence_labels").1),
                };
                let out = model
                    .forward(&mut tape, &inputs, &labels)
                    .expect("the forward pass");
                vec![
                    (format!("layer_{last}_output"), out.bert.sequence_output),
                    ("pooled_output".into(), out.bert.pooled_output),
                    ("masked_lm_log_probs".into(), out.masked_lm_log_probs),
                    (
                        "next_sentence_log_probs".into(),
                        out.next_sentence_log_probs,
                    ),
                ]
            }
        };
        named
            .into_iter()
            .map(|(name, node)| {
                let value = tape.value(node).expect("a computed node");
                (name, value.iter().copied().collect())
            })
            .collect()
    }
}
