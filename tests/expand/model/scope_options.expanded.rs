use scope::{model, CustomGetter, Regularizer};
/// A model whose scope takes a getter and a regularizer from its arguments, and whose
/// sub-scope adds its own.
pub struct Slim {
    /// Variable `fc1/kernel`: shape `[n, n]`, constrained by `non_neg`.
    pub fc1_kernel: ::scope::__private::Variable,
    /// Variable `fc1/bias`: shape `[n]`, `zeros`.
    pub fc1_bias: ::scope::__private::Variable,
    /// Variable `out`: shape `[n]`, regularized by `Regularizer::l1(0.1).unwrap()`, constrained by `clip_by_value(-1, 1)`.
    pub out: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Slim {
    /// Builds the model in the variable scope `slim`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
        getter: CustomGetter,
        penalty: Regularizer,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "slim", (n, getter, penalty))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Slim {
    type Args = (usize, CustomGetter, Regularizer);
    const SCOPE: &'static str = "slim";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Defaults {
            custom_getter: ::core::option::Option::None,
            regularizer: ::core::option::Option::Some("&penalty"),
        },
        ::scope::__private::ManifestEntry::Scope {
            name: "fc1",
            entries: &[
                ::scope::__private::ManifestEntry::Defaults {
                    custom_getter: ::core::option::Option::Some("&getter"),
                    regularizer: ::core::option::Option::Some("l2(0.5)"),
                },
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "kernel",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[n, n]"),
                    initializer: ::core::option::Option::None,
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::Some("non_neg"),
                    collections: ::core::option::Option::None,
                }),
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "bias",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[n]"),
                    initializer: ::core::option::Option::Some("zeros"),
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
            ],
        },
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "out",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[n]"),
            initializer: ::core::option::Option::None,
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::Some("Regularizer::l1(0.1).unwrap()"),
            constraint: ::core::option::Option::Some("clip_by_value(-1, 1)"),
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n, getter, penalty): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter_with(
                    __scope_reg,
                    __scope_name,
                    ::core::option::Option::None,
                    ::core::option::Option::Some(
                        ::scope::__private::value_of::<
                            ::scope::__private::Regularizer,
                            _,
                        >(&penalty),
                    ),
                )?;
                let __scope_sub_1 = __scope_reg
                    .variable_scope("fc1")
                    .custom_getter(
                        ::scope::__private::value_of::<
                            ::scope::__private::CustomGetter,
                            _,
                        >(&getter),
                    )
                    .regularizer(::scope::__private::Regularizer::l2(0.5)?)
                    .enter()?;
                let __scope_field_fc1_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new()
                            .shape([n, n])
                            .constraint(::scope::__private::Constraint::non_neg()),
                    )?;
                let __scope_field_fc1_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new()
                            .shape([n])
                            .initializer(::scope::__private::Initializer::Zeros),
                    )?;
                __scope_sub_1.exit();
                let __scope_field_out = __scope_reg
                    .get_variable(
                        "out",
                        ::scope::__private::VarSpec::new()
                            .shape([n])
                            .regularizer(
                                ::scope::__private::value_of::<
                                    ::scope::__private::Regularizer,
                                    _,
                                >(Regularizer::l1(0.1).unwrap()),
                            )
                            .constraint(
                                ::scope::__private::Constraint::clip_by_value(-1.0, 1.0),
                            ),
                    )?;
                ::core::result::Result::Ok(Self {
                    fc1_kernel: __scope_field_fc1_kernel,
                    fc1_bias: __scope_field_fc1_bias,
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
        __scope_f(&self.fc1_kernel);
        __scope_f(&self.fc1_bias);
        __scope_f(&self.out);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Slim {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Slim")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("fc1_kernel", &self.fc1_kernel)
            .field("fc1_bias", &self.fc1_bias)
            .field("out", &self.out)
            .finish()
    }
}
fn main() {}
