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

use regex::Regex;

use super::{CheckpointError, Result, StoredDType, TensorInfo};
use crate::dtype::DType;
use crate::tensor::{format_shape, Shape};

mod near;
mod template;
mod view;

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
}

impl Mapping {
    /// An empty mapping; `name` appears in its messages (`bert-tf-to-hf`).
    pub fn new(name: impl Into<String>) -> Mapping {
        Mapping {
            name: name.into(),
            rules: Vec::new(),
            metadata: BTreeMap::new(),
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
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
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
    /// have) to `to`. Widening casts (`float16` -> `float32`) round-trip exactly; narrowing
    /// ones round to the nearest value.
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
        let mut out = Mapping::new(format!("{} (inverse)", self.name));
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
                        Kind::Rename { pieces, .. } => rule
                            .regex
                            .captures(&t.name)
                            .map(|caps| template::expand(pieces, &rule.regex, &caps)),
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
                    .or_insert_with(|| near::Probe::new(self.rules[rule].regex.as_str()))
                    .as_mut()
                    .and_then(|p| p.matched_len(name))
                    .unwrap_or(0)
            };
            // For an unused rule, the unmapped name (else any name) it gets furthest into.
            for &rule in &unused {
                let pool: Vec<&str> = if unmapped.is_empty() {
                    tensors.iter().map(|t| t.name.as_str()).collect()
                } else {
                    unmapped.iter().map(String::as_str).collect()
                };
                let near = best(pool.iter().map(|&n| (rule, n, probe(rule, n))))
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

/// The candidate reaching furthest, if it is a near miss.
fn best<'n>(
    candidates: impl Iterator<Item = (usize, &'n str, usize)>,
) -> Option<(usize, &'n str, usize)> {
    // The longest match, then the shortest name, then the first.
    candidates
        .filter(|(_, name, len)| near::is_near(name, *len))
        .min_by_key(|(_, name, len)| (std::cmp::Reverse(*len), name.len()))
}

/// A rule, by its 1-based number and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberedRule {
    /// The rule's position in the mapping, from 1.
    pub number: usize,
    /// The rule as displayed.
    pub text: String,
}

impl fmt::Display for NumberedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {} ({})", self.number, self.text)
    }
}

/// A rule that almost matches a name: it matches the first `matched` bytes, then stops.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearMiss {
    /// The rule.
    pub rule: NumberedRule,
    /// The name.
    pub name: String,
    /// How many leading bytes of the name the rule can match.
    pub matched: usize,
}

impl NearMiss {
    /// `matched|rest`: where the name leaves the pattern.
    fn marked(&self) -> String {
        let (a, b) = self.name.split_at(self.matched.min(self.name.len()));
        if b.is_empty() {
            format!("`{a}` (the name ends too early)")
        } else {
            format!("`{a}` then `{b}`")
        }
    }
}

/// Something that stops a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingProblem {
    /// A rule (not optional) that matched no name.
    UnusedRule {
        /// The rule.
        rule: NumberedRule,
        /// The name it gets furthest into, if close.
        near: Option<NearMiss>,
    },
    /// A name no rename, keep or skip rule claims.
    Unmapped {
        /// The name.
        name: String,
        /// The rule reaching furthest into it, if close.
        near: Option<NearMiss>,
    },
    /// A name claimed by two or more rename, keep or skip rules.
    MappedTwice {
        /// The name.
        name: String,
        /// The rules claiming it.
        rules: Vec<NumberedRule>,
    },
    /// Two or more names mapped to one target.
    SameTarget {
        /// The target.
        target: String,
        /// The names mapped to it.
        sources: Vec<String>,
    },
    /// Two transposes, or two casts, on one name.
    TransformedTwice {
        /// The name.
        name: String,
        /// The rules.
        rules: Vec<NumberedRule>,
    },
    /// A transpose of a tensor that is not 2-D.
    NotTransposable {
        /// The name.
        name: String,
        /// Its shape.
        shape: Shape,
        /// The transpose rule.
        rule: NumberedRule,
    },
    /// A squeeze of a tensor whose leading axis is not of extent 1.
    NotSqueezable {
        /// The name.
        name: String,
        /// Its shape.
        shape: Shape,
        /// The squeeze rule.
        rule: NumberedRule,
    },
    /// A cast of a tensor whose dtype is not the cast's `from`.
    WrongDtype {
        /// The name.
        name: String,
        /// Its dtype.
        dtype: StoredDType,
        /// The cast rule.
        rule: NumberedRule,
    },
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_rules(rules: &[NumberedRule]) -> String {
    rules
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

impl fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingProblem::UnusedRule { rule, near } => {
                write!(f, "{rule} matched no name")?;
                if let Some(n) = near {
                    write!(f, "; did you mean `{}`? it matches {}", n.name, n.marked())?;
                } else {
                    f.write_str(" (remove it, fix its pattern, or mark it optional)")?;
                }
                Ok(())
            }
            MappingProblem::Unmapped { name, near } => {
                write!(f, "`{name}` is not mapped by any rule")?;
                match near {
                    Some(n) => write!(f, "; nearest is {}, which matches {}", n.rule, n.marked()),
                    None => f.write_str(" (add a rename, keep or skip rule for it)"),
                }
            }
            MappingProblem::MappedTwice { name, rules } => write!(
                f,
                "`{name}` is mapped twice, by {} (make the patterns disjoint)",
                list_rules(rules)
            ),
            MappingProblem::SameTarget { target, sources } => write!(
                f,
                "{} all map to `{target}` (targets must be unique)",
                list(sources)
            ),
            MappingProblem::TransformedTwice { name, rules } => write!(
                f,
                "`{name}` is transformed twice, by {} (keep one)",
                list_rules(rules)
            ),
            MappingProblem::NotTransposable { name, shape, rule } => write!(
                f,
                "`{name}` has shape {}, but {rule} transposes only 2-D tensors",
                format_shape(shape)
            ),
            MappingProblem::NotSqueezable { name, shape, rule } => write!(
                f,
                "`{name}` has shape {}, but {rule} drops only a leading axis of extent 1",
                format_shape(shape)
            ),
            MappingProblem::WrongDtype { name, dtype, rule } => {
                write!(
                    f,
                    "`{name}` has dtype {dtype}, which {rule} does not cast from"
                )
            }
        }
    }
}

