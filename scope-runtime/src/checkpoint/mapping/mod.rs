//! Name mappings as data, checked before any tensor moves: ordered rules that rename (a
//! regex with captures and a template), keep, skip, transpose or cast tensors, and the report
//! of what they do to a set of names.
//!
//! Applying a [`Mapping`] is all-or-nothing. Every rule must fire at least once (unless
//! marked [`Mapping::optional`]), every name must be claimed by exactly one rename, keep or
//! skip rule, and no two names may end up with one target. All problems are collected in one
//! [`MappingReport`], each with a "did you mean" when a rule almost matches a name.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use regex_automata::meta::Regex;

use super::{CheckpointError, Result, StoredDType, TensorInfo};
use crate::dtype::DType;

mod cast;
mod near;
mod report;
mod template;
mod view;

pub use self::cast::CastMode;
pub use self::report::{MappedName, MappingProblem, MappingReport, NearMiss, NumberedRule};
pub(super) use self::view::transform;
pub use self::view::MappedSource;

use self::template::Piece;

/// Which name a transform rule's pattern is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The name before the mapping (the source checkpoint's key, or the variable's name).
    Source,
    /// The name after the mapping.
    Target,
}

impl Side {
    fn flip(self) -> Side {
        match self {
            Side::Source => Side::Target,
            Side::Target => Side::Source,
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Rename {
        template: String,
        pieces: Vec<Piece>,
    },
    Keep,
    Skip,
    Transpose {
        on: Side,
    },
    Cast {
        on: Side,
        from: DType,
        to: DType,
    },
    Squeeze {
        on: Side,
        squeeze: Squeeze,
    },
}

/// A change of rank a mapping rule makes ([`Mapping::squeeze`], [`Mapping::unsqueeze`]):
/// a leading axis of extent 1 dropped or added, the elements unchanged. TF's `conv1d`
/// weights (GPT-2's `[1, nx, nf]`) are the `[nx, nf]` matrices other formats store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Squeeze {
    /// `[1, ..]` becomes `[..]`, before any transpose.
    Drop,
    /// `[..]` becomes `[1, ..]`, after any transpose.
    Add,
}

impl Squeeze {
    fn flip(self) -> Squeeze {
        match self {
            Squeeze::Drop => Squeeze::Add,
            Squeeze::Add => Squeeze::Drop,
        }
    }
}

/// One rule of a [`Mapping`]. Patterns match whole names (they are anchored at both ends).
#[derive(Clone, Debug)]
pub struct Rule {
    kind: Kind,
    pattern: String,
    regex: Regex,
    optional: bool,
}

impl Rule {
    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the rule may match no name.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The side a transform rule's pattern reads; `None` for rename, keep and skip.
    fn side(&self) -> Option<Side> {
        match self.kind {
            Kind::Transpose { on } | Kind::Cast { on, .. } | Kind::Squeeze { on, .. } => Some(on),
            _ => None,
        }
    }

    /// Whether this rule decides a name's fate (rename, keep or skip), as opposed to a
    /// transform (transpose, cast) applied on top.
    pub fn claims(&self) -> bool {
        matches!(self.kind, Kind::Rename { .. } | Kind::Keep | Kind::Skip)
    }
}

/// `rename `pattern` -> `template``, `skip `pattern``, `transpose target `pattern``, ...
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |side: &Side| match side {
            Side::Source => "",
            Side::Target => "target ",
        };
        let p = &self.pattern;
        match &self.kind {
            Kind::Rename { template, .. } => write!(f, "rename `{p}` -> `{template}`")?,
            Kind::Keep => write!(f, "keep `{p}`")?,
            Kind::Skip => write!(f, "skip `{p}`")?,
            Kind::Transpose { on: side } => write!(f, "transpose {}`{p}`", on(side))?,
            Kind::Cast { on: side, from, to } => {
                write!(f, "cast {}`{p}` {from} -> {to}", on(side))?
            }
            Kind::Squeeze {
                on: side,
                squeeze: Squeeze::Drop,
            } => write!(f, "squeeze {}`{p}`", on(side))?,
            Kind::Squeeze {
                on: side,
                squeeze: Squeeze::Add,
            } => write!(f, "unsqueeze {}`{p}`", on(side))?,
        }
        if self.optional {
            f.write_str(" (optional)")?;
        }
        Ok(())
    }
}

