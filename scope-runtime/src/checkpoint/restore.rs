//! Restoring by name: which checkpoint key feeds which variable (identity, explicit map,
//! prefix remap), the pre-flight report, and the all-or-nothing assignment.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::suggest::{
    closest, prefix_difference, suggest_all, Budget, Suggester, EDIT_WORK_BUDGET,
};
use super::{CheckpointError, CheckpointSource, Result, StoredDType, VariableSet};
use crate::dtype::DType;
use crate::partition::Slice;
use crate::registry::Registry;
use crate::tensor::{format_shape, Shape};
use crate::uniquifier::FastMap;
use crate::variable::Variable;

/// A set hashed with foldhash: the pre-flight hashes every name a few times, and names can
/// be kilobytes long.
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// Checkpoint prefixes and keys whose unused entries count as unexpected.
type Namespace = (Vec<String>, HashSet<String>);

/// A matched variable and, for a part of a partitioned variable, the box it reads.
type Region = (Variable, Option<Slice>);

/// A variable to restore and the checkpoint key feeding it; for a part of a partitioned
/// variable the key is its full name's, with the box the part holds.
type Target = (Variable, String, Option<Slice>);

/// A restore into a registry: TF's `Saver.restore` (with a `var_list` dict) and
/// `tf.train.init_from_checkpoint` (with an assignment map), strict by default.
///
/// Each target variable is fed by one checkpoint key: the key given with [`Restore::map`],
/// else its name rewritten by the longest matching [`Restore::remap_prefix`], else its own
/// name. Before any variable changes, [`Restore::preflight`] compares the two sides. A strict
/// restore refuses (changing nothing) if any variable is missing from the checkpoint, any
/// checkpoint key is unused ("unexpected", unless [`Restore::allow_unexpected`]), or any
/// shape or dtype differs. [`Restore::partial`] restores whatever matches and reports the
/// rest.
///
/// ```
/// use scope::checkpoint::{to_safetensors_bytes, Restore, SafetensorsCheckpoint};
/// use scope::{Initializer, Registry, VarSpec};
///
/// // A checkpoint of `rnn/w`, loaded into `model/rnn/w`.
/// let old = Registry::new();
/// old.variable_scope("rnn").with(|_| {
///     old.get_variable("w", VarSpec::new().shape([3]).initializer(Initializer::Ones))
/// })?;
/// let ckpt = SafetensorsCheckpoint::from_bytes(to_safetensors_bytes(&old, &Default::default())?)?;
///
/// let reg = Registry::new();
/// let w = reg.variable_scope("model/rnn").with(|_| {
///     reg.get_variable("w", VarSpec::new().shape([3]).initializer(Initializer::Zeros))
/// })?;
/// // Strict by default: the names differ, so nothing is restored and the report says why.
/// let err = Restore::new(&reg).restore(&ckpt).unwrap_err();
/// assert!(err.to_string().contains("did you mean"));
/// // Prefix remapping, like `init_from_checkpoint(ckpt, {"rnn/": "model/rnn/"})`.
/// Restore::new(&reg).remap_prefix("rnn/", "model/rnn/").restore(&ckpt)?;
/// assert_eq!(w.value().to_f64_vec(), vec![1.0; 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "a restore does nothing until `.preflight(..)` or `.restore(..)`"]
pub struct Restore<'r> {
    registry: &'r Registry,
    targets: Option<Vec<Variable>>,
    explicit: Vec<(String, String)>,
    prefixes: Vec<(String, String)>,
    only_mapped: bool,
    partial: bool,
    allow_unexpected: bool,
}

impl<'r> Restore<'r> {
    /// A strict restore of every global variable of `registry`, each from the key equal to
    /// its op name.
    pub fn new(registry: &'r Registry) -> Restore<'r> {
        Restore {
            registry,
            targets: None,
            explicit: Vec::new(),
            prefixes: Vec::new(),
            only_mapped: false,
            partial: false,
            allow_unexpected: false,
        }
    }

    /// Restores only these variables (a list, a collection, ...) instead of all global ones
    /// (TF's `Saver(var_list=[...])`). Variables named by [`Restore::map`] are added.
    pub fn variables(mut self, vars: impl VariableSet) -> Restore<'r> {
        self.targets = Some(vars.to_variables());
        self
    }

