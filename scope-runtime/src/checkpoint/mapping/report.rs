//! What a mapping makes of a set of names: the report, its problems, and how they print.

use std::fmt;

use crate::checkpoint::{StoredDType, TensorInfo};
use crate::dtype::DType;
use crate::tensor::{format_shape, Shape};

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
    /// A transform rule (not optional) that applied to no name: the names it matches are
    /// all skipped or not mapped, and a transform acts only on names kept or renamed.
    TransformUnclaimed {
        /// The transform rule.
        rule: NumberedRule,
        /// The first name it matches.
        name: String,
        /// The skip rule claiming that name; `None` if no rule maps it.
        skipped_by: Option<NumberedRule>,
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
            MappingProblem::TransformUnclaimed {
                rule,
                name,
                skipped_by,
            } => {
                write!(
                    f,
                    "{rule} matched no kept or renamed name: it matches `{name}`, "
                )?;
                match skipped_by {
                    Some(skip) => write!(f, "which {skip} skips")?,
                    None => f.write_str("which is not mapped by any rule")?,
                }
                f.write_str(
                    " (a transform applies only to names a rename or keep rule claims; map \
                     that name, or remove the rule or mark it optional)",
                )
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
    /// [`Mapping::rules`](super::Mapping::rules)).
    pub rule: Option<usize>,
    /// Whether the tensor is transposed.
    pub transposed: bool,
    /// The dtype the tensor is cast to, if cast.
    pub cast: Option<DType>,
}

/// What a [`Mapping`](super::Mapping) does to a set of names: every name before and after,
/// and every problem. `Display` prints the names as a table, then the problems.
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
