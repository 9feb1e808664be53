use scope::{model, Variable};
/// A layer.
pub struct Dense {
    /// Variable `kernel`: shape `[inputs, units]`, `truncated_normal(0.0, 0.02)`.
    pub kernel: ::scope::__private::Variable,
    /// Variable `bias`: shape `[units]`, `zeros`.
    pub bias: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Dense {
    /// Builds the model in the variable scope `dense`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        inputs: usize,
        units: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(reg, "dense", (inputs, units))
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Dense {
    type Args = (usize, usize);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "kernel",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[inputs, units]"),
            initializer: ::core::option::Option::Some("truncated_normal(0.0, 0.02)"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
            name: "bias",
            dtype: ::core::option::Option::None,
            trainable: true,
            shape: ::core::option::Option::Some("[units]"),
            initializer: ::core::option::Option::Some("zeros"),
            partitioner: ::core::option::Option::None,
            regularizer: ::core::option::Option::None,
            constraint: ::core::option::Option::None,
            collections: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (inputs, units): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_field_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new()
                            .shape([inputs, units])
                            .initializer(
                                ::scope::__private::Initializer::truncated_normal(0.0, 0.02),
                            ),
                    )?;
                let __scope_field_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new()
                            .shape([units])
                            .initializer(::scope::__private::Initializer::Zeros),
                    )?;
                ::core::result::Result::Ok(Self {
                    kernel: __scope_field_kernel,
                    bias: __scope_field_bias,
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
            .field("kernel", &self.kernel)
            .field("bias", &self.bias)
            .finish()
    }
}
/// Every form of issue #10.
pub struct Encoder {
    /// Nested model in `self/`, in a scope named after `query` by the `default_name` counters (`dense`, `dense_1`, ...).
    pub self_attn_query: Dense,
    /// Nested models in scopes `layer_{i}`, for `i` in `0..n`.
    pub layer: ::std::vec::Vec<Dense>,
    /// Nested model, in a scope named after its type's default scope by the `default_name` counters (`dense`, `dense_1`, ...); built only when `flag`.
    pub pooler: ::core::option::Option<Dense>,
    /// Variable `token_type`: shape `[2, width]`, `truncated_normal(0.0, range)`; created only when `flag`.
    pub token_type: ::core::option::Option<::scope::__private::Variable>,
    /// Another model's variable, `table`, checked to have shape `[7, width]`; not created here.
    pub output_weights: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Encoder {
    /// Builds the model in the variable scope `bert`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        n: usize,
        width: usize,
        flag: bool,
        range: f32,
        table: Variable,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(
            reg,
            "bert",
            (n, width, flag, range, table),
        )
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Encoder {
    type Args = (usize, usize, bool, f32, Variable);
    const SCOPE: &'static str = "bert";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Scope {
            name: "self",
            entries: &[
                ::scope::__private::ManifestEntry::DefaultNamed {
                    base: "query",
                    type_name: "Dense",
                    manifest: <Dense as ::scope::__private::Model>::MANIFEST,
                },
            ],
        },
        ::scope::__private::ManifestEntry::Repeated {
            pattern: "layer_{i}",
            count: "n",
            type_name: "Dense",
            manifest: <Dense as ::scope::__private::Model>::MANIFEST,
        },
        ::scope::__private::ManifestEntry::Optional {
            condition: "flag",
            entry: &::scope::__private::ManifestEntry::DefaultNamed {
                base: <Dense as ::scope::__private::Model>::SCOPE,
                type_name: "Dense",
                manifest: <Dense as ::scope::__private::Model>::MANIFEST,
            },
        },
        ::scope::__private::ManifestEntry::Optional {
            condition: "flag",
            entry: &::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                name: "token_type",
                dtype: ::core::option::Option::None,
                trainable: true,
                shape: ::core::option::Option::Some("[2, width]"),
                initializer: ::core::option::Option::Some(
                    "truncated_normal(0.0, range)",
                ),
                partitioner: ::core::option::Option::None,
                regularizer: ::core::option::Option::None,
                constraint: ::core::option::Option::None,
                collections: ::core::option::Option::None,
            }),
        },
        ::scope::__private::ManifestEntry::Tied(::scope::__private::TiedManifest {
            field: "output_weights",
            owner: "table",
            shape: "[7, width]",
            dtype: ::core::option::Option::None,
        }),
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (n, width, flag, range, table): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_field_output_weights = ::scope::__private::tied_variable(
                    __scope_reg,
                    __scope_name,
                    "output_weights",
                    &table,
                    &[7, width],
                    ::core::option::Option::None,
                )?;
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_sub_1 = __scope_reg.variable_scope("self").enter()?;
                let __scope_field_self_attn_query = {
                    let __scope_layer = ::scope::__private::ModelScope::enter_default_name(
                        __scope_reg,
                        "query",
                    )?;
                    let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                        width,
                        width,
                    );
                    <Dense as ::scope::__private::Model>::build_here(
                        __scope_reg,
                        __scope_args,
                    )?
                };
                __scope_sub_1.exit();
                let __scope_field_layer = {
                    let __scope_count: usize = n;
                    let mut __scope_models = ::std::vec::Vec::new();
                    for __scope_i in 0..__scope_count {
                        let __scope_element = ::scope::__private::repeated_scope_name(
                            "layer_{i}",
                            __scope_i,
                        );
                        let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                            width,
                            width,
                        );
                        __scope_models
                            .push(
                                <Dense as ::scope::__private::Model>::build_in(
                                    __scope_reg,
                                    &__scope_element,
                                    __scope_args,
                                )?,
                            );
                    }
                    __scope_models
                };
                let __scope_field_pooler = if flag {
                    ::core::option::Option::Some({
                        let __scope_layer = ::scope::__private::ModelScope::enter_default_name(
                            __scope_reg,
                            <Dense as ::scope::__private::Model>::SCOPE,
                        )?;
                        let __scope_args: <Dense as ::scope::__private::Model>::Args = (
                            width,
                            width,
                        );
                        <Dense as ::scope::__private::Model>::build_here(
                            __scope_reg,
                            __scope_args,
                        )?
                    })
                } else {
                    ::core::option::Option::None
                };
                let __scope_field_token_type = if flag {
                    ::core::option::Option::Some(
                        __scope_reg
                            .get_variable(
                                "token_type",
                                ::scope::__private::VarSpec::new()
                                    .shape([2, width])
                                    .initializer(
                                        ::scope::__private::Initializer::truncated_normal(
                                            0.0,
                                            ::scope::__private::float_arg(range),
                                        ),
                                    ),
                            )?,
                    )
                } else {
                    ::core::option::Option::None
                };
                ::core::result::Result::Ok(Self {
                    self_attn_query: __scope_field_self_attn_query,
                    layer: __scope_field_layer,
                    pooler: __scope_field_pooler,
                    token_type: __scope_field_token_type,
                    output_weights: __scope_field_output_weights,
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
        <Dense as ::scope::__private::Model>::for_each_variable(
            &self.self_attn_query,
            __scope_f,
        );
        for __scope_m in &self.layer {
            <Dense as ::scope::__private::Model>::for_each_variable(
                __scope_m,
                __scope_f,
            );
        }
        if let ::core::option::Option::Some(__scope_m) = &self.pooler {
            <Dense as ::scope::__private::Model>::for_each_variable(
                __scope_m,
                __scope_f,
            );
        }
        if let ::core::option::Option::Some(__scope_v) = &self.token_type {
            __scope_f(__scope_v);
        }
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        use ::scope::__private::{DebugModelPart as _, DebugNotAModel as _};
        f.debug_struct("Encoder")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field(
                "self_attn_query",
                (&&::scope::__private::DebugPart(&self.self_attn_query)).debug_part(),
            )
            .field("layer", (&&::scope::__private::DebugPart(&self.layer)).debug_part())
            .field(
                "pooler",
                (&&::scope::__private::DebugPart(&self.pooler)).debug_part(),
            )
            .field("token_type", &self.token_type)
            .field("output_weights", &self.output_weights)
            .finish()
    }
}
fn main() {}