    /// Feeds variable `variable` (its op name) from checkpoint key `checkpoint_key` (TF's
    /// `var_list={"ckpt/name": var}`). The variable joins the targets.
    pub fn map(
        mut self,
        checkpoint_key: impl Into<String>,
        variable: impl Into<String>,
    ) -> Restore<'r> {
        self.explicit.push((checkpoint_key.into(), variable.into()));
        self
    }

    /// Feeds each variable named `variable_prefix + rest` from key `checkpoint_prefix + rest`
    /// (TF's `init_from_checkpoint(ckpt, {"rnn/": "model/rnn/"})`). Use prefixes ending in
    /// `/` to match whole scopes. The longest matching variable prefix wins; two calls with
    /// the same variable prefix and different checkpoint prefixes fail the restore with
    /// [`CheckpointError::ConflictingPrefix`], as conflicting [`Restore::map`] calls do.
    pub fn remap_prefix(
        mut self,
        checkpoint_prefix: impl Into<String>,
        variable_prefix: impl Into<String>,
    ) -> Restore<'r> {
        self.prefixes
            .push((checkpoint_prefix.into(), variable_prefix.into()));
        self
    }

    /// Restores only the variables covered by [`Restore::map`] or [`Restore::remap_prefix`],
    /// as `init_from_checkpoint` does; then only checkpoint keys under a mapped prefix (or
    /// mapped explicitly) count as unexpected.
    pub fn only_mapped(mut self) -> Restore<'r> {
        self.only_mapped = true;
        self
    }

    /// Opt-in partial restore: restore every variable that matches, skip the others, and
    /// return the report instead of failing. Reading errors still change nothing.
    pub fn partial(mut self) -> Restore<'r> {
        self.partial = true;
        self
    }

    /// Unused checkpoint keys (optimizer slots you do not need, say) are reported but do
    /// not fail a strict restore, as with TF's `Saver`.
    pub fn allow_unexpected(mut self) -> Restore<'r> {
        self.allow_unexpected = true;
        self
    }

    /// The variables to restore, each with its checkpoint key, and the namespace of keys
    /// that may count as unexpected (`None`: all of them).
    fn plan(&self) -> Result<(Vec<Target>, Option<Namespace>)> {
        let mut explicit: HashMap<&str, &str> = HashMap::new();
        let mut extra: Vec<Variable> = Vec::new();
        for (key, var) in &self.explicit {
            if let Some(first) = explicit.insert(var.as_str(), key.as_str()) {
                if first != key {
                    return Err(CheckpointError::ConflictingMapping {
                        name: var.clone(),
                        first: first.to_owned(),
                        second: key.clone(),
                    });
                }
            }
            match self.registry.variable(var) {
                Some(v) => extra.push(v),
                None => {
                    let all = self.registry.global_variables();
                    let suggestion = closest(var, all.iter().map(|v| v.name())).map(str::to_owned);
                    return Err(CheckpointError::UnknownVariable {
                        name: var.clone(),
                        suggestion,
                    });
                }
            }
        }
        // As with `map`, two rules feeding one target from different places are an error,
        // not "the last wins".
        let mut prefixes: HashMap<&str, &str> = HashMap::new();
        for (cp, vp) in &self.prefixes {
            if let Some(first) = prefixes.insert(vp.as_str(), cp.as_str()) {
                if first != cp {
                    return Err(CheckpointError::ConflictingPrefix {
                        prefix: vp.clone(),
                        first: first.to_owned(),
                        second: cp.clone(),
                    });
                }
            }
        }
        let mut targets = match &self.targets {
            Some(t) => t.clone(),
            None => self.registry.global_variables(),
        };
        targets.extend(extra);
        let mut seen = FastSet::default();
        let mut plan = Vec::new();
        for var in &targets {
            if !seen.insert(var.name()) {
                continue;
            }
            let var = var.clone();
            // A part of a partitioned variable is saved under its full name (TF's
            // `SaveSliceInfo`): the key is derived from that name, the part reads its box.
            let info = var.save_slice_info();
            let name = info.map_or(var.name(), |i| i.full_name.as_str());
            let key = if let Some(key) = explicit.get(var.name()).or(explicit.get(name)) {
                Some((*key).to_owned())
            } else {
                self.prefixes
                    .iter()
                    .filter(|(_, vp)| name.starts_with(vp.as_str()))
                    .max_by_key(|(_, vp)| vp.len())
                    .map(|(cp, vp)| format!("{cp}{}", &name[vp.len()..]))
            };
            let region = info.map(|i| i.slice.clone());
            match key {
                Some(key) => plan.push((var, key, region)),
                None if !self.only_mapped => {
                    let key = name.to_owned();
                    plan.push((var, key, region));
                }
                None => {}
            }
        }
        let namespace = self.only_mapped.then(|| {
            (
                self.prefixes.iter().map(|(cp, _)| cp.clone()).collect(),
                self.explicit.iter().map(|(k, _)| k.clone()).collect(),
            )
        });
        Ok((plan, namespace))
    }

    /// Compares the targets with the checkpoint without touching any variable.
    pub fn preflight(&self, source: &(impl CheckpointSource + ?Sized)) -> Result<PreflightReport> {
        self.preflight_with_vars(source).map(|(report, _)| report)
    }

    fn preflight_with_vars(
        &self,
        source: &(impl CheckpointSource + ?Sized),
    ) -> Result<(PreflightReport, Vec<Region>)> {
        let (plan, namespace) = self.plan()?;
        let mut report = PreflightReport {
            source: source.location().to_owned(),
            partial: self.partial,
            unexpected_allowed: self.allow_unexpected,
            ..PreflightReport::default()
        };
        let mut matched_vars = Vec::new();
        let mut claimed: FastSet<&str> = FastSet::default();
        for (var, key, region) in &plan {
            // A part whose full name is not stored may be stored under its own name (a
            // checkpoint saved part by part): then it is read whole.
            let (key, region) = match region {
                Some(_) if source.info(key).is_none() && source.info(var.name()).is_some() => {
                    (&var.name().to_owned(), &None)
                }
                _ => (key, region),
            };
            let want_shape = match (region, var.save_slice_info()) {
                (Some(_), Some(info)) => info.full_shape.as_slice(),
                _ => var.shape(),
            };
            let Some(info) = source.info(key) else {
                report.missing.push(Missing {
                    variable: var.name().to_owned(),
                    key: key.clone(),
                    dtype: var.dtype(),
                    shape: var.shape().to_vec(),
                    suggestion: None,
                });
                continue;
            };
            claimed.insert(info.name.as_str());
            let dtype_ok = info.dtype == StoredDType::Supported(var.dtype());
            let shape_ok = info.shape == want_shape;
            let mismatch = || Mismatch {
                variable: var.name().to_owned(),
                key: key.clone(),
                dtype: var.dtype(),
                shape: want_shape.to_vec(),
                stored_dtype: info.dtype.clone(),
                stored_shape: info.shape.clone(),
                suggestion: None,
            };
            if !dtype_ok {
                report.dtype_mismatches.push(mismatch());
            }
            if !shape_ok {
                report.shape_mismatches.push(mismatch());
            }
            if dtype_ok && shape_ok {
                report.matched.push(Matched {
                    variable: var.name().to_owned(),
                    key: key.clone(),
                    dtype: var.dtype(),
                    shape: want_shape.to_vec(),
                });
                matched_vars.push((var.clone(), region.clone()));
            }
        }
        let in_namespace = |key: &str| match &namespace {
            None => true,
            Some((prefixes, keys)) => {
                keys.contains(key) || prefixes.iter().any(|p| key.starts_with(p.as_str()))
            }
        };
        let unclaimed: Vec<&super::TensorInfo> = source
            .tensors()
            .iter()
            .filter(|t| !claimed.contains(t.name.as_str()))
            .collect();
        for t in &unclaimed {
            if in_namespace(&t.name) {
                report.unexpected.push(Unexpected {
                    key: t.name.clone(),
                    dtype: t.dtype.clone(),
                    shape: t.shape.clone(),
                    suggestion: None,
                });
            }
        }

        // Did you mean: missing keys against unclaimed keys, and back.
        let unclaimed_keys: Vec<&str> = unclaimed.iter().map(|t| t.name.as_str()).collect();
        let missing_keys: Vec<&str> = report.missing.iter().map(|m| m.key.as_str()).collect();
        // One budget for every typo search of this pre-flight (see `suggest`).
        let mut budget = Budget::new(EDIT_WORK_BUDGET);
        let for_missing = suggest_all(&missing_keys, &unclaimed_keys, &mut budget);
        let unexpected_keys: Vec<&str> = report.unexpected.iter().map(|u| u.key.as_str()).collect();
        let for_unexpected = suggest_all(&unexpected_keys, &missing_keys, &mut budget);
        let key_to_var: FastMap<&str, &str> = report
            .missing
            .iter()
            .map(|m| (m.key.as_str(), m.variable.as_str()))
            .collect();
        let for_unexpected: Vec<Option<String>> = for_unexpected
            .into_iter()
            .map(|s| s.and_then(|k| key_to_var.get(k)).map(|v| (*v).to_owned()))
            .collect();
        let for_missing: Vec<Option<String>> = for_missing
            .into_iter()
            .map(|s| s.map(str::to_owned))
            .collect();
        for (m, s) in report.missing.iter_mut().zip(for_missing) {
            m.suggestion = s;
        }
        for (u, s) in report.unexpected.iter_mut().zip(for_unexpected) {
            u.suggestion = s;
        }
        // A mismatch is pointed at an unused key that fits: the unclaimed keys grouped by
        // shape and dtype, each group indexed once.
        let mut fitting: HashMap<(&[usize], DType), Vec<&str>> = HashMap::new();
        for t in &unclaimed {
            if let StoredDType::Supported(d) = t.dtype {
                fitting
                    .entry((t.shape.as_slice(), d))
                    .or_default()
                    .push(t.name.as_str());
            }
        }
        let mut suggesters: HashMap<(&[usize], DType), Suggester<'_>> = HashMap::new();
        for m in report
            .shape_mismatches
            .iter_mut()
            .chain(report.dtype_mismatches.iter_mut())
        {
            let Some((&group, names)) = fitting.get_key_value(&(m.shape.as_slice(), m.dtype))
            else {
                continue;
            };
            let suggester = suggesters
                .entry(group)
                .or_insert_with(|| Suggester::new(names.iter().copied()));
            m.suggestion = suggester.suggest(&m.key, &mut budget).map(str::to_owned);
        }
        report.remap_hint = remap_hint(&report.missing);
        Ok((report, matched_vars))
    }

    /// Runs the pre-flight, then restores. Strict (the default): any problem in the report
    /// fails with [`CheckpointError::Preflight`] and no variable changes. Partial: the
    /// matching variables are restored. Returns the report (its `matched` entries are the
    /// variables restored).
    ///
    /// Every tensor is verified ([`CheckpointSource::verify`]: checksums, decoding) before
    /// the first variable is assigned, so a corrupt file also changes nothing; then each is
    /// read and assigned in turn, so the restore holds one tensor's copy at a time (a
    /// partitioned variable: one part's), not a second copy of the model. Only a file that
    /// changes on disk while it is being restored, or memory that runs out between two
    /// tensors, can stop a restore half way; the error then says so.
    pub fn restore(&self, source: &(impl CheckpointSource + ?Sized)) -> Result<PreflightReport> {
        let (report, vars) = self.preflight_with_vars(source)?;
        if !self.partial && !report.passes() {
            return Err(CheckpointError::Preflight {
                report: Box::new(report),
            });
        }
        let mut verified: FastSet<&str> = FastSet::default();
        for m in &report.matched {
            if verified.insert(m.key.as_str()) {
                source.verify(&m.key)?;
            }
        }
        for (i, ((var, region), m)) in vars.iter().zip(&report.matched).enumerate() {
            let value = match region {
                Some(region) => source.read_region(&m.key, region),
                None => source.read_tensor(&m.key),
            }
            .and_then(|value| {
                var.check_assignable(&value)
                    .map_err(|_| CheckpointError::CorruptTensor {
                        file: source.location().to_owned(),
                        name: m.key.clone(),
                        reason: format!(
                            "it decodes to {} {} but is listed as {} {}",
                            value.dtype(),
                            format_shape(value.shape()),
                            m.dtype,
                            format_shape(&m.shape)
                        ),
                    })
                    .map(|()| value)
            });
            match value {
                // Checked assignable just above; shapes and dtypes of variables never change.
                Ok(value) => var
                    .assign(value)
                    .expect("value was checked assignable before the assignment"),
                Err(e) if i == 0 => return Err(e),
                Err(e) => {
                    return Err(CheckpointError::RestoreInterrupted {
                        file: source.location().to_owned(),
                        restored: i,
                        total: vars.len(),
                        source: Box::new(e),
                    })
                }
            }
        }
        Ok(report)
    }
}