/// An ordered list of rules turning one set of tensor names (and layouts) into another,
/// checked before use: TF names to Hugging Face names, one scope to another, a checkpoint's
/// keys to a registry's variables.
///
/// * [`Mapping::rename`]: a name matching the pattern becomes the template, with `$1`,
///   `${1}` or `$name` replaced by what the capture groups matched (the `regex` crate's
///   syntax, `$$` for a literal `$`).
/// * [`Mapping::keep`]: names matching stay as they are.
/// * [`Mapping::skip`]: names matching are left out (optimizer slots, `global_step`).
/// * [`Mapping::transpose`] and [`Mapping::cast`]: change the layout or dtype of the
///   tensors whose name matches, on top of their rename.
///
/// Every name must be claimed by exactly one rename, keep or skip rule. Patterns match whole
/// names. A mapping whose renames are literal text around capture groups has an
/// [`Mapping::inverse`].
///
/// ```
/// use scope::checkpoint::{Mapping, TensorInfo};
/// use scope::DType;
///
/// let m = Mapping::new("tf-to-dotted")
///     .rename(r"layer_(\d+)/(\w+)/kernel", "layer.$1.$2.weight")?
///     .rename(r"layer_(\d+)/(\w+)/bias", "layer.$1.$2.bias")?
///     .transpose(r".*/kernel")?
///     .skip(r"global_step")?;
/// let names = [
///     TensorInfo::new("layer_0/dense/kernel", DType::F32, &[4, 2]),
///     TensorInfo::new("layer_0/dense/bias", DType::F32, &[2]),
///     TensorInfo::new("global_step", DType::I64, &[]),
/// ];
/// let report = m.apply(&names)?;
/// let kernel = report.entries[0].target.as_ref().unwrap();
/// assert_eq!((kernel.name.as_str(), &kernel.shape[..]), ("layer.0.dense.weight", &[2, 4][..]));
/// assert!(report.entries[2].target.is_none()); // skipped
///
/// // Derived, not written again: weight -> kernel, transposed back.
/// let back = m.inverse()?;
/// let targets: Vec<TensorInfo> = report.entries.iter().filter_map(|e| e.target.clone()).collect();
/// let again = back.apply(&targets)?;
/// assert_eq!(again.entries[0].target.as_ref().unwrap(), &names[0]);
///
/// // An unused rule is an error that says so, and nothing is mapped.
/// let err = Mapping::new("typo").rename("layer_(\\d+)/(\\w+)/kernal", "x.$1.$2")?.apply(&names[..1]);
/// assert!(err.unwrap_err().to_string().contains("matched no name"));
/// # Ok::<(), scope::checkpoint::CheckpointError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Mapping {
    name: String,
    rules: Vec<Rule>,
    metadata: BTreeMap<String, String>,
    cast_mode: CastMode,
}

impl Mapping {
    /// An empty mapping; `name` appears in its messages (`bert-tf-to-hf`).
    pub fn new(name: impl Into<String>) -> Mapping {
        Mapping {
            name: name.into(),
            rules: Vec::new(),
            metadata: BTreeMap::new(),
            cast_mode: CastMode::Checked,
        }
    }

    /// The mapping's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// `__metadata__` entries that files written through this mapping carry (Hugging Face
    /// readers want `format: pt`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// What the cast rules do with a value the target dtype cannot hold
    /// ([`CastMode::Checked`] unless set).
    pub fn cast_mode(&self) -> CastMode {
        self.cast_mode
    }

    /// Sets what the cast rules do with a value the target dtype cannot hold: refuse it
    /// ([`CastMode::Checked`], the default), clamp it ([`CastMode::Saturating`]), or do what
    /// `tf.cast` does ([`CastMode::Wrapping`]). [`CastMode`] says what each does to what.
    pub fn with_cast_mode(mut self, mode: CastMode) -> Mapping {
        self.cast_mode = mode;
        self
    }

