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
        // `err` is never NaN (a NaN element counts as an infinite error).
        let failure = match rule.tol {
            Tol::Abs(tol) if err > tol => {
                Some(format!("{what}: max |got - want| = {err:.3e} > {tol:.0e}"))
            }
            Tol::Rel { rtol, atol } => {
                let max_want = want.iter().fold(0.0f64, |m, &x| m.max(x.into().abs()));
                (err > rtol * max_want && err > atol).then(|| {
                    format!("{what}: max|got - want| = {err:.3e}, max|want| = {max_want:.3e}")
                })
            }
            Tol::Exact if err != 0.0 => Some(format!(
                "{what}: max |got - want| = {err:.3e}, must be exact"
            )),
            _ => None,
        };
        match failure {
            None => {
                self.passed += 1;
                true
            }
            Some(why) => {
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
    #[track_caller]
    pub fn finish(self, suite: &str) {
        let _ = writeln!(
            std::io::stdout(),
            "{suite}: {} checks passed, {} failed",
            self.passed,
            self.failed
        );
        self.assert_all_passed(suite);
    }

    /// Fails on any failure, or when nothing was checked ([`Checks::finish`] without the
    /// printed line).
    #[track_caller]
    pub fn assert_all_passed(&self, suite: &str) {
        let (passed, failed) = (self.passed, self.failed);
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

#[cfg(test)]
mod tests {
    use ndarray::{arr1, ArrayD, IxDyn};

    use super::{Checks, Rule};

    fn want(v: &[f64], shape: &[usize]) -> ArrayD<f64> {
        ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
    }

    #[test]
    fn rules_pass_and_fail_at_their_tolerance() {
        let mut c = Checks::new();
        let w = want(&[1.0, -2.0], &[2]);
        assert!(c.compare(&Rule::abs("a", 1e-3), "in", &[1.0009, -2.0], &[2], &w));
        assert!(!c.compare(&Rule::abs("a", 1e-3), "out", &[1.0011, -2.0], &[2], &w));
        // Relative to the largest magnitude (2): 1e-3 * 2.
        assert!(c.compare(&Rule::rel("r", 1e-3, 0.0), "in", &[1.0019, -2.0], &[2], &w));
        assert!(!c.compare(&Rule::rel("r", 1e-3, 0.0), "out", &[1.0021, -2.0], &[2], &w));
        // The absolute floor, for tensors near zero.
        let tiny = want(&[1e-9], &[1]);
        assert!(c.compare(&Rule::rel("r", 1e-4, 1e-6), "floor", &[5e-7], &[1], &tiny));
        assert!(c.compare(&Rule::exact("e"), "same", &[1.0f32, -2.0], &[2], &w));
        assert!(!c.compare(&Rule::exact("e"), "not", &[1.0, -2.0 + 1e-12], &[2], &w));
        // NaN never passes.
        assert!(!c.compare(&Rule::abs("a", 1e9), "nan", &[f64::NAN, -2.0], &[2], &w));
        assert_eq!((c.passed(), c.failed()), (4, 4));
    }

    #[test]
    fn shapes_must_agree_unless_by_elements() {
        let mut c = Checks::new();
        let w = want(&[1.0, 2.0, 3.0, 4.0], &[4]);
        let got = [1.0, 2.0, 3.0, 4.0];
        assert!(!c.compare(&Rule::abs("a", 0.0), "2x2", &got, &[2, 2], &w));
        assert!(c.compare(&Rule::abs("a", 0.0).by_elements(), "2x2", &got, &[2, 2], &w));
        assert!(!c.compare(&Rule::abs("a", 0.0).by_elements(), "3", &got[..3], &[3], &w));
        assert!(c.compare_arrays(&Rule::abs("a", 0.0), "arr", &arr1(&got).into_dyn(), &w));
        assert!(c.truth("ok", true) && !c.truth("not ok", false));
        assert_eq!((c.passed(), c.failed()), (3, 3));
    }

    #[test]
    #[should_panic(expected = "1 checks failed")]
    fn finish_fails_on_a_failure() {
        let mut c = Checks::new();
        c.truth("fine", true);
        c.fail("broken");
        // Not `finish`: its line would read like a real suite's failure in the report.
        c.assert_all_passed("selftest");
    }

    #[test]
    #[should_panic(expected = "nothing was checked")]
    fn finish_fails_when_nothing_was_checked() {
        Checks::new().assert_all_passed("selftest");
    }
}