/// If most missing variables sit under a different prefix than their suggested keys, the
/// `remap_prefix` call that would fix them.
fn remap_hint(missing: &[Missing]) -> Option<(String, String)> {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in missing {
        let Some(s) = &m.suggestion else { continue };
        if let Some((var_p, key_p)) = prefix_difference(&m.key, s) {
            let (mut var_p, mut key_p) = (var_p.to_owned(), key_p.to_owned());
            if var_p.is_empty() || key_p.is_empty() {
                // Show whole scopes: `rnn/` -> `model/rnn/` rather than `` -> `model/`.
                let tail = &m.key[var_p.len()..];
                if let Some(first) = tail.split('/').next().filter(|_| tail.contains('/')) {
                    var_p.push_str(first);
                    var_p.push('/');
                    key_p.push_str(first);
                    key_p.push('/');
                }
            }
            *counts.entry((key_p, var_p)).or_default() += 1;
        }
    }
    let ((key_p, var_p), n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (n * 2 >= missing.len()).then_some((key_p, var_p))
}

/// A variable the checkpoint can restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    /// The variable's op name.
    pub variable: String,
    /// The checkpoint key feeding it.
    pub key: String,
    /// Its dtype (the same on both sides).
    pub dtype: DType,
    /// Its shape (the same on both sides).
    pub shape: Shape,
}