    /// Renames the mapping.
    pub fn with_name(mut self, name: impl Into<String>) -> Mapping {
        self.name = name.into();
        self
    }

    /// Adds a `__metadata__` entry for files written through this mapping.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Mapping {
        self.metadata.insert(key.into(), value.into());
        self
    }

    fn push(mut self, pattern: &str, kind: Kind) -> Result<Mapping> {
        let regex = crate::pattern::compile(&anchored(pattern)).map_err(|e| {
            self.invalid(
                &format!("`{pattern}`"),
                format!("the pattern is not a valid regex: {e}"),
            )
        })?;
        if let Kind::Rename { pieces, .. } = &kind {
            template::check_references(pieces, &regex)
                .map_err(|reason| self.invalid(&format!("`{pattern}`"), reason))?;
        }
        self.rules.push(Rule {
            kind,
            pattern: pattern.to_owned(),
            regex,
            optional: false,
        });
        Ok(self)
    }

    fn invalid(&self, rule: &str, reason: String) -> CheckpointError {
        CheckpointError::InvalidRule {
            mapping: self.name.clone(),
            rule: rule.to_owned(),
            reason,
        }
    }

    /// Names matching `pattern` become `template` (`$1`, `${1}`, `$name` for groups).
    pub fn rename(self, pattern: &str, template: &str) -> Result<Mapping> {
        let pieces = template::parse_template(template);
        self.push(
            pattern,
            Kind::Rename {
                template: template.to_owned(),
                pieces,
            },
        )
    }

    /// Names matching `pattern` stay as they are.
    pub fn keep(self, pattern: &str) -> Result<Mapping> {
        self.push(pattern, Kind::Keep)
    }

    /// Names matching `pattern` are left out.
    pub fn skip(self, pattern: &str) -> Result<Mapping> {
        self.push(pattern, Kind::Skip)
    }

    /// Tensors whose source name matches `pattern` are transposed (2-D only: `[in, out]`
    /// becomes `[out, in]`).
    pub fn transpose(self, pattern: &str) -> Result<Mapping> {
        self.push(pattern, Kind::Transpose { on: Side::Source })
    }

    /// Tensors whose source name matches `pattern` are cast from `from` (which they must
    /// have) to `to`. Widening casts (`float16` -> `float32`) round-trip exactly; a float
    /// narrowed to a float type rounds to the nearest value that type holds. A value the
    /// target cannot hold at all (beyond a float type's range, NaN or a fraction to an
    /// integer, an integer out of range, anything but 0 or 1 to `bool`) stops the read or
    /// save with [`CheckpointError::Cast`], naming the first such element, unless
    /// [`Mapping::with_cast_mode`] asks for saturating or `tf.cast`'s wrapping behaviour.
    ///
    /// ```
    /// use scope::checkpoint::{CastMode, CheckpointError, Mapping, Save};
    /// use scope::{DType, Initializer, Registry, VarSpec};
    /// # let dir = std::env::temp_dir().join(format!("scope-doc-cast-{}", std::process::id()));
    /// let reg = Registry::new();
    /// reg.get_variable("w", VarSpec::new().shape([2]).initializer(Initializer::Constant(1e6)))?;
    /// let to_half = Mapping::new("half").keep("w")?.cast("w", DType::F32, DType::F16)?;
    /// let err = Save::new(&reg).mapping(&to_half).save(dir.join("w.safetensors")).unwrap_err();
    /// assert!(matches!(&err, CheckpointError::Cast { index, .. } if index[..] == [0]), "{err}");
    /// // Clamped to float16's largest finite value instead, on request.
    /// let clamped = to_half.with_cast_mode(CastMode::Saturating);
    /// Save::new(&reg).mapping(&clamped).save(dir.join("w.safetensors"))?;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cast(self, pattern: &str, from: DType, to: DType) -> Result<Mapping> {
        self.push(
            pattern,
            Kind::Cast {
                on: Side::Source,
                from,
                to,
            },
        )
    }

    /// Tensors whose source name matches `pattern` lose their leading axis, which must have
    /// extent 1 (`[1, nx, nf]` becomes `[nx, nf]`), before any transpose.
    pub fn squeeze(self, pattern: &str) -> Result<Mapping> {
        self.squeeze_on(Side::Source, pattern, Squeeze::Drop)
    }

    /// Tensors whose source name matches `pattern` get a leading axis of extent 1
    /// (`[nx, nf]` becomes `[1, nx, nf]`), after any transpose: the inverse of
    /// [`Mapping::squeeze`].
    pub fn unsqueeze(self, pattern: &str) -> Result<Mapping> {
        self.squeeze_on(Side::Source, pattern, Squeeze::Add)
    }

    /// [`Mapping::squeeze`] or [`Mapping::unsqueeze`] matching the given side's name.
    pub fn squeeze_on(self, side: Side, pattern: &str, squeeze: Squeeze) -> Result<Mapping> {
        self.push(pattern, Kind::Squeeze { on: side, squeeze })
    }

    /// A transform rule whose pattern reads the given side's name: [`Mapping::transpose`]
    /// on target names, say.
    pub fn transpose_on(self, side: Side, pattern: &str) -> Result<Mapping> {
        self.push(pattern, Kind::Transpose { on: side })
    }

    /// [`Mapping::cast`] matching the given side's name.
    pub fn cast_on(self, side: Side, pattern: &str, from: DType, to: DType) -> Result<Mapping> {
        self.push(pattern, Kind::Cast { on: side, from, to })
    }

    /// Marks the last rule optional: it may match no name (optimizer slots that a
    /// checkpoint may or may not hold).
    pub fn optional(mut self) -> Mapping {
        if let Some(rule) = self.rules.last_mut() {
            rule.optional = true;
        }
        self
    }

    /// Marks every rule optional, for a partial load: a view of one sub-scope (say
    /// [`crate::checkpoint::ShardedCheckpoint::open_prefix`]) leaves most rules unused. Every
    /// name present must still be claimed exactly once, and targets stay unique.
    pub fn partial(mut self) -> Mapping {
        for rule in &mut self.rules {
            rule.optional = true;
        }
        self
    }

    /// Appends the rules of `other` (and its metadata) after these.
    pub fn extend(mut self, other: Mapping) -> Mapping {
        self.rules.extend(other.rules);
        self.metadata.extend(other.metadata);
        self
    }

    /// The mapping that undoes this one, derived rule by rule: a rename's pattern and
    /// template swap (its pattern must be literal text around capture groups, each used
    /// once by the template), keeps stay, transforms swap sides (a cast also swaps its
    /// dtypes), and skips are dropped (what was skipped does not exist on the other side).
    /// The inverse carries no metadata.
    pub fn inverse(&self) -> Result<Mapping> {
        let mut out =
            Mapping::new(format!("{} (inverse)", self.name)).with_cast_mode(self.cast_mode);
        for (i, rule) in self.rules.iter().enumerate() {
            let not_invertible = |reason: String| CheckpointError::NotInvertible {
                mapping: self.name.clone(),
                rule: i + 1,
                text: rule.to_string(),
                reason,
            };
            out = match &rule.kind {
                Kind::Rename { pieces, .. } => {
                    let source =
                        Regex::new(&rule.pattern).map_err(|e| not_invertible(e.to_string()))?;
                    let (p, t) = template::invert_rename(&rule.pattern, &source, pieces)
                        .map_err(not_invertible)?;
                    out.rename(&p, &t)?
                }
                Kind::Keep => out.keep(&rule.pattern)?,
                Kind::Skip => continue,
                Kind::Transpose { on } => out.transpose_on(on.flip(), &rule.pattern)?,
                Kind::Cast { on, from, to } => out.cast_on(on.flip(), &rule.pattern, *to, *from)?,
                Kind::Squeeze { on, squeeze } => {
                    out.squeeze_on(on.flip(), &rule.pattern, squeeze.flip())?
                }
            };
            if rule.optional {
                out = out.optional();
            }
        }
        Ok(out)
    }

    /// What the mapping does to `tensors` (in their order), with every problem. Never
    /// fails; see [`Mapping::apply`] for the checked use.
    pub fn report(&self, tensors: &[TensorInfo]) -> MappingReport {
        let mut fired = vec![0usize; self.rules.len()];
        let mut entries = Vec::with_capacity(tensors.len());
        let mut problems = Vec::new();
        let mut unmapped = Vec::new();
        for t in tensors {
            let claims: Vec<usize> = self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.claims() && r.regex.is_match(&t.name))
                .map(|(i, _)| i)
                .collect();
            for &i in &claims {
                fired[i] += 1;
            }
            let mut entry = MappedName {
                source: t.clone(),
                target: None,
                rule: None,
                transposed: false,
                cast: None,
                squeeze: None,
            };
            match claims[..] {
                [] => unmapped.push(t.name.clone()),
                [i] => {
                    entry.rule = Some(i);
                    let rule = &self.rules[i];
                    let target = match &rule.kind {
                        Kind::Rename { pieces, .. } => {
                            template::expand(pieces, &rule.regex, &t.name)
                        }
                        Kind::Keep => Some(t.name.clone()),
                        _ => None,
                    };
                    if let Some(target) = target {
                        self.transform(&mut entry, target, &mut fired, &mut problems);
                    }
                }
                _ => problems.push(MappingProblem::MappedTwice {
                    name: t.name.clone(),
                    rules: claims.iter().map(|&i| self.numbered(i)).collect(),
                }),
            }
            entries.push(entry);
        }

        // Two names to one target.
        let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for e in &entries {
            if let Some(t) = &e.target {
                by_target
                    .entry(t.name.as_str())
                    .or_default()
                    .push(e.source.name.as_str());
            }
        }
        for (target, sources) in by_target {
            if sources.len() > 1 {
                problems.push(MappingProblem::SameTarget {
                    target: target.to_owned(),
                    sources: sources.into_iter().map(str::to_owned).collect(),
                });
            }
        }

        let unused: Vec<usize> = (0..self.rules.len())
            .filter(|&i| fired[i] == 0 && !self.rules[i].optional)
            .collect();
        let mut front = Vec::new();
        if !unused.is_empty() || !unmapped.is_empty() {
            let mut probes: HashMap<usize, Option<near::Probe>> = HashMap::new();
            // Bounded work however many names and rules: past the budget, no suggestions.
            let mut budget = near::PROBE_BUDGET;
            let mut probe = |rule: usize, name: &str| -> usize {
                budget = budget.saturating_sub(name.len() + 1);
                if budget == 0 {
                    return 0;
                }
                probes
                    .entry(rule)
                    .or_insert_with(|| near::Probe::new(&anchored(&self.rules[rule].pattern)))
                    .as_mut()
                    .and_then(|p| p.matched_len(name))
                    .unwrap_or(0)
            };
            // For an unused rule, the unmapped name (else any name) it gets furthest into,
            // among the names of the side it reads; never a name it matches in full.
            for &rule in &unused {
                let regex = &self.rules[rule].regex;
                let on_target = self.rules[rule].side() == Some(Side::Target);
                // A transform matching a source name in full: that name is skipped or not
                // mapped, so the transform never applied. Said as such, not as a near miss.
                let unclaimed = (!self.rules[rule].claims() && !on_target)
                    .then(|| entries.iter().find(|e| regex.is_match(&e.source.name)))
                    .flatten();
                if let Some(e) = unclaimed {
                    front.push(MappingProblem::TransformUnclaimed {
                        rule: self.numbered(rule),
                        name: e.source.name.clone(),
                        skipped_by: e
                            .rule
                            .filter(|&r| matches!(self.rules[r].kind, Kind::Skip))
                            .map(|r| self.numbered(r)),
                    });
                    continue;
                }
                let pool: Vec<&str> = if on_target {
                    entries
                        .iter()
                        .filter_map(|e| e.target.as_ref().map(|t| t.name.as_str()))
                        .collect()
                } else if unmapped.is_empty() {
                    tensors.iter().map(|t| t.name.as_str()).collect()
                } else {
                    unmapped.iter().map(String::as_str).collect()
                };
                let near = best(
                    pool.iter()
                        .filter(|n| !regex.is_match(n))
                        .map(|&n| (rule, n, probe(rule, n))),
                )
                .map(|(r, n, len)| self.near_miss(r, n, len));
                front.push(MappingProblem::UnusedRule {
                    rule: self.numbered(rule),
                    near,
                });
            }
            // For an unmapped name, the unused claim rule (else any claim rule) reaching
            // furthest into it.
            let claim_rules: Vec<usize> = (0..self.rules.len())
                .filter(|&i| self.rules[i].claims())
                .collect();
            let unused_claims: Vec<usize> = unused
                .iter()
                .copied()
                .filter(|&i| self.rules[i].claims())
                .collect();
            for name in unmapped {
                let pool = if unused_claims.is_empty() {
                    &claim_rules
                } else {
                    &unused_claims
                };
                let near = best(pool.iter().map(|&r| (r, name.as_str(), probe(r, &name))))
                    .map(|(r, n, len)| self.near_miss(r, n, len));
                front.push(MappingProblem::Unmapped { name, near });
            }
        }
        front.extend(problems);
        MappingReport {
            mapping: self.name.clone(),
            entries,
            problems: front,
        }
    }

    /// Applies the transform rules to a claimed name with target `target`.
    fn transform(
        &self,
        entry: &mut MappedName,
        target: String,
        fired: &mut [usize],
        problems: &mut Vec<MappingProblem>,
    ) {
        let source = &entry.source;
        let matches = |on: &Side, regex: &Regex| match on {
            Side::Source => regex.is_match(&source.name),
            Side::Target => regex.is_match(&target),
        };
        let mut transposes = Vec::new();
        let mut casts = Vec::new();
        let mut squeezes = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match &rule.kind {
                Kind::Transpose { on } if matches(on, &rule.regex) => transposes.push(i),
                Kind::Squeeze { on, squeeze } if matches(on, &rule.regex) => {
                    squeezes.push((i, *squeeze))
                }
                Kind::Cast { on, from, to } if matches(on, &rule.regex) => {
                    casts.push((i, *from, *to))
                }
                _ => continue,
            }
            fired[i] += 1;
        }
        let mut ok = true;
        let squeezed: Vec<usize> = squeezes.iter().map(|s| s.0).collect();
        for list in [
            transposes.clone(),
            casts.iter().map(|c| c.0).collect(),
            squeezed,
        ] {
            if list.len() > 1 {
                ok = false;
                problems.push(MappingProblem::TransformedTwice {
                    name: source.name.clone(),
                    rules: list.iter().map(|&i| self.numbered(i)).collect(),
                });
            }
        }
        let mut shape = source.shape.clone();
        let squeeze = squeezes.first().copied();
        if let Some((i, Squeeze::Drop)) = squeeze {
            if shape.first() == Some(&1) {
                shape.remove(0);
                entry.squeeze = Some(Squeeze::Drop);
            } else {
                ok = false;
                problems.push(MappingProblem::NotSqueezable {
                    name: source.name.clone(),
                    shape: source.shape.clone(),
                    rule: self.numbered(i),
                });
            }
        }
        if let Some(&i) = transposes.first() {
            if shape.len() == 2 {
                shape.reverse();
                entry.transposed = true;
            } else {
                ok = false;
                problems.push(MappingProblem::NotTransposable {
                    name: source.name.clone(),
                    shape: source.shape.clone(),
                    rule: self.numbered(i),
                });
            }
        }
        if let Some((_, Squeeze::Add)) = squeeze {
            shape.insert(0, 1);
            entry.squeeze = Some(Squeeze::Add);
        }
        let mut dtype = source.dtype.clone();
        if let Some(&(i, from, to)) = casts.first() {
            if source.dtype == StoredDType::Supported(from) {
                dtype = StoredDType::Supported(to);
                entry.cast = Some(to);
            } else {
                ok = false;
                problems.push(MappingProblem::WrongDtype {
                    name: source.name.clone(),
                    dtype: source.dtype.clone(),
                    rule: self.numbered(i),
                });
            }
        }
        if ok {
            entry.target = Some(TensorInfo {
                name: target,
                dtype,
                shape,
            });
        }
    }

    fn numbered(&self, i: usize) -> NumberedRule {
        NumberedRule {
            number: i + 1,
            text: self.rules[i].to_string(),
        }
    }

    fn near_miss(&self, rule: usize, name: &str, matched: usize) -> NearMiss {
        NearMiss {
            rule: self.numbered(rule),
            name: name.to_owned(),
            matched,
        }
    }

    /// [`Mapping::report`], refusing with [`CheckpointError::Mapping`] (the whole report)
    /// if there is any problem.
    pub fn apply(&self, tensors: &[TensorInfo]) -> Result<MappingReport> {
        let report = self.report(tensors);
        if report.problems.is_empty() {
            Ok(report)
        } else {
            Err(CheckpointError::Mapping {
                report: Box::new(report),
            })
        }
    }
}

