//! candle-transformers' own `BertModel` reads the safetensors scope exports from the BERT
//! fixtures and computes TF's outputs, and this project's; what candle's `VarMap` saves
//! restores into this project's TF-named BERT strictly and bit-exactly, and the fixture's
//! forward check passes on it.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, IndexOp, Module, Tensor, D};
use candle_nn::{layer_norm, linear, LayerNorm, Linear, VarBuilder, VarMap};
use candle_transformers::models::bert::BertModel;
use scope::checkpoint::{CheckpointSource, Restore, SafetensorsCheckpoint, Save, TfCheckpoint};
use scope::models::bert::{bert_hf_to_tf, bert_tf_to_hf, BertLayout};
use scope_candle_interop::{fixture_dirs, max_abs_diff, temp_dir, Fixture};

/// How close candle must come to TF's numbers.
const TOLERANCE: f32 = 1e-4;

/// candle's `BertModel` plus the parts of Hugging Face's classes it does not have, built
/// on the same `VarBuilder` under Hugging Face's names.
struct Bert {
    model: BertModel,
    pooler: Linear,
    heads: Heads,
}

enum Heads {
    /// `BertForSequenceClassification`'s `classifier`.
    Classifier(Linear),
    /// `BertForPreTraining`'s `cls`: the masked-LM transform, its output bias (the decoder
    /// is tied to the word embeddings) and the next-sentence classifier.
    PreTraining {
        transform: Linear,
        layer_norm: LayerNorm,
        word_embeddings: Tensor,
        bias: Tensor,
        seq_relationship: Linear,
    },
}

fn layout(fx: &Fixture) -> BertLayout {
    match fx.task() {
        "classifier" => BertLayout::SequenceClassification,
        "pretraining" => BertLayout::PreTraining,
        other => panic!("unknown task {other}"),
    }
}

impl Bert {
    fn load(vb: VarBuilder<'_>, fx: &Fixture) -> candle_core::Result<Bert> {
        let config = fx.candle_config();
        let h = config.hidden_size;
        let model = BertModel::load(vb.pp("bert"), &config)?;
        let pooler = linear(h, h, vb.pp("bert.pooler.dense"))?;
        let heads = match layout(fx) {
            BertLayout::PreTraining => {
                let vocab = config.vocab_size;
                Heads::PreTraining {
                    transform: linear(h, h, vb.pp("cls.predictions.transform.dense"))?,
                    layer_norm: layer_norm(h, 1e-12, vb.pp("cls.predictions.transform.LayerNorm"))?,
                    word_embeddings: vb
                        .get((vocab, h), "bert.embeddings.word_embeddings.weight")?,
                    bias: vb.pp("cls.predictions").get(vocab, "bias")?,
                    seq_relationship: linear(h, 2, vb.pp("cls.seq_relationship"))?,
                }
            }
            _ => {
                let labels = fx.json["spec"]["num_labels"].as_u64().expect("num_labels") as usize;
                Heads::Classifier(linear(h, labels, vb.pp("classifier"))?)
            }
        };
        Ok(Bert {
            model,
            pooler,
            heads,
        })
    }

    /// Runs the fixture's inputs: every output TF recorded that these layers compute, by
    /// the fixture's name, flattened.
    fn outputs(&self, fx: &Fixture) -> candle_core::Result<Vec<(String, Vec<f32>)>> {
        let flat = |t: &Tensor| -> candle_core::Result<Vec<f32>> { t.flatten_all()?.to_vec1() };
        let ids = fx.input("input_ids", DType::U32);
        let types = fx.input("token_type_ids", DType::U32);
        let mask = fx.input("input_mask", DType::F32);
        let sequence = self.model.forward(&ids, &types, Some(&mask))?;
        let last = fx.config_usize("num_hidden_layers") - 1;
        let pooled = self.pooler.forward(&sequence.i((.., 0))?)?.tanh()?;
        let mut outputs = vec![
            (format!("layer_{last}_output"), flat(&sequence)?),
            ("pooled_output".to_owned(), flat(&pooled)?),
        ];
        match &self.heads {
            Heads::Classifier(classifier) => {
                outputs.push(("logits".to_owned(), flat(&classifier.forward(&pooled)?)?));
            }
            Heads::PreTraining {
                transform,
                layer_norm,
                word_embeddings,
                bias,
                seq_relationship,
            } => {
                let (b, s, h) = sequence.dims3()?;
                let positions = fx.input("masked_lm_positions", DType::U32);
                let p = positions.dim(1)?;
                let offsets = Tensor::arange(0, b as u32, &Device::Cpu)?
                    .affine(s as f64, 0.0)?
                    .reshape((b, 1))?
                    .broadcast_as((b, p))?;
                let rows = (positions + offsets)?.flatten_all()?;
                let gathered = sequence.reshape((b * s, h))?.index_select(&rows, 0)?;
                let x = layer_norm.forward(&transform.forward(&gathered)?.gelu()?)?;
                let logits = x.matmul(&word_embeddings.t()?)?.broadcast_add(bias)?;
                let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
                outputs.push(("masked_lm_log_probs".to_owned(), flat(&log_probs)?));
                let nsp = seq_relationship.forward(&pooled)?;
                let nsp = candle_nn::ops::log_softmax(&nsp, D::Minus1)?;
                outputs.push(("next_sentence_log_probs".to_owned(), flat(&nsp)?));
            }
        }
        Ok(outputs)
    }
}

