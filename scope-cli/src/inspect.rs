//! `scope inspect`: a checkpoint as a folded scope tree with sizes, training state apart.

use std::fmt::Write as _;

use regex::Regex;
use scope::checkpoint::{Checkpoint, CheckpointSource, Format, StoredDType, TensorInfo};
use serde_json::{json, Value};

use super::split::{splits, Split};
use super::tree::{element_size, elements, training_state, Group, TrainingState, Tree, VarMeta};
use super::{group_digits, Result};

/// What `inspect` shows.
#[derive(Clone, Debug, Default)]
pub struct InspectOptions {
    /// Only tensors whose full name matches this regular expression.
    pub filter: Option<String>,
    /// JSON instead of text.
    pub json: bool,
}

/// A shape as `[32, 48]`, `[]` for a scalar.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Tensors and their sizes under one kind of training state.
#[derive(Default)]
struct Kind {
    name: String,
    slot: bool,
    tensors: usize,
    elements: u128,
    bytes: u128,
    /// For a single counter: its dtype and shape.
    example: Option<(StoredDType, Vec<usize>)>,
}

struct Sizes {
    tensors: usize,
    elements: u128,
    bytes: u128,
}

impl Sizes {
    /// `model: 6 variables, 1,157 elements, 4,628 bytes`.
    fn line(&self, out: &mut String, what: &str, unit: &str) {
        let _ = writeln!(
            out,
            "{what}: {} {unit}, {} elements, {} bytes",
            group_digits(self.tensors as u128),
            group_digits(self.elements),
            group_digits(self.bytes)
        );
    }
}

/// The report: text (a table) or JSON.
pub fn inspect(ckpt: &Checkpoint, opts: &InspectOptions) -> Result<String> {
    let tensors = ckpt.tensors();
    let state = training_state(tensors);
    let filter = opts.filter.as_deref().map(Regex::new).transpose()?;
    let keep = |t: &TensorInfo| filter.as_ref().is_none_or(|re| re.is_match(&t.name));
    let model: Vec<(usize, &str)> = tensors
        .iter()
        .enumerate()
        .filter(|(i, t)| state[*i].is_none() && keep(t))
        .map(|(i, t)| (i, t.name.as_str()))
        .collect();
    let splits = splits(ckpt);
    let meta = |i: usize| VarMeta {
        trainable: ckpt.trainable(&tensors[i].name),
        split: splits[i].clone(),
    };
    let tree = Tree::build(tensors, &model, &meta)?;
    let partitioned = tensors
        .iter()
        .zip(&splits)
        .filter(|(t, s)| s.is_some() && keep(t))
        .count();
    let mut kinds: Vec<Kind> = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        let Some(s) = &state[i] else { continue };
        if !keep(t) {
            continue;
        }
        let pos = match kinds.iter().position(|k| k.name == s.kind()) {
            Some(p) => p,
            None => {
                kinds.push(Kind {
                    name: s.kind().to_owned(),
                    slot: matches!(s, TrainingState::Slot { .. }),
                    ..Kind::default()
                });
                kinds.len() - 1
            }
        };
        let k = &mut kinds[pos];
        let n = elements(&t.shape);
        k.tensors += 1;
        k.elements = k.elements.saturating_add(n);
        k.bytes = k
            .bytes
            .saturating_add(element_size(&t.dtype).map_or(0, |s| s.saturating_mul(n)));
        k.example = Some((t.dtype.clone(), t.shape.clone()));
    }
    kinds.sort_by_key(|k| !k.slot);
    let root = tree.node(0);
    let model_sizes = Sizes {
        tensors: root.vars,
        elements: root.elements,
        bytes: root.bytes,
    };
    let state_sizes = Sizes {
        tensors: kinds.iter().map(|k| k.tensors).sum(),
        elements: kinds.iter().map(|k| k.elements).sum(),
        bytes: kinds.iter().map(|k| k.bytes).sum(),
    };
    if opts.json {
        let out = json!({
            "checkpoint": ckpt.location(),
            "format": match ckpt.format() { Format::Tf1 => "tf1", _ => "safetensors" },
            "filter": opts.filter,
            "tensors": tensors.len(),
            "partitioned": partitioned,
            "model": {
                "variables": model_sizes.tensors,
                "elements": num(model_sizes.elements),
                "bytes": num(model_sizes.bytes),
                "tree": json_children(&tree, tensors, &splits, 0, ""),
            },
            "training_state": {
                "tensors": state_sizes.tensors,
                "elements": num(state_sizes.elements),
                "bytes": num(state_sizes.bytes),
                "kinds": kinds.iter().map(|k| json!({
                    "kind": k.name,
                    "slot": k.slot,
                    "tensors": k.tensors,
                    "elements": num(k.elements),
                    "bytes": num(k.bytes),
                })).collect::<Vec<_>>(),
                "list": tensors.iter().enumerate().filter(|(i, t)| state[*i].is_some() && keep(t)).map(|(i, t)| {
                    let mut v = json!({
                        "name": t.name,
                        "shape": t.shape,
                        "dtype": t.dtype.to_string(),
                        "kind": state[i].as_ref().map(TrainingState::kind),
                    });
                    if let Some(TrainingState::Slot { of, .. }) = &state[i] {
                        v["of"] = json!(of);
                    }
                    v
                }).collect::<Vec<_>>(),
            },
            "total": {
                "tensors": model_sizes.tensors + state_sizes.tensors,
                "elements": num(model_sizes.elements.saturating_add(state_sizes.elements)),
                "bytes": num(model_sizes.bytes.saturating_add(state_sizes.bytes)),
            },
        });
        let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
        text.push('\n');
        return Ok(text);
    }

    let mut rows: Vec<[String; 5]> = Vec::new();
    text_rows(&tree, tensors, &splits, 0, 0, &mut rows);
    let mut out = String::new();
    let shown = model_sizes.tensors + state_sizes.tensors;
    let _ = write!(
        out,
        "{}: {}, {} tensors",
        ckpt.location(),
        ckpt.format().describe(),
        group_digits(tensors.len() as u128)
    );
    if partitioned > 0 {
        let _ = write!(
            out,
            ", {} partitioned (saved in slices)",
            group_digits(partitioned as u128)
        );
    }
    if let Some(f) = &opts.filter {
        let _ = write!(
            out,
            " ({} match --filter {f:?})",
            group_digits(shown as u128)
        );
    }
    out.push_str("\n\n");
    if !rows.is_empty() {
        table(
            &mut out,
            ["model", "shape", "dtype", "elements", "bytes"],
            &rows,
        );
    }
    model_sizes.line(&mut out, "model", "variables");
    if !kinds.is_empty() {
        out.push('\n');
        let rows: Vec<[String; 5]> = kinds
            .iter()
            .map(|k| {
                let (shape, dtype) = match (&k.example, k.slot, k.tensors) {
                    (Some((d, s)), false, 1) => (shape_text(s), d.to_string()),
                    _ => (String::new(), String::new()),
                };
                let what = if k.slot {
                    format!("{} ({} slots)", k.name, group_digits(k.tensors as u128))
                } else if k.tensors == 1 {
                    k.name.clone()
                } else {
                    format!("{} (x{})", k.name, k.tensors)
                };
                [
                    format!("  {what}"),
                    shape,
                    dtype,
                    group_digits(k.elements),
                    group_digits(k.bytes),
                ]
            })
            .collect();
        table(
            &mut out,
            ["training state", "shape", "dtype", "elements", "bytes"],
            &rows,
        );
        state_sizes.line(&mut out, "training state", "tensors");
    }
    Sizes {
        tensors: shown,
        elements: model_sizes.elements.saturating_add(state_sizes.elements),
        bytes: model_sizes.bytes.saturating_add(state_sizes.bytes),
    }
    .line(&mut out, "total", "tensors");
    Ok(out)
}

