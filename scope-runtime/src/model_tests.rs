//! Unit tests of [`super`]: manifests, scope names, ties.

use super::*;

const INNER: &[ManifestEntry] = &[ManifestEntry::Scope {
    name: "basic_lstm_cell",
    entries: &[ManifestEntry::Variable(VarManifest {
        name: "kernel",
        dtype: None,
        trainable: true,
        shape: Some("[22, 44]"),
        initializer: None,
        partitioner: None,
        regularizer: None,
        constraint: None,
        collections: None,
    })],
}];

const OUTER: &[ManifestEntry] = &[
    ManifestEntry::Variable(VarManifest {
        name: "w",
        dtype: Some(DType::F64),
        trainable: false,
        shape: Some("[2]"),
        initializer: Some("zeros"),
        partitioner: None,
        regularizer: None,
        constraint: None,
        collections: None,
    }),
    ManifestEntry::Model {
        scope: "cell",
        type_name: "Cell",
        manifest: INNER,
    },
];

#[test]
fn flattens_nested_paths_in_order() {
    let flat = flatten_manifest(OUTER);
    let paths: Vec<_> = flat.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["w", "cell/basic_lstm_cell/kernel"]);
}

const LAYERS: &[ManifestEntry] = &[
    ManifestEntry::Model {
        scope: "dense_1",
        type_name: "Cell",
        manifest: INNER,
    },
    ManifestEntry::DefaultNamed {
        base: "dense",
        type_name: "Cell",
        manifest: INNER,
    },
    ManifestEntry::Optional {
        condition: "flag",
        entry: &ManifestEntry::DefaultNamed {
            base: "dense",
            type_name: "Cell",
            manifest: INNER,
        },
    },
    ManifestEntry::Repeated {
        pattern: "layer_{i}",
        count: "n",
        type_name: "Cell",
        manifest: INNER,
    },
    ManifestEntry::Repeated {
        pattern: "h{i}",
        count: "n",
        type_name: "Cell",
        manifest: INNER,
    },
    ManifestEntry::Repeated {
        pattern: "cell",
        count: "n",
        type_name: "Cell",
        manifest: INNER,
    },
    ManifestEntry::Tied(TiedManifest {
        field: "table",
        owner: "emb",
        shape: "[2, 3]",
        dtype: None,
    }),
];

#[test]
fn flattens_new_forms_as_tf_names_them() {
    let flat = flatten_manifest(LAYERS);
    let paths: Vec<_> = flat.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "dense_1/basic_lstm_cell/kernel",
            "dense/basic_lstm_cell/kernel",
            // `dense` and `dense_1` are taken.
            "dense_2/basic_lstm_cell/kernel",
            "layer_{i}/basic_lstm_cell/kernel",
            "h{i}/basic_lstm_cell/kernel",
            "cell_{i}/basic_lstm_cell/kernel",
        ]
    );
}

#[test]
fn repeated_names_are_indexed() {
    assert_eq!(repeated_scope_name("cell", 0), "cell_0");
    assert_eq!(repeated_scope_name("h{i}", 10), "h10");
    assert_eq!(repeated_scope_name("block{i}_x", 3), "block3_x");
}

#[test]
fn default_names_count_like_tf() {
    let reg = Registry::new();
    let outer = reg.variable_scope("m").enter().unwrap();
    let a = ModelScope::enter_default_name(&reg, "dense").unwrap();
    assert_eq!(a.scope().name(), "m/dense");
    drop(a);
    let names: Vec<String> = (0..2)
        .map(|_| {
            let s = ModelScope::enter_default_name(&reg, "dense").unwrap();
            s.scope().name().to_owned()
        })
        .collect();
    assert_eq!(names, ["m/dense_1", "m/dense_2"]);
    // With the layer's own reuse, the base name itself, reusing.
    let r = ModelScope::enter_layer(&reg, "dense", Reuse::Yes).unwrap();
    assert_eq!(r.scope().name(), "m/dense");
    assert_eq!(r.scope().reuse(), Reuse::Yes);
    drop(r);
    drop(outer);
    // Re-opening `m` restarts its counters.
    let _outer = reg.variable_scope("m").enter().unwrap();
    let again = ModelScope::enter_default_name(&reg, "dense").unwrap();
    assert_eq!(again.scope().name(), "m/dense");
}

#[test]
fn tied_checks_registry_shape_and_dtype() {
    use crate::registry::VarSpec;
    let reg = Registry::new();
    let other = Registry::new();
    let table = reg
        .get_variable("emb", VarSpec::new().shape([4, 3]))
        .unwrap();
    let stranger = other
        .get_variable("emb", VarSpec::new().shape([4, 3]))
        .unwrap();
    assert!(
        tied_variable(&reg, "", "t", &table, &[4, 3], Some(DType::F32))
            .unwrap()
            .ptr_eq(&table)
    );
    let err = tied_variable(&reg, "", "t", &stranger, &[4, 3], None).unwrap_err();
    assert!(matches!(err, Error::TiedOtherRegistry { .. }), "{err}");
    let _inside = reg.variable_scope("outer").enter().unwrap();
    let err = tied_variable(&reg, "m", "t", &table, &[3, 4], None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("variable scope `outer/m`"), "{msg}");
    assert!(
        msg.contains("`t`") && msg.contains("emb") && msg.contains("(3, 4)"),
        "{msg}"
    );
    let err = tied_variable(&reg, "", "t", &table, &[4, 3], Some(DType::F64)).unwrap_err();
    assert!(matches!(err, Error::TiedDtypeMismatch { .. }), "{err}");
    assert_eq!(reg.len(), 1);
}

#[test]
fn displays_a_summary_line() {
    let ManifestEntry::Variable(w) = OUTER[0] else {
        unreachable!("OUTER[0] is a variable")
    };
    assert_eq!(w.to_string(), "w [2] float64 zeros (not trainable)");
}
