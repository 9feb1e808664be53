//! ALBERT's declaration: names and order for any layout, the sharing, TF's per-layer build
//! under `AUTO_REUSE` creating nothing new, and config refusals.

use super::*;
use crate::models::bert::BertConfig;
use crate::scope::Reuse;
use crate::{Model, Registry};

fn cfg(layers: usize, groups: usize, inner: usize, e: usize) -> AlbertConfig {
    AlbertConfig::new(BertConfig::tiny(30, 8, layers, 2, 12, 16), e, groups, inner)
}

fn names(reg: &Registry) -> Vec<String> {
    reg.global_variables()
        .iter()
        .map(|v| v.name().to_owned())
        .collect()
}

#[test]
fn variables_exist_once_per_group_and_inner_group_whatever_the_layer_count() {
    for layers in [1, 3, 12] {
        let reg = Registry::new();
        AlbertModel::build(&reg, (cfg(layers, 1, 2, 4),)).unwrap();
        let n = names(&reg);
        assert_eq!(n.len(), 5 + 2 + 2 * 16 + 2, "{n:?}");
        assert_eq!(
            n[7],
            "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/query/kernel"
        );
        assert_eq!(
            n[15],
            "bert/encoder/transformer/group_0/inner_group_0/LayerNorm/beta"
        );
        assert_eq!(
            n[20],
            "bert/encoder/transformer/group_0/inner_group_0/ffn_1/intermediate/output/dense/bias"
        );
        assert_eq!(
            n[21],
            "bert/encoder/transformer/group_0/inner_group_0/LayerNorm_1/beta"
        );
        assert_eq!(
            n[23],
            "bert/encoder/transformer/group_0/inner_group_1/attention_1/self/query/kernel"
        );
        assert_eq!(n[n.len() - 1], "bert/pooler/dense/bias");
    }
}

#[test]
fn embedding_hidden_mapping_in_exists_only_when_e_differs_from_h() {
    let reg = Registry::new();
    let model = AlbertModel::build(&reg, (cfg(2, 1, 1, 8),)).unwrap();
    assert!(model.encoder_embedding_hidden_mapping_in.is_none());
    assert!(!names(&reg)
        .iter()
        .any(|n| n.contains("embedding_hidden_mapping_in")));
    assert_eq!(model.embeddings.word_embeddings.shape(), [30, 8]);
    let reg = Registry::new();
    let model = AlbertModel::build(&reg, (cfg(2, 1, 1, 4),)).unwrap();
    let mapping = model.encoder_embedding_hidden_mapping_in.as_ref().unwrap();
    assert_eq!(
        mapping.kernel().name(),
        "bert/encoder/embedding_hidden_mapping_in/kernel"
    );
    assert_eq!(mapping.kernel().shape(), [4, 8]);
}

/// `transformer_model` as TF runs it: each layer enters `transformer` with `AUTO_REUSE`, then
/// its `group_{g}` (a name scope `layer_{i}` inside, which variables do not see) and the
/// inner groups. The first layer of a group creates its variables; every later one re-enters
/// the same scopes, meets `LayerNorm` and `LayerNorm_1` again from the restarted default-name
/// counters, and creates nothing.
#[test]
fn building_every_layer_as_tf_does_under_auto_reuse_creates_only_the_declared_variables() {
    let c = cfg(5, 2, 2, 4);
    let declared = Registry::new();
    AlbertTransformer::build(&declared, (c,)).unwrap();

    let reg = Registry::new();
    let mut per_layer = Vec::new();
    for layer in 0..c.bert.num_hidden_layers {
        let g = c.group_of(layer);
        let blocks = reg
            .variable_scope("transformer")
            .reuse(Reuse::Auto)
            .with(|_| {
                reg.variable_scope(format!("group_{g}").as_str()).with(|_| {
                    reg.name_scope(format!("layer_{layer}").as_str()).with(|_| {
                        (0..c.inner_group_num)
                            .map(|j| AlbertLayer::build_in(&reg, &format!("inner_group_{j}"), (c,)))
                            .collect::<crate::Result<Vec<_>>>()
                    })
                })
            })
            .unwrap();
        per_layer.push((g, blocks));
    }
    assert_eq!(names(&reg), names(&declared));
    // Layers of one group hold the same storage.
    for (g, blocks) in &per_layer {
        let (_, first) = per_layer.iter().find(|(h, _)| h == g).unwrap();
        for (a, b) in blocks.iter().zip(first) {
            assert!(a.shares_storage_with(b));
        }
    }
}

