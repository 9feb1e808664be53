use scope::{variable_scope, CustomGetter, Variable};
/// TF-Slim's renaming getter, given once.
pub fn rename_getter() -> CustomGetter {
    CustomGetter::rename([("kernel", "weights"), ("bias", "biases")])
}
/// A layer whose scope renames `kernel`/`bias` and regularizes everything by default.
pub struct Fc {
    pub kernel: Variable,
    /// Not regularized by the scope's default: its own regularizer replaces it.
    pub bias: Variable,
    /// Kept out of the global collection, as TF's `collections=[LOCAL_VARIABLES]`.
    pub step: Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Fc {
    /// Builds the model in the variable scope `fc`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "fc", (n,))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Fc {
    type Args = (usize,);
    const SCOPE: &'static str = "fc";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Defaults {
            custom_getter: ::core::option::Option::Some("rename_getter()"),
            regularizer: ::core::option::Option::Some("l2(0.1)"),
        },
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "kernel",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[n, n]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::Some("clip_by_norm(1)"),
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "bias",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[n]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::Some("l1_l2(0.01, 0.0)"),
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::Some(
                &[
                    ::scope::__private::keys::GLOBAL_VARIABLES,
                    ::scope::__private::keys::MODEL_VARIABLES,
                    "biases",
                ],
            ),
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "step",
            dtype: ::core::option::Option::Some(::scope::__private::DType::I64),
            trainable: false,
            shape: ::core::option::Option::Some("[]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::Some(
                &[::scope::__private::keys::LOCAL_VARIABLES],
            ),
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n,): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter_with(
                    __scope_reg,
                    __scope_name,
                    ::core::option::Option::Some(
                        ::scope::__private::value_of::<
                            ::scope::__private::CustomGetter,
                            _,
                        >(rename_getter()),
                    ),
                    ::core::option::Option::Some(
                        ::scope::__private::Regularizer::l2(0.1)?,
                    ),
                )?;
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new()
                            .shape([n, n])
                            .constraint(
                                ::scope::__private::Constraint::clip_by_norm(1.0),
                            ),
                    )?;
                let __scope_field_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new()
                            .shape([n])
                            .initializer(::scope::__private::Initializer::Zeros)
                            .regularizer(
                                ::scope::__private::Regularizer::l1_l2(0.01, 0.0)?,
                            )
                            .collections::<
                                &'static str,
                            >([
                                ::scope::__private::keys::GLOBAL_VARIABLES,
                                ::scope::__private::keys::MODEL_VARIABLES,
                                "biases",
                            ]),
                    )?;
                let __scope_field_step = __scope_reg
                    .get_variable(
                        "step",
                        ::scope::__private::VarSpec::new()
                            .shape([0usize; 0])
                            .dtype(::scope::__private::DType::I64)
                            .initializer(::scope::__private::Initializer::Zeros)
                            .trainable(false)
                            .collections::<
                                &'static str,
                            >([::scope::__private::keys::LOCAL_VARIABLES]),
                    )?;
                ::core::result::Result::Ok(Self {
                    kernel: __scope_field_kernel,
                    bias: __scope_field_bias,
                    step: __scope_field_step,
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
        __scope_f(&self.kernel);
        __scope_f(&self.bias);
        __scope_f(&self.step);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Fc {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Fc")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("kernel", &self.kernel)
            .field("bias", &self.bias)
            .field("step", &self.step)
            .finish()
    }
}
fn main() {}
