//! Counting comparisons against recorded numbers: one named [`Rule`] per quantity (its
//! tolerance), a [`Checks`] tally that prints every mismatch, the worst error per rule, one
//! line per fixture and the suite's `NAME: N checks passed, M failed` line.

use std::fmt::Display;
use std::io::Write as _;
use std::path::Path;

use ndarray::ArrayD;

/// How close a value must be to the recorded one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tol {
    /// `max |got - want| <= tol`.
    Abs(f64),
    /// `max |got - want| <= rtol * max |want|`, or `<= atol` (for tensors near zero).
    Rel {
        /// Relative to the tensor's largest magnitude.
        rtol: f64,
        /// Absolute floor.
        atol: f64,
    },
    /// Every element equal.
    Exact,
}

/// The rule for one quantity: its name (printed in the margins: `worst gradient error`) and
/// its tolerance. By default shapes must be equal; [`Rule::by_elements`] compares only the
/// elements in order (TF's `[b * s, h]` against a port's `[b, s, h]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// What is compared (`gradient`, `adam_m`, ...).
    pub name: &'static str,
    /// The tolerance.
    pub tol: Tol,
    /// Whether only the element counts, not the shapes, must agree.
    pub by_elements: bool,
}

impl Rule {
    /// Within `tol` absolutely.
    pub const fn abs(name: &'static str, tol: f64) -> Rule {
        Rule {
            name,
            tol: Tol::Abs(tol),
            by_elements: false,
        }
    }

    /// Within `rtol` of the tensor's largest magnitude, or within `atol`.
    pub const fn rel(name: &'static str, rtol: f64, atol: f64) -> Rule {
        Rule {
            name,
            tol: Tol::Rel { rtol, atol },
            by_elements: false,
        }
    }

    /// Equal, element for element.
    pub const fn exact(name: &'static str) -> Rule {
        Rule {
            name,
            tol: Tol::Exact,
            by_elements: false,
        }
    }

    /// The same rule comparing elements in row-major order whatever the two shapes, as long
    /// as they hold as many elements.
    pub const fn by_elements(self) -> Rule {
        Rule {
            by_elements: true,
            ..self
        }
    }
}

/// A tally of checks: how many passed, how many failed (each failure printed as
/// `  MISMATCH what: why` on stderr), and the worst error seen per rule.
#[derive(Debug, Default)]
pub struct Checks {
    passed: usize,
    failed: usize,
    worst: Vec<(&'static str, f64)>,
}

impl Checks {
    /// An empty tally.
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Checks that passed so far.
    pub fn passed(&self) -> usize {
        self.passed
    }

    /// Checks that failed so far.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Compares `got` (row-major, of shape `got_shape`) with TF's `want` under `rule`;
    /// counts one check and returns whether it passed.
    pub fn compare<G, W>(
        &mut self,
        rule: &Rule,
        what: &str,
        got: &[G],
        got_shape: &[usize],
        want: &ArrayD<W>,
    ) -> bool
    where
        G: Copy + Into<f64>,
        W: Copy + Into<f64>,
    {
        let n_got: usize = got_shape.iter().product();
        let shapes_agree = if rule.by_elements {
            n_got == want.len()
        } else {
            got_shape == want.shape()
        };
        if !shapes_agree || got.len() != n_got {
            self.fail(&format!(
                "{what}: shape {got_shape:?}, TensorFlow has {:?}",
                want.shape()
            ));
            return false;
        }
        let err = got.iter().zip(want.iter()).fold(0.0f64, |m, (&g, &w)| {
            let e = (g.into() - w.into()).abs();
            if e.is_nan() {
                f64::INFINITY
            } else {
                m.max(e)
            }
        });
        self.note(rule.name, err);
        let verdict = match rule.tol {
            Tol::Abs(tol) => (err <= tol)
                .then_some(())
                .ok_or_else(|| format!("{what}: max |got - want| = {err:.3e} > {tol:.0e}")),
            Tol::Rel { rtol, atol } => {
                let max_want = want.iter().fold(0.0f64, |m, &x| m.max(x.into().abs()));
                (err <= rtol * max_want || err <= atol)
                    .then_some(())
                    .ok_or_else(|| {
                        format!("{what}: max|got - want| = {err:.3e}, max|want| = {max_want:.3e}")
                    })
            }
            Tol::Exact => (err == 0.0)
                .then_some(())
                .ok_or_else(|| format!("{what}: max |got - want| = {err:.3e}, must be exact")),
        };
        match verdict {
            Ok(()) => {
                self.passed += 1;
                true
            }
            Err(why) => {
                self.fail(&why);
                false
            }
        }
    }

    /// [`Checks::compare`] of two arrays.
    pub fn compare_arrays<G, W>(
        &mut self,
        rule: &Rule,
        what: &str,
        got: &ArrayD<G>,
        want: &ArrayD<W>,
    ) -> bool
    where
        G: Copy + Into<f64>,
        W: Copy + Into<f64>,
    {
        let data: Vec<G> = got.iter().copied().collect();
        self.compare(rule, what, &data, got.shape(), want)
    }

    /// One check that passes when `ok`; `what` is printed when it does not.
    pub fn truth(&mut self, what: &str, ok: bool) -> bool {
        if ok {
            self.passed += 1;
        } else {
            self.fail(what);
        }
        ok
    }

    /// One failed check, printed as `  MISMATCH what`.
    pub fn fail(&mut self, what: &str) {
        eprintln!("  MISMATCH {what}");
        self.failed += 1;
    }

    /// Runs the checks of one fixture directory: an error `run` returns is printed as
    /// `  ERROR dir: error` and counted as a failure; then prints `  dir: N passed, M failed`
    /// for this fixture alone.
    pub fn fixture<E: Display>(
        &mut self,
        dir: &Path,
        run: impl FnOnce(&mut Checks) -> Result<(), E>,
    ) {
        let before = (self.passed, self.failed);
        if let Err(e) = run(self) {
            eprintln!("  ERROR {}: {e}", dir.display());
            self.failed += 1;
        }
        let _ = writeln!(
            std::io::stdout(),
            "  {}: {} passed, {} failed",
            dir.display(),
            self.passed - before.0,
            self.failed - before.1
        );
    }

    /// Prints `  worst RULE error: E` for every rule used, to show the margins.
    pub fn print_margins(&self) {
        for (kind, err) in &self.worst {
            let _ = writeln!(std::io::stdout(), "  worst {kind} error: {err:.3e}");
        }
    }

    /// Prints `<suite>: N checks passed, M failed` straight to stdout (past libtest's
    /// capture: this line is the suite's report, read by people and CI alike) and fails on
    /// any failure, or when nothing was checked.
    pub fn finish(self, suite: &str) {
        let (passed, failed) = (self.passed, self.failed);
        let _ = writeln!(
            std::io::stdout(),
            "{suite}: {passed} checks passed, {failed} failed"
        );
        assert_eq!(failed, 0, "{failed} checks failed against TensorFlow");
        assert!(passed > 0, "{suite}: nothing was checked");
    }

    fn note(&mut self, kind: &'static str, err: f64) {
        match self.worst.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, w)) => *w = w.max(err),
            None => self.worst.push((kind, err)),
        }
    }
}