/// One name and what the mapping makes of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedName {
    /// The name, dtype and shape before the mapping.
    pub source: TensorInfo,
    /// After the mapping; `None` if skipped or stopped by a problem.
    pub target: Option<TensorInfo>,
    /// The rename, keep or skip rule that claimed it (0-based index into
    /// [`Mapping::rules`]).
    pub rule: Option<usize>,
    /// Whether the tensor is transposed.
    pub transposed: bool,
    /// The dtype the tensor is cast to, if cast.
    pub cast: Option<DType>,
    /// The leading unit axis dropped or added, if either.
    pub squeeze: Option<Squeeze>,
}

/// What a [`Mapping`] does to a set of names: every name before and after, and every
/// problem. `Display` prints the names as a table, then the problems.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingReport {
    /// The mapping's name.
    pub mapping: String,
    /// One entry per name, in the order given.
    pub entries: Vec<MappedName>,
    /// Everything that stops the mapping (empty if it applies).
    pub problems: Vec<MappingProblem>,
}

impl MappingReport {
    /// Whether the mapping applies cleanly.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The `(source, target)` pairs of the names kept or renamed, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().filter_map(|e| {
            e.target
                .as_ref()
                .map(|t| (e.source.name.as_str(), t.name.as_str()))
        })
    }

    fn summary(&self) -> String {
        let mapped = self.entries.iter().filter(|e| e.target.is_some()).count();
        let skipped = self
            .entries
            .iter()
            .filter(|e| e.target.is_none() && e.rule.is_some())
            .count();
        let transposed = self.entries.iter().filter(|e| e.transposed).count();
        let cast = self.entries.iter().filter(|e| e.cast.is_some()).count();
        format!(
            "mapping `{}` over {} name(s): {mapped} mapped ({transposed} transposed, {cast} \
             cast), {skipped} skipped, {} problem(s)",
            self.mapping,
            self.entries.len(),
            self.problems.len()
        )
    }

    /// The problems, one per line, after a summary line.
    pub fn problems_text(&self) -> String {
        let mut s = self.summary();
        for p in &self.problems {
            s.push_str("\n  - ");
            s.push_str(&p.to_string());
        }
        s
    }
}

impl fmt::Display for MappingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        let width = self
            .entries
            .iter()
            .map(|e| e.source.name.chars().count())
            .max()
            .unwrap_or(0);
        for e in &self.entries {
            let rule = e
                .rule
                .map(|i| format!("  [rule {}]", i + 1))
                .unwrap_or_default();
            let source = &e.source.name;
            match &e.target {
                Some(t) => {
                    let mut notes = String::new();
                    if e.transposed {
                        notes.push_str("  transposed");
                    }
                    match e.squeeze {
                        Some(Squeeze::Drop) => notes.push_str("  squeezed"),
                        Some(Squeeze::Add) => notes.push_str("  unsqueezed"),
                        None => {}
                    }
                    if let Some(d) = e.cast {
                        notes.push_str(&format!("  cast from {}", e.source.dtype));
                        debug_assert_eq!(t.dtype, StoredDType::Supported(d));
                    }
                    writeln!(
                        f,
                        "  {source:<width$}  ->  {}  {} {}{notes}{rule}",
                        t.name,
                        t.dtype,
                        format_shape(&t.shape)
                    )?;
                }
                None if e.rule.is_some() => writeln!(f, "  {source:<width$}  (skipped){rule}")?,
                None => writeln!(f, "  {source:<width$}  (not mapped: see problems)")?,
            }
        }
        if !self.problems.is_empty() {
            writeln!(f, "problems:")?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
        }
        Ok(())
    }
}