/// A target variable whose key is not in the checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The variable's op name.
    pub variable: String,
    /// The key it was looked up under.
    pub key: String,
    /// The variable's dtype.
    pub dtype: DType,
    /// The variable's shape.
    pub shape: Shape,
    /// An unused checkpoint key with a close name.
    pub suggestion: Option<String>,
}

/// A checkpoint key no target variable uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unexpected {
    /// The key.
    pub key: String,
    /// The stored dtype.
    pub dtype: StoredDType,
    /// The stored shape.
    pub shape: Shape,
    /// A missing variable (op name) whose key is close to this one.
    pub suggestion: Option<String>,
}

/// A variable and its stored tensor that differ in shape or dtype.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The variable's op name.
    pub variable: String,
    /// The checkpoint key.
    pub key: String,
    /// The variable's dtype.
    pub dtype: DType,
    /// The variable's shape.
    pub shape: Shape,
    /// The stored dtype.
    pub stored_dtype: StoredDType,
    /// The stored shape.
    pub stored_shape: Shape,
    /// An unused checkpoint key with a close name and the variable's shape and dtype.
    pub suggestion: Option<String>,
}

/// What a restore would do: which variables match, and every problem, each with a "did you
/// mean" suggestion when a close name exists. `Display` prints a table of the problems.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreflightReport {
    /// The checkpoint's location.
    pub source: String,
    /// Variables that will be (or were) restored.
    pub matched: Vec<Matched>,
    /// Variables whose key is not in the checkpoint.
    pub missing: Vec<Missing>,
    /// Checkpoint keys no variable uses.
    pub unexpected: Vec<Unexpected>,
    /// Variables whose stored shape differs.
    pub shape_mismatches: Vec<Mismatch>,
    /// Variables whose stored dtype differs (including dtypes scope cannot hold).
    pub dtype_mismatches: Vec<Mismatch>,
    /// A `remap_prefix(checkpoint_prefix, variable_prefix)` that would fix most missing
    /// variables, when their suggestions differ from them by one prefix.
    pub remap_hint: Option<(String, String)>,
    /// Whether unexpected keys were allowed.
    pub unexpected_allowed: bool,
    /// Whether the restore was partial.
    pub partial: bool,
}

