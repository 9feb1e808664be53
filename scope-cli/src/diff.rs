//! `scope diff`: names only in one checkpoint, and names in both whose shape or dtype
//! differ, with "did you mean" from the restore pre-flight's matcher.

use std::collections::HashMap;
use std::fmt;

use scope::checkpoint::{suggest_names, Checkpoint, CheckpointSource, TensorInfo};

use super::inspect::shape_text;
use super::tree::training_state;

/// How two checkpoints differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// `a`'s and `b`'s locations.
    pub locations: (String, String),
    /// Tensors compared on each side.
    pub counts: (usize, usize),
    /// Only in `a`, each with a close name of `b` (only in `b`) if there is one.
    pub only_a: Vec<(TensorInfo, Option<String>)>,
    /// Only in `b`, likewise.
    pub only_b: Vec<(TensorInfo, Option<String>)>,
    /// In both with a different shape or dtype: `(a's, b's)`.
    pub changed: Vec<(TensorInfo, TensorInfo)>,
}

impl Diff {
    /// Whether the two hold the same names, shapes and dtypes.
    pub fn is_same(&self) -> bool {
        self.only_a.is_empty() && self.only_b.is_empty() && self.changed.is_empty()
    }
}

/// Compares `a` and `b` by name; with `model_only`, training state (optimizer slots, step
/// counters) is left out on both sides.
pub fn diff(a: &Checkpoint, b: &Checkpoint, model_only: bool) -> Diff {
    let pick = |c: &Checkpoint| -> Vec<TensorInfo> {
        let tensors = c.tensors();
        if !model_only {
            return tensors.to_vec();
        }
        let state = training_state(tensors);
        tensors
            .iter()
            .zip(state)
            .filter(|(_, s)| s.is_none())
            .map(|(t, _)| t.clone())
            .collect()
    };
    let (ta, tb) = (pick(a), pick(b));
    let index_b: HashMap<&str, &TensorInfo> = tb.iter().map(|t| (t.name.as_str(), t)).collect();
    let index_a: HashMap<&str, &TensorInfo> = ta.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut changed = Vec::new();
    let mut only_a = Vec::new();
    for t in &ta {
        match index_b.get(t.name.as_str()) {
            Some(other) if other.shape != t.shape || other.dtype != t.dtype => {
                changed.push((t.clone(), (*other).clone()));
            }
            Some(_) => {}
            None => only_a.push(t),
        }
    }
    let only_b: Vec<&TensorInfo> = tb
        .iter()
        .filter(|t| !index_a.contains_key(t.name.as_str()))
        .collect();
    let names_a: Vec<&str> = only_a.iter().map(|t| t.name.as_str()).collect();
    let names_b: Vec<&str> = only_b.iter().map(|t| t.name.as_str()).collect();
    let for_a = suggest_names(&names_a, &names_b);
    let for_b = suggest_names(&names_b, &names_a);
    let with = |list: Vec<&TensorInfo>, hints: Vec<Option<&str>>| {
        list.into_iter()
            .zip(hints)
            .map(|(t, s)| (t.clone(), s.map(str::to_owned)))
            .collect()
    };
    Diff {
        locations: (a.location().to_owned(), b.location().to_owned()),
        counts: (ta.len(), tb.len()),
        only_a: with(only_a, for_a),
        only_b: with(only_b, for_b),
        changed,
    }
}

fn describe(t: &TensorInfo) -> String {
    format!("{} {}", t.dtype, shape_text(&t.shape))
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = (&self.locations.0, &self.locations.1);
        writeln!(f, "a: {a} ({} tensors)", self.counts.0)?;
        writeln!(f, "b: {b} ({} tensors)", self.counts.1)?;
        let side = |f: &mut fmt::Formatter<'_>,
                    title: &str,
                    list: &[(TensorInfo, Option<String>)]|
         -> fmt::Result {
            if list.is_empty() {
                return Ok(());
            }
            writeln!(f, "\n{title} ({}):", list.len())?;
            let width = list.iter().map(|(t, _)| t.name.len()).max().unwrap_or(0);
            for (t, hint) in list {
                write!(f, "  {:<width$}  {}", t.name, describe(t))?;
                if let Some(h) = hint {
                    write!(f, "  (did you mean `{h}`?)")?;
                }
                writeln!(f)?;
            }
            Ok(())
        };
        side(f, "only in a", &self.only_a)?;
        side(f, "only in b", &self.only_b)?;
        if !self.changed.is_empty() {
            writeln!(f, "\ndifferent shape or dtype ({}):", self.changed.len())?;
            let width = self
                .changed
                .iter()
                .map(|(t, _)| t.name.len())
                .max()
                .unwrap_or(0);
            for (x, y) in &self.changed {
                writeln!(
                    f,
                    "  {:<width$}  a: {}  b: {}",
                    x.name,
                    describe(x),
                    describe(y)
                )?;
            }
        }
        writeln!(f)?;
        if self.is_same() {
            writeln!(f, "same names, shapes and dtypes")
        } else {
            writeln!(
                f,
                "differ: {} only in a, {} only in b, {} with another shape or dtype",
                self.only_a.len(),
                self.only_b.len(),
                self.changed.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scope::checkpoint::{to_safetensors_bytes, SafetensorsCheckpoint};
    use scope::{Registry, VarSpec};
    use std::path::Path;

    #[test]
    fn tf_against_safetensors() {
        let tf = scope::checkpoint::open(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/seed_rnn/model.ckpt"),
        )
        .unwrap();
        let reg = Registry::new();
        let make = |name: &str, shape: &[usize]| {
            let (scope, var) = name.rsplit_once('/').unwrap();
            reg.variable_scope(scope)
                .with(|_| reg.get_variable(var, VarSpec::new().shape(shape)))
                .unwrap();
        };
        make("rnn/input_layer/wieghts", &[10, 11]);
        make("rnn/input_layer/biases", &[11]);
        make("rnn/cell/basic_lstm_cell/kernel", &[22, 40]);
        make("rnn/cell/basic_lstm_cell/bias", &[44]);
        make("rnn/output_layer/weights", &[11, 2]);
        make("rnn/output_layer/biases", &[2]);
        let bytes = to_safetensors_bytes(&reg, &Default::default()).unwrap();
        let st = Checkpoint::from(SafetensorsCheckpoint::from_bytes(bytes).unwrap());

        let d = diff(&tf, &st, true);
        assert_eq!(d.counts, (6, 6));
        assert_eq!(d.only_a.len(), 1);
        assert_eq!(
            d.only_a[0].1.as_deref(),
            Some("rnn/input_layer/wieghts"),
            "{d}"
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(d.changed[0].0.name, "rnn/cell/basic_lstm_cell/kernel");
        assert!(!d.is_same());
        let text = d.to_string();
        assert!(
            text.contains("did you mean `rnn/input_layer/weights`?"),
            "{text}"
        );
        assert!(
            text.contains("a: float32 [22, 44]  b: float32 [22, 40]"),
            "{text}"
        );

        let all = diff(&tf, &st, false);
        assert_eq!(all.only_a.len(), 1 + 16);
        assert!(diff(&tf, &tf, false).is_same());
    }
}
