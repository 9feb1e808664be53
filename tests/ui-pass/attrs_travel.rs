//! Attributes that travel to the generated impls: `#[cfg]` and `#[deprecated]` (issue #16,
//! 6), and a hand-written model whose `Args` is a config struct, nested with `args = expr`
//! (issue #16, 7).
#![deny(warnings)]

use scope::{Model, Registry, VarSpec, Variable, VariableScope};

scope::model! {
    /// Compiled out: its impls must be too.
    #[cfg(any())]
    pub struct Gone("gone") {
        w: [1],
    }

    /// Kept.
    #[cfg(all())]
    pub struct Kept("kept") {
        w: [1],
    }

    /// Old; its own generated code raises no warning.
    #[deprecated(note = "use Kept")]
    pub struct Old("old") {
        w: [1],
    }
}

/// Sizes, the `Args` of a hand-written model.
#[derive(Clone, Copy)]
pub struct Cfg {
    /// Width.
    pub units: usize,
}

/// A hand-written layer configured by a struct, as `Model`'s docs describe.
#[derive(Debug)]
pub struct Custom {
    scope: VariableScope,
    /// Its one variable.
    pub w: Variable,
}

impl Model for Custom {
    type Args = Cfg;
    const SCOPE: &'static str = "custom";
    const MANIFEST: &'static [scope::ManifestEntry] = &[];

    fn build_in(reg: &Registry, scope: &str, cfg: Cfg) -> scope::Result<Self> {
        reg.variable_scope(scope).with(|vs| {
            let w = reg.get_variable("w", VarSpec::new().shape([cfg.units]))?;
            Ok(Custom {
                scope: vs.clone(),
                w,
            })
        })
    }

    fn scope(&self) -> &VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        f(&self.w);
    }
}

scope::model! {
    /// Nests the hand-written model with its config as `Args`.
    pub struct Outer("outer", cfg: Cfg, n: usize) {
        #[model(args = cfg)]
        one: model Custom,
        #[model(repeat = n, scope = "many", args = Cfg { units: cfg.units + 1 })]
        many: model Custom,
    }
}

/// The same with `#[variable_scope]`.
#[scope::variable_scope("attr_outer", cfg: Cfg)]
pub struct AttrOuter {
    /// The nested layer.
    #[model(args = cfg)]
    pub one: Custom,
}

fn main() {
    let reg = Registry::new();
    Kept::new(&reg).expect("builds");
    let outer = Outer::new(&reg, Cfg { units: 2 }, 2).expect("builds");
    assert_eq!(outer.one.w.name(), "outer/custom/w");
    assert_eq!(outer.many[1].w.shape(), [3]);
    let attr = AttrOuter::new(&reg, Cfg { units: 4 }).expect("builds");
    assert_eq!(attr.one.w.shape(), [4]);
    #[allow(deprecated)]
    let old = Old::new(&reg).expect("builds");
    #[allow(deprecated)]
    let name = old.w.name().to_owned();
    assert_eq!(name, "old/w");
}