/// A JSON number for a count (saturating at `u64::MAX`).
fn num(n: u128) -> Value {
    json!(u64::try_from(n).unwrap_or(u64::MAX))
}

fn json_children(
    tree: &Tree,
    tensors: &[TensorInfo],
    splits: &[Option<Split>],
    id: usize,
    path: &str,
) -> Vec<Value> {
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}/{name}")
        }
    };
    tree.groups(id, 2)
        .into_iter()
        .map(|g| match g {
            Group::One(c) => {
                let node = tree.node(c);
                match node.tensor {
                    Some(t) => {
                        let mut v = json!({
                            "name": node.name,
                            "kind": "variable",
                            "path": tensors[t].name,
                            "shape": tensors[t].shape,
                            "dtype": tensors[t].dtype.to_string(),
                            "elements": num(node.elements),
                            "bytes": num(node.bytes),
                        });
                        if let Some(split) = &splits[t] {
                            v["slices"] = json!(split.slices);
                            v["partition_axis"] = json!(split.axis);
                        }
                        v
                    }
                    None => json!({
                        "name": node.name,
                        "kind": "scope",
                        "variables": node.vars,
                        "elements": num(node.elements),
                        "bytes": num(node.bytes),
                        "children": json_children(tree, tensors, splits, c, &join(&node.name)),
                    }),
                }
            }
            Group::Run { prefix, members } => {
                let first = tree.node(members[0]);
                let n = members.len() as u128;
                json!({
                    "name": run_name(&prefix, members.len()),
                    "kind": "repeated",
                    "prefix": prefix,
                    "count": members.len(),
                    "variables": first.vars * members.len(),
                    "elements": num(first.elements.saturating_mul(n)),
                    "bytes": num(first.bytes.saturating_mul(n)),
                    "each": {
                        "variables": first.vars,
                        "elements": num(first.elements),
                        "bytes": num(first.bytes),
                    },
                    "children": json_children(tree, tensors, splits, members[0], &join(&format!("{prefix}_N"))),
                })
            }
        })
        .collect()
}