impl PreflightReport {
    /// Whether the two sides match exactly: nothing missing, unexpected or mismatched.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatch_count() == 0
    }

    /// Whether a strict restore would go ahead (clean, or only unexpected keys and those
    /// were allowed).
    pub fn passes(&self) -> bool {
        self.missing.is_empty()
            && self.mismatch_count() == 0
            && (self.unexpected.is_empty() || self.unexpected_allowed)
    }

    /// Shape plus dtype mismatches (a variable differing in both counts twice).
    pub fn mismatch_count(&self) -> usize {
        self.shape_mismatches.len() + self.dtype_mismatches.len()
    }

    /// Every problem, as table rows: `[status, variable, checkpoint key, stored, expected,
    /// did you mean]`.
    pub fn rows(&self) -> Vec<[String; 6]> {
        let dash = || "-".to_owned();
        let ty = |d: &dyn fmt::Display, s: &[usize]| format!("{d} {}", format_shape(s));
        let mean = |s: &Option<String>, what: &str| match s {
            Some(s) => format!("{what}`{s}`"),
            None => dash(),
        };
        let mut rows = Vec::new();
        for m in &self.missing {
            rows.push([
                "missing".to_owned(),
                m.variable.clone(),
                m.key.clone(),
                dash(),
                ty(&m.dtype, &m.shape),
                mean(&m.suggestion, "key "),
            ]);
        }
        for u in &self.unexpected {
            rows.push([
                "unexpected".to_owned(),
                dash(),
                u.key.clone(),
                ty(&u.dtype, &u.shape),
                dash(),
                mean(&u.suggestion, "variable "),
            ]);
        }
        for (label, list) in [
            ("shape mismatch", &self.shape_mismatches),
            ("dtype mismatch", &self.dtype_mismatches),
        ] {
            for m in list {
                rows.push([
                    label.to_owned(),
                    m.variable.clone(),
                    m.key.clone(),
                    ty(&m.stored_dtype, &m.stored_shape),
                    ty(&m.dtype, &m.shape),
                    mean(&m.suggestion, "key "),
                ]);
            }
        }
        rows
    }
}

