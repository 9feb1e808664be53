use scope::{variable_scope, Variable};
/// A config the model keeps.
#[derive(Debug)]
pub struct Config {
    pub width: usize,
}
/// A layer that keeps its config: its forward pass needs no other.
pub struct Layer {
    pub cfg: Config,
    pub w: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Layer {
    /// Builds the model in the variable scope `layer`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        cfg: Config,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "layer", (cfg,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Layer {
    type Args = (Config,);
    const SCOPE: &'static str = "layer";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "w",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[cfg.width]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (cfg,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_w = __scope_reg
                    .get_variable(
                        "w",
                        ::scope::__private::VarSpec::new().shape([cfg.width]),
                    )?;
                ::core::result::Result::Ok(Self {
                    w: __scope_field_w,
                    cfg,
                    __scope_handle_put_variable_scope_above_derives: ::core::clone::Clone::clone(
                        __scope_guard.scope(),
                    ),
                })
            },
        )
    }
    fn scope(&self) -> &::scope::__private::VariableScope {
        &self.__scope_handle_put_variable_scope_above_derives
    }
    fn for_each_variable(
        &self,
        __scope_f: &mut dyn ::core::ops::FnMut(&::scope::__private::Variable),
    ) {
        __scope_f(&self.w);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Layer {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Layer")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("w", &self.w)
            .finish()
    }
}
fn main() {}
