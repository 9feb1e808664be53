//! The checks every TF1 model fixture (BERT, GPT-2, ALBERT: a `variables` list, a
//! `gradients` map, a checkpoint after N steps) makes the same way, as [`Checks`] methods.

use std::error::Error;

use scope::checkpoint::{CheckpointSource, Restore, TfCheckpoint};
use scope::tape::{Gradients, Real};
use scope::{DType, Registry};
use serde_json::Value;

use super::checks::{Checks, Rule};
use super::fixture::VarRecord;
use super::tensor;

impl Checks {
    /// The registry's global variables against the fixture's records, in creation order: the
    /// count (one check), then per record its name, shape, dtype and trainable flag (one
    /// check each record). A record without `trainable` fails its check.
    pub fn variables(&mut self, reg: &Registry, want: &[VarRecord]) {
        let got = reg.global_variables();
        self.truth(
            &format!(
                "variable count: port {} vs TensorFlow {}",
                got.len(),
                want.len()
            ),
            got.len() == want.len(),
        );
        for (k, w) in want.iter().enumerate() {
            let name = &w.name;
            let Some(v) = got.get(k) else {
                self.fail(&format!("variable #{k} {name}: the port created none"));
                continue;
            };
            let (shape, dtype) = (&w.shape, w.dtype);
            let trainable = w.trainable;
            let ok = v.name() == name
                && v.shape() == shape.as_slice()
                && v.dtype() == dtype
                && Some(v.trainable()) == trainable;
            let trainable = trainable.map_or("unrecorded".to_owned(), |t| t.to_string());
            self.truth(
                &format!(
                    "variable #{k}: port {} {:?} {} trainable={}, TensorFlow {name} {shape:?} \
                     {dtype} trainable={trainable}",
                    v.name(),
                    v.shape(),
                    v.dtype(),
                    v.trainable()
                ),
                ok,
            );
        }
    }

    /// Every trainable variable's gradient in `grads` against the fixture's `gradients`
    /// object (`{name: {shape, data}}`) under `rule`, after one check that the fixture
    /// records exactly one gradient per trainable variable.
    pub fn gradients<T: Real + Into<f64>>(
        &mut self,
        rule: &Rule,
        grads: &Gradients<T>,
        reg: &Registry,
        want: &Value,
    ) {
        let want = want.as_object();
        let trainable = reg.trainable_variables();
        self.truth(
            "a recorded gradient for every trainable variable",
            want.is_some_and(|w| w.len() == trainable.len()),
        );
        for var in &trainable {
            let name = var.name();
            let Some(w) = want.and_then(|w| w.get(name)) else {
                self.fail(&format!("gradient {name}: not in the fixture"));
                continue;
            };
            let Some(g) = grads.get(var) else {
                self.fail(&format!("gradient {name}: the port has none"));
                continue;
            };
            match tensor::f64s(w) {
                Ok(w) => {
                    self.compare_arrays(rule, &format!("gradient {name}"), g, &w);
                }
                Err(e) => self.fail(&format!("gradient {name}: {e}")),
            }
        }
    }

    /// Every tensor of `ckpt` (a checkpoint TF wrote after training) against the port's
    /// variable of that name: first that the checkpoint holds exactly the port's variables
    /// (one check), then integer variables exactly and the others under `rule_for(name)`
    /// (e.g. the `adam_m` rule for `.../adam_m`).
    pub fn trained<'r>(
        &mut self,
        reg: &Registry,
        ckpt: &TfCheckpoint,
        rule_for: impl Fn(&str) -> &'r Rule,
    ) -> Result<(), Box<dyn Error>> {
        let report = Restore::new(reg).preflight(ckpt)?;
        self.truth(
            "the after-steps checkpoint holds exactly the port's variables",
            report.is_clean(),
        );
        for info in ckpt.tensors() {
            let name = &info.name;
            let Some(var) = reg.variable(name) else {
                self.fail(&format!("trained {name}: the port has no such variable"));
                continue;
            };
            let want = ckpt.read_tensor(name)?;
            let (got, want_values) = (var.value(), want.to_f64_vec());
            if matches!(var.dtype(), DType::I32 | DType::I64 | DType::Bool) {
                let got = got.to_f64_vec();
                self.truth(
                    &format!("trained {name}: port {got:?}, TensorFlow {want_values:?}"),
                    got == want_values,
                );
                continue;
            }
            let w = ndarray::ArrayD::from_shape_vec(want.shape(), want_values)?;
            self.compare(
                rule_for(name),
                &format!("trained {name}"),
                &got.to_f64_vec(),
                got.shape(),
                &w,
            );
        }
        Ok(())
    }
}