/// A rule's pattern as compiled: it must match a whole name.
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

/// The candidate reaching furthest, if it is a near miss.
fn best<'n>(
    candidates: impl Iterator<Item = (usize, &'n str, usize)>,
) -> Option<(usize, &'n str, usize)> {
    // The longest match, then the shortest name, then the first.
    candidates
        .filter(|(_, name, len)| near::is_near(name, *len))
        .min_by_key(|(_, name, len)| (std::cmp::Reverse(*len), name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mapping renaming `enc/*/kernel`, then `rules` (`Err` stops the test).
    fn enc(rules: impl FnOnce(Mapping) -> Result<Mapping>) -> Mapping {
        let m = Mapping::new("m").rename(r"enc/(\w+)/kernel", "enc.$1.weight");
        m.and_then(rules).unwrap()
    }

    fn names(list: &[&str]) -> Vec<TensorInfo> {
        list.iter()
            .map(|n| TensorInfo::new(*n, DType::F32, &[2, 2]))
            .collect()
    }

    /// Issue 25, item 11: an unused transform rule suggested, as "did you mean", a name it
    /// then said it matches (`foo/kernel`, matched in full but skipped or not mapped, so the
    /// transform never applied). A suggestion is never a name the rule matches; such a name
    /// is reported as what it is.
    #[test]
    fn a_suggestion_is_never_a_name_the_rule_already_matches() {
        let tensors = names(&["enc/dense/kernel", "foo/kernel", "foo/kernal"]);
        let m = enc(|m| m.skip("foo/kernel")?.transpose("foo/kernel"));
        let report = m.report(&tensors[..2]);
        assert_eq!(report.problems.len(), 1, "{}", report.problems_text());
        let text = report.problems[0].to_string();
        assert!(!text.contains("did you mean"), "{text}");
        assert!(
            matches!(
                &report.problems[0],
                MappingProblem::TransformUnclaimed { name, skipped_by: Some(r), .. }
                    if name == "foo/kernel" && r.number == 2
            ),
            "{text}"
        );
        assert!(text.contains("rule 2"), "{text}");
        // Unmapped instead of skipped: said so.
        let m = enc(|m| m.transpose("foo/kernel"));
        let report = m.report(&tensors[..2]);
        let texts: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            texts
                .iter()
                .all(|t| !t.contains("did you mean `foo/kernel`")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("`foo/kernel`") && t.contains("not mapped")),
            "{texts:?}"
        );
        // A real near miss is still suggested.
        let m = enc(|m| m.skip("foo/kernal")?.transpose("foo/kernels"));
        let report = m.report(&[tensors[0].clone(), tensors[2].clone()]);
        let text = report.problems_text();
        assert!(text.contains("did you mean `foo/kernal`"), "{text}");
        // A target-side rule is compared with target names, never with source names.
        let m = enc(|m| m.transpose_on(Side::Target, "enc/dense/kernel"));
        let text = m.report(&tensors[..1]).problems_text();
        assert!(!text.contains("did you mean `enc/dense/kernel`"), "{text}");
    }
}