impl fmt::Display for PreflightReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "restore pre-flight from {}: {} matched, {} missing, {} unexpected{}, {} shape \
             mismatch(es), {} dtype mismatch(es)",
            self.source,
            self.matched.len(),
            self.missing.len(),
            self.unexpected.len(),
            if self.unexpected_allowed && !self.unexpected.is_empty() {
                " (allowed)"
            } else {
                ""
            },
            self.shape_mismatches.len(),
            self.dtype_mismatches.len()
        )?;
        let rows = self.rows();
        if rows.is_empty() {
            return Ok(());
        }
        let header = [
            "problem",
            "variable",
            "checkpoint key",
            "in checkpoint",
            "in registry",
            "did you mean",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| -> fmt::Result {
            let mut s = String::from(" ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(&format!(" {cell}"));
                } else {
                    s.push_str(&format!(" {cell:<w$} "));
                }
            }
            writeln!(f, "{}", s.trim_end())
        };
        line(f, header)?;
        let rule = widths.map(|w| "-".repeat(w));
        line(f, rule.each_ref().map(String::as_str))?;
        for row in &rows {
            line(f, row.each_ref().map(String::as_str))?;
        }
        if let Some((from, to)) = &self.remap_hint {
            writeln!(
                f,
                "hint: the names differ by a prefix; try `.remap_prefix({from:?}, {to:?})`"
            )?;
        }
        Ok(())
    }
}
