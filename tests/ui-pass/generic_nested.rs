// A nested model of a generic type: the parentheses inside `<..>` belong to the type, the
// last ones are the arguments (issue #16, 7).
use std::marker::PhantomData;

use scope::{model, ManifestEntry, Model, Registry, VarSpec, Variable, VariableScope};

/// A hand-written model generic over a marker type.
#[derive(Debug)]
pub struct Pair<T> {
    scope: VariableScope,
    w: Variable,
    marker: PhantomData<T>,
}

impl<T: std::fmt::Debug> Model for Pair<T> {
    type Args = ();
    const SCOPE: &'static str = "pair";
    const MANIFEST: &'static [ManifestEntry] = &[];

    fn build_in(reg: &Registry, name: &str, (): ()) -> scope::Result<Self> {
        reg.variable_scope(name).with(|vs| {
            Ok(Pair {
                scope: vs.clone(),
                w: reg.get_variable("w", VarSpec::new().shape([2]))?,
                marker: PhantomData,
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

model! {
    /// Holds two pairs.
    pub struct Holder("holder") {
        first: model Pair<(u8, u16)>(),
        #[model(scope = "second")]
        second: model Pair<fn(u8) -> (u8, u8)>,
    }
}

fn main() {
    let reg = Registry::new();
    let holder = Holder::new(&reg).unwrap();
    assert_eq!(holder.first.w.name(), "holder/pair/w");
    assert_eq!(holder.second.w.name(), "holder/second/w");
}
