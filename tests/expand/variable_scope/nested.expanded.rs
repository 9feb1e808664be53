use scope::{variable_scope, Variable};
/// Sizes of a layer.
#[derive(Clone, Copy)]
pub struct Config {
    pub inputs: usize,
    pub units: usize,
}
pub struct Dense {
    pub weights: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Dense {
    /// Builds the model in the variable scope `dense`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        cfg: Config,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "dense", (cfg,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Dense {
    type Args = (Config,);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "weights",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[cfg.inputs, cfg.units]"),
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
                let __scope_field_weights = __scope_reg
                    .get_variable(
                        "weights",
                        ::scope::__private::VarSpec::new().shape([cfg.inputs, cfg.units]),
                    )?;
                ::core::result::Result::Ok(Self {
                    weights: __scope_field_weights,
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
        __scope_f(&self.weights);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Dense {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Dense")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("weights", &self.weights)
            .finish()
    }
}
/// Two layers: one in an overridden scope, one in its type's default scope.
pub struct Mlp {
    pub first: Dense,
    pub out: Dense,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Mlp {
    /// Builds the model in the variable scope `mlp`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        inputs: usize,
        hidden: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "mlp", (inputs, hidden))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Mlp {
    type Args = (usize, usize);
    const SCOPE: &'static str = "mlp";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Model {
            scope: "hidden_layer",
            type_name: "Dense",
            manifest: <Dense as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Model {
            scope: <Dense as ::scope::__private::Model>::SCOPE,
            type_name: "Dense",
            manifest: <Dense as ::scope::__private::Model>::MANIFEST,
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (inputs, hidden): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_first = {
                    let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                        Config { inputs, units: hidden },
                    );
                    <Dense as ::scope::__private::Model>::build_in(
                        __scope_reg,
                        "hidden_layer",
                        __scope_args,
                    )?
                };
                let __scope_field_out = {
                    let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                        Config { inputs: hidden, units: 1 },
                    );
                    <Dense as ::scope::__private::Model>::build_in(
                        __scope_reg,
                        <Dense as ::scope::__private::Model>::SCOPE,
                        __scope_args,
                    )?
                };
                ::core::result::Result::Ok(Self {
                    first: __scope_field_first,
                    out: __scope_field_out,
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
        <Dense as ::scope::__private::Model>::for_each_variable(&self.first, __scope_f);
        <Dense as ::scope::__private::Model>::for_each_variable(&self.out, __scope_f);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Mlp {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Mlp")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("first", (&&::scope::__private::DebugPart(&self.first)).debug_part())
            .field("out", (&&::scope::__private::DebugPart(&self.out)).debug_part())
            .finish()
    }
}
fn main() {}