/// `layer_{0..11}`.
fn run_name(prefix: &str, n: usize) -> String {
    format!("{prefix}_{{0..{}}}", n - 1)
}

fn text_rows(
    tree: &Tree,
    tensors: &[TensorInfo],
    splits: &[Option<Split>],
    id: usize,
    depth: usize,
    rows: &mut Vec<[String; 5]>,
) {
    let indent = "  ".repeat(depth);
    for g in tree.groups(id, 2) {
        match g {
            Group::One(c) => {
                let node = tree.node(c);
                match node.tensor {
                    Some(t) => rows.push([
                        match &splits[t] {
                            Some(split) => format!("{indent}{} ({})", node.name, split.describe()),
                            None => format!("{indent}{}", node.name),
                        },
                        shape_text(&tensors[t].shape),
                        tensors[t].dtype.to_string(),
                        group_digits(node.elements),
                        group_digits(node.bytes),
                    ]),
                    None => {
                        rows.push([
                            format!("{indent}{}/", node.name),
                            String::new(),
                            String::new(),
                            group_digits(node.elements),
                            group_digits(node.bytes),
                        ]);
                        text_rows(tree, tensors, splits, c, depth + 1, rows);
                    }
                }
            }
            Group::Run { prefix, members } => {
                let first = tree.node(members[0]);
                let n = members.len() as u128;
                rows.push([
                    format!(
                        "{indent}{}/  x{} (each {})",
                        run_name(&prefix, members.len()),
                        members.len(),
                        group_digits(first.elements)
                    ),
                    String::new(),
                    String::new(),
                    group_digits(first.elements.saturating_mul(n)),
                    group_digits(first.bytes.saturating_mul(n)),
                ]);
                text_rows(tree, tensors, splits, members[0], depth + 1, rows);
            }
        }
    }
}

/// A table: the name column left-aligned, shape and dtype left, numbers right.
fn table(out: &mut String, header: [&str; 5], rows: &[[String; 5]]) {
    let mut width = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: [&str; 5]| {
        let _ = writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4],
        );
    };
    line(out, header);
    for row in rows {
        line(out, [&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn seed() -> Checkpoint {
        scope::checkpoint::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed_rnn/model.ckpt"),
        )
        .unwrap()
    }

    #[test]
    fn seed_rnn_text() {
        let text = inspect(&seed(), &InspectOptions::default()).unwrap();
        assert!(
            text.contains("model: 6 variables, 1,157 elements, 4,628 bytes"),
            "{text}"
        );
        assert!(text.contains("Adam (6 slots)"), "{text}");
        assert!(text.contains("beta1_power (x"), "{text}");
        assert!(text.contains("total: 22 tensors"), "{text}");
        let input = text.find("input_layer/").unwrap();
        let cell = text.find("cell/").unwrap();
        let output = text.find("output_layer/").unwrap();
        assert!(input < cell && cell < output, "{text}");
    }

    #[test]
    fn filter_and_json() {
        let opts = InspectOptions {
            filter: Some("output_layer".to_owned()),
            json: true,
        };
        let v: Value = serde_json::from_str(&inspect(&seed(), &opts).unwrap()).unwrap();
        assert_eq!(v["model"]["variables"], 2);
        assert_eq!(v["training_state"]["tensors"], 4);
        assert_eq!(v["model"]["tree"][0]["name"], "rnn");
        let bad = InspectOptions {
            filter: Some("(".to_owned()),
            json: false,
        };
        assert!(inspect(&seed(), &bad)
            .unwrap_err()
            .to_string()
            .starts_with("--filter"));
    }

    /// Issue 23, item 2: a partitioned variable's row says in how many slices the
    /// checkpoint holds it; the JSON says it too.
    #[test]
    fn partitioned_entries_show_their_slices() {
        let p6 = scope::checkpoint::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/partitioned/p6"),
        )
        .unwrap();
        let text = inspect(&p6, &InspectOptions::default()).unwrap();
        assert!(
            text.contains("8 tensors, 6 partitioned (saved in slices)"),
            "{text}"
        );
        let row = |name: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("no row {name} in {text}"))
                .to_owned()
        };
        assert!(
            row("embedding").contains("embedding (2 slices on axis 0)  [30, 4]"),
            "{text}"
        );
        assert!(row("cols").contains("(3 slices on axis 1)"), "{text}");
        assert!(!row("scale").contains("slice"), "{text}");
        let opts = InspectOptions {
            filter: Some("cols".to_owned()),
            json: true,
        };
        let v: Value = serde_json::from_str(&inspect(&p6, &opts).unwrap()).unwrap();
        assert_eq!(v["partitioned"], 1);
        let cols = &v["model"]["tree"][0]["children"][0];
        assert_eq!(cols["name"], "cols", "{v}");
        assert_eq!(cols["slices"], 3);
        assert_eq!(cols["partition_axis"], 1);
        // A checkpoint without partitioned variables says nothing of them.
        let seed = inspect(&seed(), &InspectOptions::default()).unwrap();
        assert!(!seed.contains("partitioned"), "{seed}");
    }
}