/// Checks `outputs` against `reference` (by output name) within [`TOLERANCE`].
fn assert_close(
    fx: &Fixture,
    who: &str,
    outputs: &[(String, Vec<f32>)],
    against: &str,
    reference: impl Fn(&str) -> Vec<f32>,
) {
    for (name, got) in outputs {
        let diff = max_abs_diff(got, &reference(name));
        println!(
            "{} {who}: {name} within {diff:e} of {against}",
            fx.dir.display()
        );
        assert!(
            diff <= TOLERANCE,
            "{}: {who}: {name} is {diff} from {against}'s",
            fx.dir.display()
        );
    }
}

/// Exports the fixture's checkpoint (the weights TF's outputs were computed at) with the
/// Hugging Face preset: one file, or shards and an index.
fn export(fx: &Fixture, dir: &Path, max_shard_size: Option<u64>) -> Vec<PathBuf> {
    let tf = TfCheckpoint::open(fx.checkpoint()).expect("the fixture's TF checkpoint");
    let mapping = bert_tf_to_hf(BertLayout::detect_tf(tf.keys()));
    assert_eq!(BertLayout::detect_tf(tf.keys()), layout(fx));
    let mut save = Save::from_checkpoint(&tf).mapping(&mapping);
    if let Some(n) = max_shard_size {
        save = save.max_shard_size(n);
    }
    save.save(dir.join("model.safetensors"))
        .expect("the export")
        .files
}

#[test]
fn candle_reads_what_scope_exports() {
    for dir in fixture_dirs() {
        let fx = Fixture::load(&dir);
        let tmp = temp_dir(&format!("read-{}", fx.task()));
        // In shards of 16 KiB, as a large model would be: candle takes the shard files the
        // index lists.
        let files = export(&fx, &tmp, Some(16 << 10));
        assert!(files.len() > 1, "sharded");
        let index: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.join("model.safetensors.index.json")).unwrap(),
        )
        .unwrap();
        let mut shard_files: Vec<PathBuf> = index["weight_map"]
            .as_object()
            .unwrap()
            .values()
            .map(|f| tmp.join(f.as_str().unwrap()))
            .collect();
        shard_files.sort();
        shard_files.dedup();
        assert_eq!(shard_files, files);
        // SAFETY: the files are ours and nothing writes them while mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&shard_files, DType::F32, &Device::Cpu).unwrap()
        };
        let bert = Bert::load(vb, &fx).expect("candle loads the export");
        let outputs = bert.outputs(&fx).unwrap();
        assert_close(&fx, "candle", &outputs, "TF", |n| fx.output(n));

        // And this project's BERT, at the same weights, computes the same.
        let reg = scope::Registry::new();
        let model = fx.build_scope_bert(&reg);
        let tf = TfCheckpoint::open(fx.checkpoint()).unwrap();
        Restore::new(&reg).allow_unexpected().restore(&tf).unwrap();
        let ours = model.outputs(&fx);
        assert_close(&fx, "candle", &outputs, "scope", |n| {
            ours.iter()
                .find(|(m, _)| m == n)
                .expect("scope computes it")
                .1
                .clone()
        });
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

#[test]
fn scope_restores_what_candle_saves() {
    for dir in fixture_dirs() {
        let fx = Fixture::load(&dir);
        let tmp = temp_dir(&format!("save-{}", fx.task()));
        let exported = export(&fx, &tmp, None);

        // candle builds the model in a VarMap, loads the export into it, checks it, saves.
        let mut varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let bert = Bert::load(vb, &fx).unwrap();
        varmap
            .load(&exported[0])
            .expect("every VarMap variable is in the export");
        let outputs = bert.outputs(&fx).unwrap();
        assert_close(&fx, "candle VarMap", &outputs, "TF", |n| fx.output(n));
        let saved = tmp.join("candle.safetensors");
        varmap.save(&saved).unwrap();

        // scope restores it into its TF-named BERT, strictly: no name left over either way.
        let ckpt = SafetensorsCheckpoint::open(&saved).unwrap();
        let layout = BertLayout::detect_hf(ckpt.keys());
        assert_eq!(layout, self::layout(&fx));
        let reg = scope::Registry::new();
        let model = fx.build_scope_bert(&reg);
        let view = bert_hf_to_tf(layout)
            .view(&ckpt)
            .expect("the preset maps every key");
        let report = Restore::new(&reg).restore(&view).expect("a strict restore");
        assert_eq!(report.matched.len(), reg.global_variables().len());
        let tf = TfCheckpoint::open(fx.checkpoint()).unwrap();
        for v in reg.global_variables() {
            let want = tf.read_tensor(v.name()).unwrap();
            assert_eq!(
                v.value().to_le_bytes().unwrap(),
                want.to_le_bytes().unwrap(),
                "{}",
                v.name()
            );
        }
        // The fixture's forward check passes on what came back from candle.
        assert_close(
            &fx,
            "scope, restored from candle",
            &model.outputs(&fx),
            "TF",
            |n| fx.output(n),
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
