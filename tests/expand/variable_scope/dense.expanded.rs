use scope::{variable_scope, Variable};
/// A dense layer: `x @ weights + biases`.
pub struct Dense {
    /// The weights.
    pub weights: Variable,
    /// The biases.
    pub biases: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Dense {
    /// Builds the model in the variable scope `dense`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        in_size: usize,
        units: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "dense", (in_size, units))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Dense {
    type Args = (usize, usize);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "weights",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[in_size, units]"),
            initializer: ::core::option::Option::Some("random_normal(0.0, 0.5)"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "biases",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[units]"),
            initializer: ::core::option::Option::Some("constant(0.1)"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (in_size, units): Self::Args,
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
                        ::scope::__private::VarSpec::new()
                            .shape([in_size, units])
                            .initializer(
                                ::scope::__private::Initializer::random_normal(0.0, 0.5),
                            ),
                    )?;
                let __scope_field_biases = __scope_reg
                    .get_variable(
                        "biases",
                        ::scope::__private::VarSpec::new()
                            .shape([units])
                            .initializer(::scope::__private::Initializer::Constant(0.1)),
                    )?;
                ::core::result::Result::Ok(Self {
                    weights: __scope_field_weights,
                    biases: __scope_field_biases,
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
        __scope_f(&self.biases);
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
            .field("biases", &self.biases)
            .finish()
    }
}
fn main() {}