/// A second build of the whole model into the same scopes under `Reuse::Auto` creates
/// nothing and shares every variable: the forward's parts over TF's variables.
#[test]
fn a_second_build_under_auto_reuse_creates_nothing() {
    let c = cfg(4, 2, 1, 4);
    let reg = Registry::new();
    let first = AlbertClassifier::build_here(&reg, (c, 3)).unwrap();
    let before = reg.len();
    let root = reg.current_variable_scope();
    let second = reg
        .variable_scope(&root)
        .reuse(Reuse::Auto)
        .with(|_| AlbertModel::build_in(&reg, "bert", (c,)))
        .unwrap();
    assert_eq!(reg.len(), before, "{:?}", names(&reg));
    assert!(second.shares_storage_with(&first.bert));
}

#[test]
fn configs_with_groups_no_layer_uses_are_refused() {
    let err = cfg(2, 4, 1, 4).validate().unwrap_err();
    assert!(err.to_string().contains("[0, 2]"), "{err}");
    assert!(cfg(3, 0, 1, 4).validate().is_err());
    assert!(cfg(0, 1, 1, 4).validate().is_err());
    let json = r#"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 2,
        "num_attention_heads": 3, "intermediate_size": 4, "hidden_act": "gelu",
        "max_position_embeddings": 8, "type_vocab_size": 2, "initializer_range": 0.02}"#;
    let err = AlbertConfig::from_json(json).unwrap_err();
    assert!(err.to_string().contains("ALBERT config"), "{err}");
    let ok = AlbertConfig::from_json(
        &json.replace("\"num_attention_heads\": 3", "\"num_attention_heads\": 2"),
    )
    .unwrap();
    assert_eq!(
        (ok.embedding_size, ok.num_hidden_groups, ok.inner_group_num),
        (128, 1, 1)
    );
}

/// Nothing is tied to the fixtures' layouts: E == H (no mapping), three token types, five
/// layers over two groups of three inner groups run forward and backward, every variable
/// getting a gradient.
#[test]
fn other_layouts_run_and_every_variable_gets_a_gradient() {
    let mut c = cfg(5, 2, 3, 8);
    c.bert.type_vocab_size = 3;
    let reg = Registry::with_seed(4);
    let model = AlbertClassifier::build_here(&reg, (c, 2)).unwrap();
    assert!(model.bert.encoder_embedding_hidden_mapping_in.is_none());
    let inputs = AlbertInputs::new(
        ndarray::array![[1, 7, 9, 2], [1, 4, 2, 0]],
        ndarray::array![[1, 1, 1, 1], [1, 1, 1, 0]],
        ndarray::array![[0, 2, 1, 1], [0, 0, 2, 0]],
    )
    .unwrap();
    let mut tape = crate::tape::Tape::<f32>::new();
    let out = model.forward(&mut tape, &inputs, &[1, 0]).unwrap();
    assert_eq!(out.albert.layer_outputs.len(), 15);
    let grads = tape.backward(out.loss).unwrap().into_gradients();
    for var in reg.trainable_variables() {
        let g = grads
            .get(&var)
            .unwrap_or_else(|| panic!("no gradient for {}", var.name()));
        assert!(g.iter().all(|x| x.is_finite()), "{}", var.name());
    }
}
